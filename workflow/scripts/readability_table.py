from facesym.classifiers.readability import checks_table_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
checks_table_job(checks=snakemake.input, output=snakemake.output[0])
