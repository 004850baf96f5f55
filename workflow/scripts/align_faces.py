from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import align_faces_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
align_faces_job(
    manifest=snakemake.input.manifest,
    config=snakemake.params.config,
    aligned=snakemake.output.aligned,
    faces=snakemake.output.faces,
    qc=snakemake.output.qc,
    crops=snakemake.output.crops,
)
