from facesym.joblog import job_logger
from facesym.pipeline.figures import table2_figure_job

job_logger(snakemake.log[0])
table2_figure_job(
    summary_file=snakemake.input[0],
    statistics=snakemake.params.statistics,
    outputs=dict(snakemake.output.items()),
)
