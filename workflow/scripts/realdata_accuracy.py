from facesym.cohort.jobs import accuracy_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
accuracy_job(predictions=snakemake.input.predictions, qc=snakemake.input.qc, output=snakemake.output[0])
