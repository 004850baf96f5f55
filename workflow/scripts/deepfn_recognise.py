from facesym.deepfn.jobs import recognise_job
from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
recognise_job(
    config=snakemake.params.config,
    corpus=snakemake.input.corpus,
    normalised=snakemake.input.normalised[0] if snakemake.input.normalised else None,
    normalisation=snakemake.wildcards.normalisation,
    scores=snakemake.output.scores,
    symmetry=snakemake.output.symmetry,
)
