from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.readability import readability_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
readability_job(
    classifier_entry=snakemake.params.classifier,
    weights=snakemake.input.weights[0] if snakemake.params.classifier["kind"] == "embedded" else None,
    config=snakemake.params.config,
    output=snakemake.output[0],
)
