# Paper Eq. 4 and Sec. 3.3 / Fig. 3, one job per (classifier, identity): the expression φ^(e) maximising each
# emotion's probability, then the classifier's softmax over the symmetry × onset grid for each φ^(e). One process
# builds the classifier and the scene once for both files.
# Both stages in one job: twice the wall time of one.
SYNTHESIS_RESOURCES = {
    **torch_job_resources,
    "runtime": lambda wildcards, attempt: 60 * attempt,
}


rule expressions_and_surfaces:
    input:
        identity=IDENTITY,
        weights=classifier_files,
    output:
        expressions=EXPRESSIONS,
        surfaces=SURFACES,
    log:
        "logs/synthesis/{classifier}/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        **SYNTHESIS_RESOURCES,
    params:
        classifier=classifier_params,
        config=lambda wildcards: job_config(
            *dict.fromkeys(
                RECORD_SECTIONS["expressions"] + RECORD_SECTIONS["surfaces"]
            )
        ),
    script:
        "../workflow/scripts/synthesis.py"
