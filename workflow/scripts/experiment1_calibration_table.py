from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import calibration_table_job

job_logger(snakemake.log[0])
calibration_table_job(files=snakemake.input, expected=snakemake.params.expected, output=snakemake.output[0])
