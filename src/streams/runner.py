"""The Faust worker that runs a stream app, with the root logger at the level it is given.

faust's ``Worker.on_setup_root_logger`` adds a terminal-spinner handler when the level is
WARNING or above and then sets the *root logger* to DEBUG so the spinner turns on every record.
A worker run at ``warning`` thereby builds a log record for every ``log.debug`` of aiokafka,
faust and mode (~150 µs of CPU per reading measured in the worker). The spinner is only a
terminal decoration (workers run under a supervisor, their output in a log file), so this
worker has none and leaves the root level as ``--loglevel`` says.
"""

from __future__ import annotations

import logging
from typing import Any

import faust


class StreamWorker(faust.Worker):
    """``faust.Worker`` without the progress spinner and its root-logger DEBUG override."""

    def __init__(self, app: faust.App, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self.spinner = None

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        """Keep the root logger at ``level`` (faust's version sets it to DEBUG)."""
        self.spinner = None
        super().on_setup_root_logger(logger, level)
        if level:
            logger.setLevel(level)
