# Interventions beyond symmetry (issue 18): every axis of src/facesym/interventions/axes.py in place of s on the
# paper's grid, with the paper's score and the population tests. The paper's surfaces already hold symmetry_left
# and intensity (its sham); the other axes are rendered in one job per (classifier, identity), one file per axis.
from facesym.interventions.axes import interventions_from_config
from facesym.interventions.properties import PAPER_AXES

# name -> settings; an axis listed twice or a setting it lacks stops here, before any job
INTERVENTIONS = interventions_from_config(config["interventions"])
RENDERED_PROPERTIES = [name for name in INTERVENTIONS if name not in PAPER_AXES]
# The paper's axis alone needs no table of its own: Table 2 is it.
PROPERTY_TARGETS = (
    [PROPERTIES["table"], figure("properties", "png")]
    if set(INTERVENTIONS) != {"symmetry_left"}
    else []
)


PROPERTY_FILES = expand(
    PROPERTY_SURFACES,
    property=RENDERED_PROPERTIES,
    classifier=CLASSIFIERS,
    identity=IDENTITIES,
)


rule property_surfaces:
    input:
        identity=IDENTITY,
        expressions=EXPRESSIONS,
        weights=classifier_files,
    output:
        expand(
            PROPERTY_SURFACES.replace("{classifier}", "{{classifier}}").replace(
                "{identity}", "{{identity}}"
            ),
            property=RENDERED_PROPERTIES,
        ),
    log:
        "logs/surfaces/properties/{classifier}/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    resources:
        **torch_job_resources,
    params:
        classifier=classifier_params,
        axes={name: INTERVENTIONS[name] for name in RENDERED_PROPERTIES},
        config=lambda wildcards: record_config("property_surfaces"),
        expected=lambda wildcards: slot(
            "expressions", wildcards.classifier, wildcards.identity
        ),
    script:
        "../workflow/scripts/properties_surfaces.py"


rule properties_table:
    input:
        paper=per_job(SURFACES),
        properties=PROPERTY_FILES,
        # the reached probabilities: identities below statistics.min_reached_probability are flagged
        expressions=per_job(EXPRESSIONS),
    output:
        **PROPERTIES,
    log:
        "logs/properties_table.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        properties=list(INTERVENTIONS),
        config=lambda wildcards: job_config("statistics"),
        # in the order of the inputs: per_job for the paper's and the expressions, PROPERTY_FILES for the others
        expected=lambda wildcards: {
            "paper": slots("surfaces"),
            "expressions": slots("expressions"),
            "properties": [
                slot("property_surfaces", c, i, p)
                for p in RENDERED_PROPERTIES
                for c in CLASSIFIERS
                for i in IDENTITIES
            ],
        },
    script:
        "../workflow/scripts/properties_table.py"


rule figure_properties:
    input:
        PROPERTIES["table"],
    output:
        pdf=figure("properties", "pdf"),
        png=report(
            figure("properties", "png"),
            caption="../workflow/report/properties.rst",
            category="Figures",
            subcategory="Interventions beyond symmetry",
        ),
        csv=figure("properties", "csv"),
    log:
        "logs/figures/properties.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    script:
        "../workflow/scripts/properties_figure.py"
