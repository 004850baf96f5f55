# Paper Eq. 4: per (classifier, identity), the expression φ^(e) maximising each emotion's probability.
rule optimise_expressions:
    input:
        identity=IDENTITY,
        weights=classifier_files,
    output:
        EXPRESSIONS,
    log:
        "logs/expressions/{classifier}/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        **torch_job_resources,
    params:
        classifier=classifier_params,
        config=lambda wildcards: record_config("expressions"),
    script:
        "../workflow/scripts/optimise_expressions.py"
