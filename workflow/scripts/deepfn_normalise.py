from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.deepfn import normalise_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
normalise_job(
    config=snakemake.params.config,
    corpus=snakemake.input[0],
    method=snakemake.wildcards.method,
    output=snakemake.output[0],
)
