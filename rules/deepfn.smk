# Seed 004 (DeepFN, Hernandez et al.) on the FACS face: AU recognition within vs across groups (person, skin type,
# face shape, render dataset, palsy), with and without normalisation onto a template face, and the AU outputs'
# response to symmetry. An experiment of its own: `snakemake --cores 2 results/deepfn/table.csv`; not in `rule all`.
from facesym.deepfn.protocol import config_problems

_deepfn_problems = config_problems(config)
if _deepfn_problems:
    raise WorkflowError(
        "invalid configuration:\n  - " + "\n  - ".join(_deepfn_problems)
    )

DEEPFN_NORMALISATIONS = config["deepfn"]["normalisations"]
DEEPFN_LEARNED = [n for n in DEEPFN_NORMALISATIONS if n in ("deepfn", "supervised")]


wildcard_constraints:
    normalisation="none|histeq|deepfn|supervised|oracle",
    method="deepfn|supervised",


rule deepfn_corpus:
    output:
        DEEPFN["corpus"],
    log:
        "logs/deepfn/corpus.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=30,
        mem_mb=4000,
    params:
        config=deepfn_config(),
    script:
        "../workflow/scripts/deepfn_corpus.py"


# DeepFN's autoencoder (self-supervised) or its supervised upper bound: every analysed subject onto the template.
rule deepfn_normalise:
    input:
        DEEPFN["corpus"],
    output:
        DEEPFN["normalised"],
    log:
        "logs/deepfn/normalise_{method}.log",
    conda:
        "../envs/facesym.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        config=deepfn_config("autoencoder"),
    script:
        "../workflow/scripts/deepfn_normalise.py"


# The protocol for one normalisation: every condition's splits and repetitions, and the AU symmetry grid.
rule deepfn_recognise:
    input:
        corpus=DEEPFN["corpus"],
        normalised=lambda wildcards: (
            [DEEPFN["normalised"].format(method=wildcards.normalisation)]
            if wildcards.normalisation in ("deepfn", "supervised")
            else []
        ),
    output:
        scores=DEEPFN["scores"],
        symmetry=DEEPFN["symmetry"],
    log:
        "logs/deepfn/recognise_{normalisation}.log",
    conda:
        "../envs/facesym.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        config=deepfn_config("protocol", "recogniser"),
        slot=lambda wildcards: deepfn_slot(wildcards.normalisation),
    script:
        "../workflow/scripts/deepfn_recognise.py"


rule deepfn_table:
    input:
        corpus=DEEPFN["corpus"],
        scores=expand(
            DEEPFN["scores"],
            normalisation=DEEPFN_NORMALISATIONS,
        ),
        symmetry=expand(
            DEEPFN["symmetry"],
            normalisation=DEEPFN_NORMALISATIONS,
        ),
        normalised=expand(DEEPFN["normalised"], method=DEEPFN_LEARNED),
    output:
        table=DEEPFN["table"],
        symmetry=DEEPFN["symmetry_table"],
        figure=report(
            DEEPFN["figure"],
            caption="../workflow/report/deepfn_groups.rst",
            category="DeepFN",
        ),
        figure_values=DEEPFN["figure_values"],
        examples=report(
            DEEPFN["examples"],
            caption="../workflow/report/deepfn_examples.rst",
            category="DeepFN",
        ),
    log:
        "logs/deepfn/table.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        config=job_config("identities", "deepfn", "statistics"),
        methods=DEEPFN_LEARNED,
        expected=[deepfn_slot(n) for n in DEEPFN_NORMALISATIONS],
    script:
        "../workflow/scripts/deepfn_table.py"
