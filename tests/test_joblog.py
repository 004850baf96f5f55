"""A job's log holds the traceback of the exception that ended it."""

import subprocess
import sys
import textwrap


def test_uncaught_exception_is_written_to_the_job_log_with_its_traceback(tmp_path):
    log = tmp_path / "logs" / "job.log"
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(f"""
        from facesym.joblog import job_logger

        logger = job_logger({str(log)!r})
        logger.info("starting")

        def read_surfaces():
            raise FileNotFoundError("results/surfaces/cnn/id0000.h5")

        read_surfaces()
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode != 0
    text = log.read_text()
    assert "starting" in text
    assert "Traceback (most recent call last)" in text
    assert "in read_surfaces" in text
    assert "FileNotFoundError: results/surfaces/cnn/id0000.h5" in text
    # printed once on stderr (by the log's stream handler), not twice
    assert done.stderr.count("Traceback (most recent call last)") == 1
