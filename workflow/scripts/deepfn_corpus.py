from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.deepfn import corpus_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
corpus_job(config=snakemake.params.config, output=snakemake.output[0])
