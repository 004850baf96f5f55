from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.synthesis import surfaces_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
surfaces_job(
    identity_file=snakemake.input.identity,
    expressions_file=snakemake.input.expressions,
    expected=snakemake.params.expected,
    classifier_entry=snakemake.params.classifier,
    weights=snakemake.input.weights[0] if snakemake.params.classifier["kind"] == "embedded" else None,
    config=snakemake.params.config,
    output=snakemake.output[0],
)
