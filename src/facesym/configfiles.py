"""Config files read so that a broken one is named with its line, before Snakemake reads it.

Snakemake loads every ``--configfile`` while it parses its command line, before any workflow code runs, and
reports a YAML syntax error or an empty file without naming the file or the line (and a missing one with a
traceback). :func:`read_config_file` reads a file the way Snakemake does (YAML, of which JSON is a subset) and says
which file and line is at fault. ``python -m facesym.configfiles snakemake ARGS...`` checks the ``--configfile``
files of a Snakemake command line (``run.sh`` runs it before Snakemake); the Snakefile checks its default
``config/config.yaml`` itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["ConfigFileError", "read_config_file", "configfile_arguments", "main"]


class ConfigFileError(ValueError):
    """A config file that cannot be read; the message is one line naming the file (and the line)."""


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a config file: a YAML (or JSON) mapping of config keys.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    dict
        Its top-level mapping.

    Raises
    ------
    ConfigFileError
        If the file is missing, is not valid YAML (naming the line and column), is empty, or holds something
        other than a mapping.
    """
    shown = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            content = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigFileError(f"config file '{shown}' does not exist (looked for {os.path.abspath(shown)})") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise ConfigFileError(f"config file '{shown}' cannot be read: {error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = " ".join(part for part in (error.context, error.problem) if part)
        raise ConfigFileError(f"config file '{shown}'{where}: not valid YAML: {what}") from None
    except yaml.YAMLError as error:
        raise ConfigFileError(f"config file '{shown}': not valid YAML: {error}") from None
    if content is None:
        raise ConfigFileError(
            f"config file '{shown}' is empty: it must hold config keys, e.g. 'seed: 1' (every key: "
            "workflow/schemas/config.schema.yaml)"
        )
    if not isinstance(content, dict):
        raise ConfigFileError(
            f"config file '{shown}' holds a {type(content).__name__}, not a mapping of config keys "
            "(e.g. 'seed: 1'; every key: workflow/schemas/config.schema.yaml)"
        )
    return content


def configfile_arguments(argv: Sequence[str]) -> list[str]:
    """The files a Snakemake command line gives to ``--configfile`` (alias ``--configfiles``).

    ``--configfile`` takes every following argument up to the next option, as Snakemake's parser does;
    ``--configfile=FILE`` gives one.
    """
    files: list[str] = []
    taking = False
    for argument in argv:
        if argument.startswith("-"):
            name, has_value, value = argument.partition("=")
            taking = name in ("--configfile", "--configfiles") and not has_value
            if has_value and name in ("--configfile", "--configfiles"):
                files.append(value)
        elif taking:
            files.append(argument)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Check the config files of a Snakemake command line; print one line per broken file.

    Returns
    -------
    int
        0 if every file can be read, 1 otherwise.
    """
    argv = sys.argv[1:] if argv is None else argv
    status = 0
    for path in configfile_arguments(argv):
        try:
            read_config_file(path)
        except ConfigFileError as error:
            print(f"facesym: {error}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
