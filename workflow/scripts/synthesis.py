from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.synthesis import synthesis_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
synthesis_job(
    identity_file=snakemake.input.identity,
    identity=snakemake.wildcards.identity,
    classifier_entry=snakemake.params.classifier,
    weights=snakemake.input.weights[0] if snakemake.params.classifier["kind"] == "embedded" else None,
    config=snakemake.params.config,
    outputs={"expressions": snakemake.output.expressions, "surfaces": snakemake.output.surfaces},
)
