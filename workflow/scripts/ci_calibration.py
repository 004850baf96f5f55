from facesym.cohort.jobs import ci_calibration_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
ci_calibration_job(
    predictions=snakemake.input.predictions,
    cohort=snakemake.input.cohort,
    config=snakemake.params.config,
    output=snakemake.output[0],
)
