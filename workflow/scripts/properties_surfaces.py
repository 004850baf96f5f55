from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.properties import property_surfaces_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
property_surfaces_job(
    axes=snakemake.params.axes,
    identity_file=snakemake.input.identity,
    expressions_file=snakemake.input.expressions,
    expected=snakemake.params.expected,
    classifier_entry=snakemake.params.classifier,
    weights=snakemake.input.weights[0] if snakemake.params.classifier["kind"] == "embedded" else None,
    config=snakemake.params.config,
    outputs=dict(zip(snakemake.params.axes, snakemake.output, strict=True)),
)
