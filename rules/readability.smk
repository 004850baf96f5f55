# The readability check of every classifier (README "Framing and the readability check"): the EMFACS prototypes
# plus neutral, rendered for held-out identities at s = 1 and s = 0, classified as the analysis does (same render
# settings, the entry's framing). Its accuracy at s = 1 stands beside each Table 2 row.
import re

CHECKED_CLASSIFIERS = "|".join(re.escape(name) for name in CLASSIFIERS) or "(?!)"


rule check_classifier:
    input:
        weights=classifier_files,
    output:
        CLASSIFIER_CHECK,
    log:
        "logs/classifiers/{classifier}_check.log",
    wildcard_constraints:
        classifier=CHECKED_CLASSIFIERS,
    conda:
        "../envs/facesym.yaml"
    resources:
        **torch_job_resources,
    params:
        classifier=classifier_params,
        config=lambda wildcards: job_config(
            "readability", "render", "face_model", "identities"
        ),
    script:
        "../workflow/scripts/readability_check.py"


rule classifier_checks:
    input:
        expand(CLASSIFIER_CHECK, classifier=CLASSIFIERS),
    output:
        report(
            CLASSIFIER_CHECKS,
            caption="../workflow/report/readability.rst",
            category="Tables",
            subcategory="Readability of the face model by each classifier",
        ),
    log:
        "logs/classifier_checks.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        entries=lambda wildcards: [classifier_entry(config, c) for c in CLASSIFIERS],
    script:
        "../workflow/scripts/readability_table.py"


# The check's faces as files, so that any other classifier can be run on exactly the same faces (unframed).
rule prototype_images:
    output:
        labels=PROTOTYPES["labels"],
        info=PROTOTYPES["info"],
        images=directory(PROTOTYPES["images"]),
    log:
        "logs/prototypes.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        config=lambda wildcards: job_config(
            "readability", "render", "face_model", "identities"
        ),
    script:
        "../workflow/scripts/readability_prototypes.py"
