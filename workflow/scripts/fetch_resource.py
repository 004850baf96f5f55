from facesym.joblog import job_logger
from facesym.pipeline.resources import fetch_resource_job

job_logger(snakemake.log[0])
fetch_resource_job(name=snakemake.params.name, output=snakemake.output[0])
