from facesym.joblog import job_logger
from facesym.pipeline.readability import checks_table_job

job_logger(snakemake.log[0])
checks_table_job(checks=snakemake.input, entries=snakemake.params.entries, output=snakemake.output[0])
