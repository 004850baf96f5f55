from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.training import train_classifier_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
train_classifier_job(
    classifier_entry=snakemake.params.classifier,
    config=snakemake.params.config,
    weights_output=snakemake.output.weights,
    metrics_output=snakemake.output.metrics,
)
