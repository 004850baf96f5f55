from facesym.cohort.jobs import table1_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
table1_job(ci_files=snakemake.input, output=snakemake.output[0])
