# Paper Sec. 3.3 / Fig. 3: the classifier's softmax over the symmetry × onset grid for each φ^(e).
rule compute_surfaces:
    input:
        identity=IDENTITY,
        expressions=EXPRESSIONS,
        weights=classifier_files,
    output:
        SURFACES,
    log:
        "logs/surfaces/{classifier}/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        **torch_job_resources,
    params:
        classifier=classifier_params,
        config=lambda wildcards: record_config("surfaces"),
        expected=lambda wildcards: slot(
            "expressions", wildcards.classifier, wildcards.identity
        ),
    script:
        "../workflow/scripts/compute_surfaces.py"
