from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import table1_job

job_logger(snakemake.log[0])
table1_job(ci_files=snakemake.input, expected=snakemake.params.expected, output=snakemake.output[0])
