# The embedded classifiers: trained on renders of the face model, symmetric faces unless the entry asks for
# asymmetry augmentation. Real classifiers come from their files and have no rule.
EMBEDDED_CLASSIFIERS = [entry["name"] for entry in config["classifiers"] if entry["kind"] == "embedded"]


def training_config(wildcards):
    """What the training job depends on. Not the device: training always runs on the CPU."""
    values = job_config("training", "render", "face_model", "identities")
    return {key: value for key, value in values.items() if key != "device"}


rule train_classifier:
    output:
        weights="results/classifiers/{classifier}.pt",
        metrics="results/classifiers/{classifier}.json",
    wildcard_constraints:
        # A name that matches nothing when the config has no embedded classifier.
        classifier="|".join(EMBEDDED_CLASSIFIERS) or "(?!)",
    params:
        classifier=classifier_params,
        config=training_config,
    log:
        "logs/classifiers/{classifier}.log",
    threads: 2
    resources:
        runtime=15,
        mem_mb=3000,
    conda:
        "../envs/facesym.yaml"
    script:
        "../workflow/scripts/train_classifier.py"
