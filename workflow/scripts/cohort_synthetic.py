from facesym.cohort.jobs import synthetic_cohort_job
from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
synthetic_cohort_job(
    config=snakemake.params.config, manifest=snakemake.output.manifest, subjects=snakemake.output.subjects
)
