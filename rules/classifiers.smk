# The embedded classifiers: trained on renders of the face model, symmetric faces unless the entry asks for
# asymmetry augmentation. Real classifiers come from their files and have no rule.
EMBEDDED_CLASSIFIERS = [
    entry["name"] for entry in config["classifiers"] if entry["kind"] == "embedded"
]


rule train_classifier:
    output:
        weights=CLASSIFIER_WEIGHTS,
        metrics=CLASSIFIER_METRICS,
    log:
        "logs/classifiers/{classifier}.log",
    wildcard_constraints:
        # A name that matches nothing when the config has no embedded classifier.
        classifier="|".join(EMBEDDED_CLASSIFIERS) or "(?!)",
    conda:
        "../envs/facesym.yaml"
    threads: 1
    resources:
        runtime=15,
        mem_mb=3000,
    params:
        classifier=classifier_params,
        # Not the device: training always runs on the CPU, so changing it must not retrain.
        config=lambda wildcards: {
            key: value
            for key, value in job_config(
                "training", "render", "face_model", "identities"
            ).items()
            if key != "device"
        },
    script:
        "../workflow/scripts/train_classifier.py"
