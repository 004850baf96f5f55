from facesym.cohort.jobs import calibration_table_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
calibration_table_job(files=snakemake.input, output=snakemake.output[0])
