from facesym.joblog import job_logger
from facesym.pipeline.properties import properties_figure_job

job_logger(snakemake.log[0])
properties_figure_job(table=snakemake.input[0], outputs=dict(snakemake.output.items()))
