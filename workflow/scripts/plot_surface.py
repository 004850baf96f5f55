from facesym.joblog import job_logger
from facesym.pipeline.figures import surface_figure_job

job_logger(snakemake.log[0])
surface_figure_job(
    surfaces_file=snakemake.input.surfaces,
    permutations_file=snakemake.input.permutations,
    emotion=snakemake.wildcards.emotion,
    spacing=snakemake.params.spacing,
    outputs=dict(snakemake.output.items()),
    expected=snakemake.params.expected,
)
