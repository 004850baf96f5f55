from facesym.classifiers.pipeline import train_classifier_job
from facesym.logging import job_logger

job_logger(snakemake.log[0])
train_classifier_job(
    classifier_entry=snakemake.params.classifier,
    config=snakemake.params.config,
    weights_output=snakemake.output.weights,
    metrics_output=snakemake.output.metrics,
)
