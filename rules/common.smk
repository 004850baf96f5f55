# Validation before any job is planned, and the helpers every rule file shares.
from pathlib import Path

from facesym.config import ConfigError, load_schema, validate_config
from facesym.identities import identity_names


try:
    _validated = validate_config(
        config,
        load_schema(Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"),
        base_dir=Path.cwd(),
    )
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)

IDENTITIES = identity_names(config["identities"]["count"])


wildcard_constraints:
    identity=r"id\d{4}",


def identity_files():
    return expand("results/identities/{identity}.json", identity=IDENTITIES)
