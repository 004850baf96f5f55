from facesym.joblog import job_logger
from facesym.pipeline.figures import expressions_figure_job

job_logger(snakemake.log[0])
expressions_figure_job(
    identity_file=snakemake.input.identity,
    expressions_file=snakemake.input.expressions,
    surfaces_file=snakemake.input.surfaces,
    config=snakemake.params.config,
    onset_emotion=snakemake.params.emotion,
    n_onset=snakemake.params.onset_steps,
    render_size=snakemake.params.render_size,
    outputs=dict(snakemake.output.items()),
    expected=snakemake.params.expected,
)
