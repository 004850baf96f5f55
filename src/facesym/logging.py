"""One logger per pipeline job, writing to the job's log file."""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["job_logger"]


def job_logger(path: str | Path, name: str = "facesym") -> logging.Logger:
    """A logger that writes timestamped lines to ``path`` (created with its folder) and to stderr.

    Library modules log to ``logging.getLogger("facesym.<module>")``; they reach the same file because this
    configures the ``facesym`` parent logger.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in (logging.FileHandler(path, mode="w"), logging.StreamHandler()):
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logger
