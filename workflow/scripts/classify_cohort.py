from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import classify_cohort_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
classify_cohort_job(
    cohort=snakemake.input.cohort,
    classifier_entry=snakemake.params.classifier,
    weights=snakemake.input.weights[0] if snakemake.params.classifier["kind"] == "embedded" else None,
    config=snakemake.params.config,
    output=snakemake.output[0],
    slot=snakemake.params.slot,
)
