from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import ci_calibration_job

job_logger(snakemake.log[0])
ci_calibration_job(
    predictions=snakemake.input.predictions,
    cohort=snakemake.input.cohort,
    config=snakemake.params.config,
    output=snakemake.output[0],
    expected=snakemake.params.expected,
    slot=snakemake.params.slot,
)
