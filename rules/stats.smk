# Paper Eq. 6–7: impact scores of the intervention and of the intensity-matched control, both permutation nulls,
# Holm–Bonferroni across identities; population-level sign-flip tests across identities (beyond the paper).
rule permutation_test:
    input:
        "results/surfaces/{classifier}/{identity}.h5",
    output:
        "results/permutations/{classifier}/{identity}.h5",
    log:
        "logs/permutations/{classifier}/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        config=lambda wildcards: job_config("statistics", "grid"),
    script:
        "../workflow/scripts/permutation_test.py"


rule aggregate_scores:
    input:
        permutations=per_job("results/permutations/{classifier}/{identity}.h5"),
        expressions=per_job("results/expressions/{classifier}/{identity}.h5"),
        surfaces=per_job("results/surfaces/{classifier}/{identity}.h5"),
        # each row's readability (prototype accuracy at s = 1) stands beside it
        checks="results/classifier_checks.csv",
    output:
        table2="results/table2.csv",
        table2_tex="results/table2.tex",
        table2_specific="results/table2_specific.csv",
        table_s1="results/table_s1.csv",
        summary="results/summary.csv",
        scores="results/scores.csv",
    log:
        "logs/aggregate_scores.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        config=lambda wildcards: job_config("statistics"),
        groups={entry["name"]: entry["group"] for entry in config["classifiers"]},
    script:
        "../workflow/scripts/aggregate_scores.py"
