from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.deepfn import recognise_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
recognise_job(
    config=snakemake.params.config,
    corpus=snakemake.input.corpus,
    normalised=snakemake.input.normalised[0] if snakemake.input.normalised else None,
    normalisation=snakemake.wildcards.normalisation,
    scores=snakemake.output.scores,
    symmetry=snakemake.output.symmetry,
    slot=snakemake.params.slot,
)
