from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import synthetic_cohort_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
synthetic_cohort_job(
    config=snakemake.params.config, manifest=snakemake.output.manifest, subjects=snakemake.output.subjects
)
