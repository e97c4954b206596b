"""Logging set-up for pipeline jobs: a rule's log file, and stderr."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to(path: str | Path, level: int = logging.INFO) -> None:
    """Send fmrnoise's log records, and an uncaught exception, to ``path`` and stderr."""
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
        logger.critical("job failed: %s", value, exc_info=(kind, value, traceback))

    sys.excepthook = excepthook
