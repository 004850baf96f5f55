# facesym: do expression classifiers change their output when only facial symmetry changes?
# Büchner et al., "Facing Asymmetry", ACCV 2024 — synthetic interventions on a morphable face model.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/identities.smk"


rule all:
    input:
        identity_files(),
