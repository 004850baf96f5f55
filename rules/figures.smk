# The paper's figures (Figs. 2, 3, 5 and Table 2), each registered for
# `snakemake --report report.html`. The config's `figures` section picks the classifier, identity and emotion
# of the single-case figures (facesym.figures.targets); `rule all` asks for figure_targets().
from facesym.emotions import EMOTIONS
from facesym.figures.targets import figure_case, figure_settings


report: "../workflow/report/workflow.rst"


try:
    FIGURES = figure_settings(config.get("figures"))
    FIGURE_CASE = figure_case(FIGURES, CLASSIFIERS, IDENTITIES) if CLASSIFIERS else None
except ValueError as error:
    raise WorkflowError(str(error)) from None


# Paper Fig. 2: the optimised expressions φ^(e) and the onset of one emotion with the left half frozen.
rule figure_expressions:
    input:
        identity=IDENTITY,
        expressions=EXPRESSIONS,
        surfaces=SURFACES,
    output:
        pdf=figure("fig2_expressions_{classifier}_{identity}", "pdf"),
        png=report(
            figure("fig2_expressions_{classifier}_{identity}", "png"),
            caption="../workflow/report/fig2_expressions.rst",
            category="Figures",
            subcategory="Fig. 2: optimised expressions",
            labels={"classifier": "{classifier}", "identity": "{identity}"},
        ),
        csv=figure("fig2_expressions_{classifier}_{identity}", "csv"),
    log:
        "logs/figures/fig2_expressions_{classifier}_{identity}.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        config=job_config("render", "face_model", "identities"),
        emotion=FIGURES["emotion"],
        onset_steps=FIGURES["onset_steps"],
        render_size=FIGURES["render_size"],
        expected=lambda wildcards: {
            kind: slot(kind, wildcards.classifier, wildcards.identity)
            for kind in ("expressions", "surfaces")
        },
    script:
        "../workflow/scripts/plot_expressions.py"


# Paper Fig. 3: one activation surface over (s, t) beside its ∂F/∂s map.
rule figure_surface:
    input:
        surfaces=SURFACES,
        permutations=PERMUTATIONS,
    output:
        pdf=figure("fig3_surface_{classifier}_{identity}_{emotion}", "pdf"),
        png=report(
            figure("fig3_surface_{classifier}_{identity}_{emotion}", "png"),
            caption="../workflow/report/fig3_surface.rst",
            category="Figures",
            subcategory="Fig. 3: activation surface",
            labels={
                "classifier": "{classifier}",
                "identity": "{identity}",
                "emotion": "{emotion}",
            },
        ),
        csv=figure("fig3_surface_{classifier}_{identity}_{emotion}", "csv"),
    log:
        "logs/figures/fig3_surface_{classifier}_{identity}_{emotion}.log",
    wildcard_constraints:
        emotion="|".join(EMOTIONS),
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        spacing=config["statistics"]["spacing"],
        expected=lambda wildcards: {
            kind: slot(kind, wildcards.classifier, wildcards.identity)
            for kind in ("surfaces", "permutations")
        },
    script:
        "../workflow/scripts/plot_surface.py"


# Paper Fig. 5: per classifier, mean ± std activation at t = 1 over identities against symmetry.
rule figure_symmetry:
    input:
        lambda wildcards: expand(
            SURFACES,
            classifier=wildcards.classifier,
            identity=IDENTITIES,
        ),
    output:
        pdf=figure("fig5_symmetry_{classifier}", "pdf"),
        png=report(
            figure("fig5_symmetry_{classifier}", "png"),
            caption="../workflow/report/fig5_symmetry.rst",
            category="Figures",
            subcategory="Fig. 5: activation against symmetry",
            labels={"classifier": "{classifier}"},
        ),
        csv=figure("fig5_symmetry_{classifier}", "csv"),
    log:
        "logs/figures/fig5_symmetry_{classifier}.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        expected=lambda wildcards: [
            slot("surfaces", wildcards.classifier, identity) for identity in IDENTITIES
        ],
    script:
        "../workflow/scripts/plot_symmetry.py"


# Paper Table 2 (with supplementary Table 1) as a heat map, and as an HTML table for the report.
rule figure_table2:
    input:
        TABLE2["summary"],
    output:
        pdf=figure("table2_heatmap", "pdf"),
        png=report(
            figure("table2_heatmap", "png"),
            caption="../workflow/report/table2_heatmap.rst",
            category="Figures",
            subcategory="Table 2: impact scores",
        ),
        csv=figure("table2_heatmap", "csv"),
        html=report(
            figure("table2", "html"),
            caption="../workflow/report/table2.rst",
            category="Tables",
            subcategory="Table 2 and supplementary Table 1",
        ),
    log:
        "logs/figures/table2_heatmap.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        statistics=config["statistics"],
    script:
        "../workflow/scripts/plot_table2.py"
