from facesym.joblog import job_logger
from facesym.pipeline.figures import symmetry_figure_job

job_logger(snakemake.log[0])
symmetry_figure_job(
    surfaces_files=list(snakemake.input),
    outputs=dict(snakemake.output.items()),
    expected=snakemake.params.expected,
)
