# Validation before any job is planned, and the helpers every rule file shares.
import sys
from pathlib import Path

from facesym.classifiers.entries import model_files
from facesym.cohort import ManifestError
from facesym.cohort.checks import check_cohort_config, experiment1_params
from facesym.config import (
    ConfigError,
    classifier_entry,
    load_schema,
    population_resolution_warning,
    validate_config,
)
from facesym.figures.targets import figure_case, figure_settings
from facesym.identities import identity_names
from facesym.io.records import config_digest, provenance_config
from facesym.resources import RESOURCES, ResourceError, check_placed

# Every path the workflow writes, stated here and nowhere else: the library takes explicit paths.
IDENTITY = "results/identities/{identity}.json"
CLASSIFIER_WEIGHTS = "results/classifiers/{classifier}.pt"
CLASSIFIER_METRICS = "results/classifiers/{classifier}.json"
CLASSIFIER_CHECK = "results/classifiers/{classifier}_check.json"
CLASSIFIER_CHECKS = "results/classifier_checks.csv"
PROTOTYPES = {
    "labels": "results/prototypes/labels.csv",
    "info": "results/prototypes/prototypes.json",
    "images": "results/prototypes/images",
}
EXPRESSIONS = "results/expressions/{classifier}/{identity}.h5"
SURFACES = "results/surfaces/{classifier}/{identity}.h5"
PROPERTY_SURFACES = "results/surfaces/{property}/{classifier}/{identity}.h5"
PERMUTATIONS = "results/permutations/{classifier}/{identity}.h5"
TABLE2 = {
    "table2": "results/table2.csv",
    "table2_tex": "results/table2.tex",
    "table2_specific": "results/table2_specific.csv",
    "table_s1": "results/table_s1.csv",
    "summary": "results/summary.csv",
    "scores": "results/scores.csv",
}
PROPERTIES = {
    "table": "results/properties.csv",
    "scores": "results/properties_scores.csv",
}
FIGURE = "results/figures/{name}.{ext}"  # each figure job writes .pdf, .png and the plotted values as .csv
# Experiment 1 (paper Table 1): the cohort, per-classifier outputs in a folder of their own, the tables beside it.
EXPERIMENT1 = "results/experiment1"
COHORT = {
    "synthetic": f"{EXPERIMENT1}/cohort/synthetic.csv",
    "subjects": f"{EXPERIMENT1}/cohort/subjects.csv",
    "images": f"{EXPERIMENT1}/cohort/images",
    "aligned": f"{EXPERIMENT1}/cohort/aligned.csv",
    "faces": f"{EXPERIMENT1}/cohort/faces.csv",
    "qc": f"{EXPERIMENT1}/cohort/face_qc.csv",
    "crops": f"{EXPERIMENT1}/cohort/faces",
    "analysed": f"{EXPERIMENT1}/cohort/cohort.csv",
}
PREDICTIONS = f"{EXPERIMENT1}/classifiers/{{classifier}}/predictions.csv"
CI_TESTS = f"{EXPERIMENT1}/classifiers/{{classifier}}/tests.csv"
CI_CALIBRATION = f"{EXPERIMENT1}/classifiers/{{classifier}}/calibration.csv"
ACCURACY = f"{EXPERIMENT1}/accuracy.csv"
CALIBRATION_TABLE = f"{EXPERIMENT1}/calibration.csv"
TABLE1 = "results/table1.csv"
DEEPFN = {
    "corpus": "results/deepfn/corpus.h5",
    "normalised": "results/deepfn/normalised/{method}.h5",
    "scores": "results/deepfn/scores/{normalisation}.csv",
    "symmetry": "results/deepfn/symmetry/{normalisation}.csv",
    "table": "results/deepfn/table.csv",
    "symmetry_table": "results/deepfn/symmetry.csv",
    "figure": "results/deepfn/fig_groups.png",
    "figure_values": "results/deepfn/fig_groups.csv",
    "examples": "results/deepfn/examples.png",
}


# Model files the workflow fetches itself (rules/resources.smk), with the name of their recipe in
# facesym.resources.RESOURCES. A config entry may name them before they exist.
RESOURCE_FILES = {"resources/fer2013/emotion_model.hdf5": "fer2013"}

try:
    # a file placed by hand where a fetched one belongs must be that file (before its header is read below)
    for _file, _name in RESOURCE_FILES.items():
        check_placed(RESOURCES[_name], _file)
    _validated = validate_config(
        config,
        load_schema(
            Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
        ),
        base_dir=Path.cwd(),
        provided=RESOURCE_FILES,
        trained_weights=CLASSIFIER_WEIGHTS,
    )
    # the cohort of Experiment 1 (every manifest row) is checked before any job too
    check_cohort_config(_validated, Path.cwd())
except (ConfigError, ManifestError, ResourceError) as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)
if config.get("classifiers") and (_warning := population_resolution_warning(config)):
    print(f"facesym warning: {_warning}", file=sys.stderr)

IDENTITIES = identity_names(config["identities"]["count"])


wildcard_constraints:
    identity=r"id\d{4}",
    # a classifier name never holds a slash (schema), so results/surfaces/{property}/{classifier}/… stays apart
    classifier=r"[A-Za-z0-9_-]+",


def identity_files():
    return expand(IDENTITY, identity=IDENTITIES)


CLASSIFIERS = [entry["name"] for entry in config.get("classifiers", [])]


def classifier_params(wildcards):
    return classifier_entry(config, wildcards.classifier)


def classifier_files(wildcards):
    """The weights a job using this classifier reads: trained in the pipeline, or the user's files."""
    return model_files(
        classifier_entry(config, wildcards.classifier),
        CLASSIFIER_WEIGHTS.format(classifier=wildcards.classifier),
    )


def figure(name, ext="pdf"):
    return FIGURE.format(name=name, ext=ext)


def per_job(pattern):
    """Every (classifier, identity) file of a per-job stage."""
    return expand(pattern, classifier=CLASSIFIERS, identity=IDENTITIES)


# The config sections each per-job record depends on; its producing rule gets exactly these (job_config), and a
# job reading the record expects the digest of the same values (facesym.io.records).
RECORD_SECTIONS = {
    "expressions": ("expressions", "render", "face_model", "identities"),
    "surfaces": ("grid", "render", "face_model", "identities"),
    "permutations": ("statistics", "grid"),
    "property_surfaces": ("grid", "render", "face_model", "identities"),
}


def record_config(kind):
    return job_config(*RECORD_SECTIONS[kind])


def slot(kind, classifier, identity, prop=None):
    """Where a record of `kind` belongs (its wildcards) and the digest of the config that should have made it."""
    sections = RECORD_SECTIONS[kind]
    entry = None if kind == "permutations" else classifier_entry(config, classifier)
    extra = {"axis": {"name": prop, **INTERVENTIONS[prop]}} if prop else {}
    values = provenance_config(record_config(kind), sections, entry, **extra)
    expected = {
        "classifier": classifier,
        "identity": identity,
        "config_digest": config_digest(values),
    }
    return {**expected, "property": prop} if prop else expected


def slots(kind):
    """The slot of every file of `per_job(pattern)`, in the same order."""
    return [slot(kind, c, i) for c in CLASSIFIERS for i in IDENTITIES]


def job_config(*sections):
    """The config values a job depends on: the seed, the device and the named sections.

    Passed as a param, so a change to one of them (and only them) reruns the job. The identity count is left
    out: adding identities must not rerun the jobs of existing ones.
    """
    values = {
        "seed": config["seed"],
        "device": config["device"],
        **{s: config[s] for s in sections},
    }
    if "identities" in values:
        values["identities"] = {
            k: v for k, v in values["identities"].items() if k != "count"
        }
    return values


# Jobs that render and classify. On a cluster (profiles/slurm) each asks for one GPU, unless the config pins the
# CPU, and for its threads as CPUs beside the GPU (the renderer runs there); local runs do not constrain `gpu`.
# Wall time and memory grow with the attempt, so a retry after a timeout or out-of-memory kill asks for more.
torch_job_resources = {
    "runtime": lambda wildcards, attempt: 30 * attempt,
    "mem_mb": lambda wildcards, attempt: 8000 * attempt,
    "gpu": 0 if config["device"] == "cpu" else 1,
    "cpus_per_gpu": lambda wildcards, threads: threads,
}


def deepfn_config(*keep):
    """The config a deepfn job depends on: the corpus settings plus the named sub-sections, so that e.g. a new
    recogniser setting reruns neither the rendering nor the autoencoders."""
    later = ("normalisations", "protocol", "recogniser", "autoencoder")
    section = {k: v for k, v in config["deepfn"].items() if k not in later or k in keep}
    return {**job_config("face_model", "identities", "statistics"), "deepfn": section}


def deepfn_slot(normalisation):
    """Where a deepfn scores or symmetry table belongs: its normalisation and the digest of the config its
    recognise job depends on (facesym.io.tables)."""
    values = {
        "normalisation": normalisation,
        "config": deepfn_config("protocol", "recogniser"),
    }
    return {"normalisation": normalisation, "config_digest": config_digest(values)}


# The figures' single case (config `figures`), checked at parse time like the rest of the config.
try:
    FIGURES = figure_settings(config.get("figures"))
    FIGURE_CASE = figure_case(FIGURES, CLASSIFIERS, IDENTITIES) if CLASSIFIERS else None
except ValueError as error:
    raise WorkflowError(str(error)) from None


def figure_targets():
    """The PDF of every figure of a run (each job writes its PNG and CSV beside it): Figs. 2 and 3 for the
    configured case, Fig. 5 per classifier and the Table 2 heat map; none for a config without classifiers.
    """
    if FIGURE_CASE is None:
        return []
    classifier, identity, emotion = FIGURE_CASE
    return [
        figure(f"fig2_expressions_{classifier}_{identity}"),
        figure(f"fig3_surface_{classifier}_{identity}_{emotion}"),
        *(figure(f"fig5_symmetry_{name}") for name in CLASSIFIERS),
        figure("table2_heatmap"),
    ]


# Experiment 1's test settings: what a tests.csv depends on besides its predictions.
TEST_SETTINGS = (
    "output_emotion",
    "unit",
    "alpha",
    "permutations",
    "knn",
    "fast_cit_splits",
)


def table_slot(kind, classifier):
    """Where a per-classifier table belongs: its classifier and the digest of the config values it depends on.

    Its producing job writes both into the file and every job reading it checks them (facesym.io.tables).
    """
    settings = {
        "predictions": lambda: job_config("face_model", "identities"),
        "tests": lambda: experiment1_params(config, *TEST_SETTINGS),
        "calibration": lambda: experiment1_params(
            config, *TEST_SETTINGS, "calibration_shuffles"
        ),
    }[kind]()
    values = {
        "kind": kind,
        "settings": settings,
        "classifier": classifier_entry(config, classifier),
    }
    return {"classifier": classifier, "config_digest": config_digest(values)}
