from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import cohort_properties_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
cohort_properties_job(
    manifest=snakemake.input.manifest, config=snakemake.params.config, output=snakemake.output.manifest
)
