from facesym.identities import sample_identity
from facesym.io import write_json
from facesym.joblog import job_logger

log = job_logger(snakemake.log[0])
dims = snakemake.params.dims
identity = sample_identity(
    snakemake.params.seed,
    snakemake.wildcards.identity,
    shape_dim=dims["shape_dim"],
    appearance_dim=dims["appearance_dim"],
    lighting_dim=dims["lighting_dim"],
)
write_json(snakemake.output[0], identity.to_json())
log.info("identity %s written with seed %d", identity.name, identity.seed)
