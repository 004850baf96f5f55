from facesym.joblog import job_logger
from facesym.pipeline.identities import sample_identity_job

job_logger(snakemake.log[0])
sample_identity_job(
    seed=snakemake.params.seed,
    name=snakemake.wildcards.identity,
    dims=snakemake.params.dims,
    output=snakemake.output[0],
)
