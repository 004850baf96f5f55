# Paper Sec. 4.1 / Table 1 (Experiment 1, associational): on cohort recordings, is a facial property independent
# of a classifier's output given the instructed label? Three CI tests and their majority vote, with calibration.
# The cohort is the user's manifest (experiment1.cohort) or the embedded synthetic one, labelled so in every output.
import re

from facesym.cohort import load_manifest, spec_path
from facesym.emotions import EMOTIONS
from facesym.cohort.checks import (
    ALIGNED_MANIFEST,
    COHORT_MANIFEST,
    FACE_CROPS,
    FACE_QC,
    FACES_TABLE,
    SYNTHETIC_MANIFEST,
    cohort_source,
    experiment1_params,
    experiment1_targets,
    face_mode,
)

EXPERIMENT1_TARGETS = experiment1_targets(config)
COHORT_SOURCE = cohort_source(config)
# A real cohort's images are inputs, so replacing one reruns the analysis; the synthetic images are one folder.
COHORT_IMAGES = (
    "results/cohort/images"
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


TEST_SETTINGS = (
    "output_emotion",
    "unit",
    "alpha",
    "permutations",
    "knn",
    "fast_cit_splits",
)


rule synthetic_cohort:
    output:
        manifest=SYNTHETIC_MANIFEST,
        spec=str(spec_path(SYNTHETIC_MANIFEST)),
        subjects="results/cohort/subjects.csv",
        images=directory("results/cohort/images"),
    log:
        "logs/cohort/synthetic_cohort.log",
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
        aligned=ALIGNED_MANIFEST,
        spec=str(spec_path(ALIGNED_MANIFEST)),
        faces=FACES_TABLE,
        qc=FACE_QC,
        crops=directory(FACE_CROPS),
    log:
        "logs/cohort/align_faces.log",
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
        manifest=ALIGNED_MANIFEST,
        spec=str(spec_path(ALIGNED_MANIFEST)),
        crops=FACE_CROPS,
        lpips=(
            [config["experiment1"]["lpips_weights"]]
            if config["experiment1"]["lpips_weights"]
            else []
        ),
    output:
        manifest=COHORT_MANIFEST,
        spec=str(spec_path(COHORT_MANIFEST)),
    log:
        "logs/cohort/cohort_properties.log",
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
        cohort=COHORT_MANIFEST,
        spec=str(spec_path(COHORT_MANIFEST)),
        weights=classifier_files,
    output:
        "results/realdata/{classifier}.csv",
    log:
        "logs/realdata/{classifier}.log",
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
    script:
        "../workflow/scripts/realdata_classify.py"


# The paper: 97.40 % for probands vs 58.25 % for patients.
rule realdata_accuracy:
    input:
        predictions=expand("results/realdata/{classifier}.csv", classifier=CLASSIFIERS),
        qc=FACE_QC,
    output:
        "results/realdata/accuracy.csv",
    log:
        "logs/realdata/accuracy.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    script:
        "../workflow/scripts/realdata_accuracy.py"


# KCI, CMIknn and the fast CIT of property ⟂ p(output_emotion) | label, majority vote at experiment1.alpha.
rule ci_tests:
    input:
        predictions="results/realdata/{classifier}.csv",
        cohort=COHORT_MANIFEST,
        spec=str(spec_path(COHORT_MANIFEST)),
        qc=FACE_QC,
    output:
        "results/ci/{classifier}.csv",
    log:
        "logs/ci/{classifier}.log",
    wildcard_constraints:
        classifier=CLASSIFIER_NAMES,
    conda:
        "../envs/facesym.yaml"
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        config=lambda wildcards: experiment1_params(config, *TEST_SETTINGS),
    script:
        "../workflow/scripts/ci_tests.py"


# The same tests with the property shuffled within label groups: every rejection is a false positive.
rule ci_calibration:
    input:
        predictions="results/realdata/{classifier}.csv",
        cohort=COHORT_MANIFEST,
        spec=str(spec_path(COHORT_MANIFEST)),
    output:
        "results/ci/calibration/{classifier}.csv",
    log:
        "logs/ci/calibration/{classifier}.log",
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
    script:
        "../workflow/scripts/ci_calibration.py"


rule table1:
    input:
        expand("results/ci/{classifier}.csv", classifier=CLASSIFIERS),
    output:
        "results/table1.csv",
    log:
        "logs/table1.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    script:
        "../workflow/scripts/table1_aggregate.py"


rule ci_calibration_table:
    input:
        expand("results/ci/calibration/{classifier}.csv", classifier=CLASSIFIERS),
    output:
        "results/ci_calibration.csv",
    log:
        "logs/ci/calibration.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    script:
        "../workflow/scripts/ci_calibration_table.py"
