from facesym.cohort.jobs import ci_tests_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
ci_tests_job(
    predictions=snakemake.input.predictions,
    cohort=snakemake.input.cohort,
    qc=snakemake.input.qc,
    config=snakemake.params.config,
    output=snakemake.output[0],
)
