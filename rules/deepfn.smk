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
        "results/deepfn/corpus.h5",
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
        "results/deepfn/corpus.h5",
    output:
        "results/deepfn/normalised/{method}.h5",
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
        corpus="results/deepfn/corpus.h5",
        normalised=lambda wildcards: (
            [f"results/deepfn/normalised/{wildcards.normalisation}.h5"]
            if wildcards.normalisation in ("deepfn", "supervised")
            else []
        ),
    output:
        scores="results/deepfn/scores/{normalisation}.csv",
        symmetry="results/deepfn/symmetry/{normalisation}.csv",
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
    script:
        "../workflow/scripts/deepfn_recognise.py"


rule deepfn_table:
    input:
        corpus="results/deepfn/corpus.h5",
        scores=expand(
            "results/deepfn/scores/{normalisation}.csv",
            normalisation=DEEPFN_NORMALISATIONS,
        ),
        symmetry=expand(
            "results/deepfn/symmetry/{normalisation}.csv",
            normalisation=DEEPFN_NORMALISATIONS,
        ),
        normalised=expand(
            "results/deepfn/normalised/{method}.h5", method=DEEPFN_LEARNED
        ),
    output:
        table="results/deepfn/table.csv",
        symmetry="results/deepfn/symmetry.csv",
        figure=report(
            "results/deepfn/fig_groups.png",
            caption="../workflow/report/deepfn_groups.rst",
            category="DeepFN",
        ),
        figure_values="results/deepfn/fig_groups.csv",
        examples=report(
            "results/deepfn/examples.png",
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
    script:
        "../workflow/scripts/deepfn_table.py"
