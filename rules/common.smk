# Validation before any job is planned, and the helpers every rule file shares.
import sys
from pathlib import Path

from facesym.classifiers.entries import model_files
from facesym.cohort import ManifestError
from facesym.cohort.checks import check_cohort_config
from facesym.config import (
    ConfigError,
    classifier_entry,
    load_schema,
    population_resolution_warning,
    validate_config,
)
from facesym.identities import identity_names
from facesym.resources import RESOURCES, ResourceError, check_placed

# Model files the workflow fetches itself (rules/resources.smk), with the name of their recipe in
# facesym.resources.RESOURCES. A config entry may name them before they exist.
RESOURCE_FILES = {"resources/fer2013/emotion_model.hdf5": "fer2013"}

try:
    # a file placed by hand where a fetched one belongs must be that file (before its header is read below)
    for _file, _name in RESOURCE_FILES.items():
        check_placed(RESOURCES[_name], _file)
    _validated = validate_config(
        config,
        load_schema(
            Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
        ),
        base_dir=Path.cwd(),
        provided=RESOURCE_FILES,
    )
    # the cohort of Experiment 1 (every manifest row) is checked before any job too
    check_cohort_config(_validated, Path.cwd())
except (ConfigError, ManifestError, ResourceError) as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)
if config.get("classifiers") and (_warning := population_resolution_warning(config)):
    print(f"facesym warning: {_warning}", file=sys.stderr)

IDENTITIES = identity_names(config["identities"]["count"])


wildcard_constraints:
    identity=r"id\d{4}",
    # a classifier name never holds a slash (schema), so results/surfaces/{property}/{classifier}/… stays apart
    classifier=r"[A-Za-z0-9_-]+",


def identity_files():
    return expand("results/identities/{identity}.json", identity=IDENTITIES)


CLASSIFIERS = [entry["name"] for entry in config.get("classifiers", [])]


def classifier_params(wildcards):
    return classifier_entry(config, wildcards.classifier)


def classifier_files(wildcards):
    """The weights a job using this classifier reads: trained in the pipeline, or the user's files."""
    return model_files(classifier_entry(config, wildcards.classifier))


def per_job(pattern):
    """Every (classifier, identity) file of a per-job stage."""
    return expand(pattern, classifier=CLASSIFIERS, identity=IDENTITIES)


def job_config(*sections):
    """The config values a job depends on: the seed, the device and the named sections.

    Passed as a param, so a change to one of them (and only them) reruns the job. The identity count is left
    out: adding identities must not rerun the jobs of existing ones.
    """
    values = {
        "seed": config["seed"],
        "device": config["device"],
        **{s: config[s] for s in sections},
    }
    if "identities" in values:
        values["identities"] = {
            k: v for k, v in values["identities"].items() if k != "count"
        }
    return values


# Jobs that render and classify. On a cluster (profiles/slurm) each asks for one GPU, unless the config pins the
# CPU, and for its threads as CPUs beside the GPU (the renderer runs there); local runs do not constrain `gpu`.
# Wall time and memory grow with the attempt, so a retry after a timeout or out-of-memory kill asks for more.
torch_job_resources = {
    "runtime": lambda wildcards, attempt: 30 * attempt,
    "mem_mb": lambda wildcards, attempt: 8000 * attempt,
    "gpu": 0 if config["device"] == "cpu" else 1,
    "cpus_per_gpu": lambda wildcards, threads: threads,
}


def deepfn_config(*keep):
    """The config a deepfn job depends on: the corpus settings plus the named sub-sections, so that e.g. a new
    recogniser setting reruns neither the rendering nor the autoencoders."""
    later = ("normalisations", "protocol", "recogniser", "autoencoder")
    section = {k: v for k, v in config["deepfn"].items() if k not in later or k in keep}
    return {**job_config("face_model", "identities", "statistics"), "deepfn": section}
