"""How pipeline jobs report: a rule's log file and stderr, one line for ordinary failures.

An ordinary failure is one the user fixes outside the code: an output or cache location that
cannot be written (a full disk, a read-only or missing directory, a path below a regular file),
or an interrupted run. It is reported as a single line naming the path and the reason, without
a Python traceback; any other exception keeps its traceback, since it points at a bug.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OutputError(OSError):
    """A stage's output or cache location cannot be written.

    Constructed like ``OSError(errno, strerror, filename)``; its message is one line,
    ``"cannot write <filename>: <strerror>"``.
    """

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


def location_problem(path: str | os.PathLike) -> OutputError | None:
    """Why a directory cannot be created or written at ``path``, or None if it can.

    Walks up to the nearest existing component: it must be a directory that this process may
    write to. Used before any job runs, so that e.g. a ``results`` that is a regular file stops
    the workflow with one line instead of a traceback from deep inside Snakemake.

    Parameters
    ----------
    path : a directory the workflow will write into (it need not exist yet).

    Returns
    -------
    OutputError or None
        The problem (errno ``ENOTDIR`` or ``EACCES``, filename the offending component).
    """
    current = Path(os.path.abspath(path))
    while not os.path.lexists(current) and current != current.parent:
        current = current.parent
    if not current.is_dir():
        return OutputError(errno.ENOTDIR, f"{current} is not a directory", str(path))
    if not os.access(current, os.W_OK | os.X_OK):
        return OutputError(errno.EACCES, f"{current} is not writable", str(path))
    return None


def check_locations(paths: Iterable[str | os.PathLike]) -> None:
    """Raise the first :func:`location_problem` of ``paths`` (see there)."""
    for path in paths:
        problem = location_problem(path)
        if problem is not None:
            raise problem


def failure_message(kind: type[BaseException], value: BaseException) -> str | None:
    """One-line description of an ordinary failure, or None for any other exception."""
    if issubclass(kind, KeyboardInterrupt):
        return "interrupted: finished chunks are cached, the same command resumes the run"
    if isinstance(value, OutputError):
        return str(value)
    return None


def log_to(path: str | Path, level: int = logging.INFO) -> None:
    """Send fmrnoise's log records, and an uncaught exception, to ``path`` and stderr.

    An ordinary failure (:func:`failure_message`) is logged as one line; any other uncaught
    exception with its traceback.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    formatter = logging.Formatter(FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
    logger = logging.getLogger("fmrnoise")
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = False

    def excepthook(kind, value, traceback) -> None:
        message = failure_message(kind, value)
        if message is None:
            logger.critical("job failed: %s", value, exc_info=(kind, value, traceback))
        else:
            logger.critical("job failed: %s", message)

    sys.excepthook = excepthook
