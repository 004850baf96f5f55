# Experiment 1 (paper Sec. 4.1 / Table 1, associational): on cohort recordings, is a facial property independent
# of a classifier's output given the instructed label? Three CI tests and their majority vote, with calibration.
# The cohort is the user's manifest (experiment1.cohort) or the embedded synthetic one, labelled so in every output.
import re

from facesym.cohort import load_manifest, spec_path
from facesym.emotions import EMOTIONS
from facesym.cohort.checks import cohort_source, face_mode

# Final files of Experiment 1 (for `rule all`); no calibration table when calibration_shuffles is 0.
EXPERIMENT1_TARGETS = [TABLE1, ACCURACY] + (
    [CALIBRATION_TABLE] if config["experiment1"]["calibration_shuffles"] > 0 else []
)
COHORT_SOURCE = cohort_source(config, COHORT["synthetic"])
# A real cohort's images are inputs, so replacing one reruns the analysis; the synthetic images are one folder.
COHORT_IMAGES = (
    COHORT["images"]
    if config["experiment1"]["cohort"] is None
    else load_manifest(COHORT_SOURCE).table["image"].tolist()
)
# Face alignment's time budget: about 10 s per image on one loaded core (measured 1.5 s per 64-px render and
# 9-17 s per 512-px photograph at load average 7-10 on the 2-core development machine).
COHORT_SIZE = (
    (config["experiment1"]["probands"] + config["experiment1"]["patients"])
    * len(EMOTIONS)
    * config["experiment1"]["repetitions"]
    if config["experiment1"]["cohort"] is None
    else len(COHORT_IMAGES)
)
# A pattern that matches nothing when the config has no classifier.
CLASSIFIER_NAMES = "|".join(re.escape(name) for name in CLASSIFIERS) or "(?!)"


rule synthetic_cohort:
    output:
        manifest=COHORT["synthetic"],
        spec=str(spec_path(COHORT["synthetic"])),
        subjects=COHORT["subjects"],
        images=directory(COHORT["images"]),
    log:
        "logs/experiment1/synthetic_cohort.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=15,
        mem_mb=2000,
    params:
        config=lambda wildcards: {
            **job_config("render", "face_model", "identities"),
            **experiment1_params(config, "probands", "patients", "repetitions"),
        },
    script:
        "../workflow/scripts/cohort_synthetic.py"


# Find, align and crop each image's face into the face model's render frame (experiment1.faces: detect), or take
# the images as such crops (given); images without one usable face go to the QC table, counted in every table.
rule align_faces:
    input:
        manifest=COHORT_SOURCE,
        spec=str(spec_path(COHORT_SOURCE)),
        images=COHORT_IMAGES,
    output:
        aligned=COHORT["aligned"],
        spec=str(spec_path(COHORT["aligned"])),
        faces=COHORT["faces"],
        qc=COHORT["qc"],
        crops=directory(COHORT["crops"]),
    log:
        "logs/experiment1/align_faces.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=10 + COHORT_SIZE // 6,
        mem_mb=2000,
    params:
        config=lambda wildcards: {
            "experiment1": {
                "faces": face_mode(config),
                **experiment1_params(config, "face_size", "face_qc_max_fraction")[
                    "experiment1"
                ],
            }
        },
    script:
        "../workflow/scripts/align_faces.py"


# The symmetry between the face halves, measured from every cohort's images (SSIM, or LPIPS from user weights).
rule cohort_properties:
    input:
        manifest=COHORT["aligned"],
        spec=str(spec_path(COHORT["aligned"])),
        crops=COHORT["crops"],
        lpips=(
            [config["experiment1"]["lpips_weights"]]
            if config["experiment1"]["lpips_weights"]
            else []
        ),
    output:
        manifest=COHORT["analysed"],
        spec=str(spec_path(COHORT["analysed"])),
    log:
        "logs/experiment1/cohort_properties.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=15,
        mem_mb=2000,
    params:
        config=lambda wildcards: experiment1_params(config, "lpips_weights"),
    script:
        "../workflow/scripts/cohort_properties.py"


rule classify_cohort:
    input:
        cohort=COHORT["analysed"],
        spec=str(spec_path(COHORT["analysed"])),
        weights=classifier_files,
    output:
        PREDICTIONS,
    log:
        "logs/experiment1/{classifier}/classify_cohort.log",
    wildcard_constraints:
        classifier=CLASSIFIER_NAMES,
    conda:
        "../envs/facesym.yaml"
    resources:
        **torch_job_resources,
    params:
        classifier=classifier_params,
        # the face model places the classifier's framing
        config=lambda wildcards: job_config("face_model", "identities"),
        slot=lambda wildcards: table_slot("predictions", wildcards.classifier),
    script:
        "../workflow/scripts/classify_cohort.py"


# The paper: 97.40 % for probands vs 58.25 % for patients.
rule experiment1_accuracy:
    input:
        predictions=expand(PREDICTIONS, classifier=CLASSIFIERS),
        qc=COHORT["qc"],
        # the palsy side of each synthetic patient; a user manifest does not say it
        subjects=COHORT["subjects"] if config["experiment1"]["cohort"] is None else [],
    output:
        report(
            ACCURACY,
            caption="../workflow/report/experiment1_accuracy.rst",
            category="Experiment 1",
            subcategory="Accuracy per subject group",
        ),
    log:
        "logs/experiment1/accuracy.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        expected=lambda wildcards: [table_slot("predictions", c) for c in CLASSIFIERS],
    script:
        "../workflow/scripts/experiment1_accuracy.py"


# KCI, CMIknn and the fast CIT of property ⟂ p(output_emotion) | label, majority vote at experiment1.alpha.
rule experiment1_tests:
    input:
        predictions=PREDICTIONS,
        cohort=COHORT["analysed"],
        spec=str(spec_path(COHORT["analysed"])),
        qc=COHORT["qc"],
    output:
        CI_TESTS,
    log:
        "logs/experiment1/{classifier}/tests.log",
    wildcard_constraints:
        classifier=CLASSIFIER_NAMES,
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        config=lambda wildcards: experiment1_params(config, *TEST_SETTINGS),
        expected=lambda wildcards: table_slot("predictions", wildcards.classifier),
        slot=lambda wildcards: table_slot("tests", wildcards.classifier),
    script:
        "../workflow/scripts/experiment1_tests.py"


# The same tests with the property shuffled within label groups: every rejection is a false positive.
rule experiment1_calibration:
    input:
        predictions=PREDICTIONS,
        cohort=COHORT["analysed"],
        spec=str(spec_path(COHORT["analysed"])),
    output:
        CI_CALIBRATION,
    log:
        "logs/experiment1/{classifier}/calibration.log",
    wildcard_constraints:
        classifier=CLASSIFIER_NAMES,
    conda:
        "../envs/facesym.yaml"
    # 200 shuffles × 3 properties on one core: about 1 min at the default n = 288, about 1 h at the paper's n = 1728.
    resources:
        runtime=240,
        mem_mb=1000,
    params:
        config=lambda wildcards: experiment1_params(
            config, *TEST_SETTINGS, "calibration_shuffles"
        ),
        expected=lambda wildcards: table_slot("predictions", wildcards.classifier),
        slot=lambda wildcards: table_slot("calibration", wildcards.classifier),
    script:
        "../workflow/scripts/experiment1_calibration.py"


rule table1:
    input:
        expand(CI_TESTS, classifier=CLASSIFIERS),
    output:
        report(
            TABLE1,
            caption="../workflow/report/table1.rst",
            category="Experiment 1",
            subcategory="Table 1: conditional-independence decisions",
        ),
    log:
        "logs/experiment1/table1.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        expected=lambda wildcards: [table_slot("tests", c) for c in CLASSIFIERS],
    script:
        "../workflow/scripts/table1.py"


rule experiment1_calibration_table:
    input:
        expand(CI_CALIBRATION, classifier=CLASSIFIERS),
    output:
        report(
            CALIBRATION_TABLE,
            caption="../workflow/report/experiment1_calibration.rst",
            category="Experiment 1",
            subcategory="Calibration of the tests",
        ),
    log:
        "logs/experiment1/calibration.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        expected=lambda wildcards: [table_slot("calibration", c) for c in CLASSIFIERS],
    script:
        "../workflow/scripts/experiment1_calibration_table.py"
