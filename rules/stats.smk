# Paper Eq. 6–7: impact scores of the intervention and of the intensity-matched control, both permutation nulls,
# Holm–Bonferroni across identities; population-level sign-flip tests across identities (beyond the paper).
rule permutation_test:
    input:
        SURFACES,
    output:
        PERMUTATIONS,
    log:
        "logs/permutations/{classifier}/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        config=lambda wildcards: record_config("permutations"),
        expected=lambda wildcards: slot(
            "surfaces", wildcards.classifier, wildcards.identity
        ),
    script:
        "../workflow/scripts/permutation_test.py"


rule aggregate_scores:
    input:
        permutations=per_job(PERMUTATIONS),
        expressions=per_job(EXPRESSIONS),
        surfaces=per_job(SURFACES),
        # each row's readability (prototype accuracy at s = 1) stands beside it
        checks=CLASSIFIER_CHECKS,
    output:
        **TABLE2,
    log:
        "logs/aggregate_scores.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        config=lambda wildcards: job_config("statistics"),
        groups={entry["name"]: entry["group"] for entry in config["classifiers"]},
        # a file copied over another's slot stops the job, naming it (facesym.io.records)
        expected=lambda wildcards: {
            kind: slots(kind) for kind in ("permutations", "expressions", "surfaces")
        },
    script:
        "../workflow/scripts/aggregate_scores.py"
