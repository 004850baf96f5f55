# facesym: do expression classifiers change their output when only facial symmetry changes?
# Büchner et al., "Facing Asymmetry", ACCV 2024 — synthetic interventions on a morphable face model.
from snakemake.utils import min_version

min_version("9.0")


# Snakemake's own message for a broken config file names neither the file nor the line. Files given with
# --configfile are read before this file runs: run.sh checks those (python -m facesym.configfiles).
from pathlib import Path

from facesym.configfiles import ConfigFileError, read_config_file

if Path("config/config.yaml").is_file():
    try:
        read_config_file("config/config.yaml")
    except ConfigFileError as error:
        raise WorkflowError(str(error)) from None


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/resources.smk"
include: "rules/identities.smk"
include: "rules/classifiers.smk"
include: "rules/readability.smk"
include: "rules/synthesis.smk"
include: "rules/stats.smk"
include: "rules/figures.smk"
include: "rules/experiment1.smk"
include: "rules/properties.smk"
include: "rules/deepfn.smk"


# Every per-job file is listed, not only the tables: Snakemake does not rebuild a deleted intermediate file
# whose dependants are up to date unless it is requested, and `snakemake all` should repair any gap.
# A config without classifiers has only its identities to build.
rule all:
    input:
        identity_files(),
        (
            [
                TABLE2["table2"],
                TABLE2["table_s1"],
                CLASSIFIER_CHECKS,
                PROTOTYPES["labels"],
                per_job(SURFACES),
                per_job(PERMUTATIONS),
                figure_targets(),
                EXPERIMENT1_TARGETS,
                PROPERTY_TARGETS,
            ]
            if CLASSIFIERS
            else []
        ),
