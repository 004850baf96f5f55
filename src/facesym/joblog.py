"""What every pipeline job does once its imports are done: its logger, writing to the job's log file."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from types import TracebackType

__all__ = ["job_logger"]


def job_logger(path: str | Path, name: str = "facesym") -> logging.Logger:
    """A logger that writes timestamped lines to ``path`` (created with its folder) and to stderr.

    Library modules log to ``logging.getLogger("facesym.<module>")``; they reach the same file because this
    configures the ``facesym`` parent logger. An exception that ends the job is written to the log with its
    traceback: Snakemake keeps a script's stderr out of the rule's log, and the log is where a user (or a SLURM
    job's post-mortem) looks first.

    Call it once per process, after the job's imports: it also hands every object alive at that point to
    ``gc.freeze``.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in (logging.FileHandler(path, mode="w"), logging.StreamHandler()):
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    previous_hook = sys.excepthook

    def log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous_hook(kind, error, trace)
            return
        logger.critical("job failed", exc_info=(kind, error, trace))
        # The log's stream handler has just printed the traceback on stderr; the default hook would repeat it.
        if previous_hook is not sys.__excepthook__:
            previous_hook(kind, error, trace)

    sys.excepthook = log_uncaught
    # A job imports once and then exits: what is alive now (torch, numba, SciPy … hundreds of thousands of objects)
    # lives until the end. Frozen, the collector stops traversing it on every full collection and once more at
    # exit, about 1 s of a torch job's CPU (benchmarks/README.md, "Job cost").
    gc.freeze()
    return logger
