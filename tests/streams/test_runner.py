"""The worker's root logger stays at the level of its ``--loglevel`` (faust's spinner handler
would set it to DEBUG, making every debug call of aiokafka and faust build a record)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import faust
import pytest

from streams.runner import StreamWorker


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, restored (level and handlers) after the test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def _app(tmp_path: Path) -> faust.App:
    return faust.App("nt-test-runner", broker="kafka://127.0.0.1:1", store="memory://",
                     web_enabled=False, datadir=str(tmp_path))  # fmt: skip


@pytest.mark.parametrize("flag", ["warning", "error", "info", "debug"])
def test_root_logger_level_is_the_flag(
    tmp_path: Path, root_logger: logging.Logger, flag: str
) -> None:
    worker = StreamWorker(_app(tmp_path), loglevel=flag.upper(), quiet=True)
    worker._setup_logging()  # what the worker does when it starts
    assert root_logger.level == getattr(logging, flag.upper())
    assert not root_logger.isEnabledFor(logging.DEBUG) or flag == "debug"


def test_faust_worker_sets_debug_at_warning(tmp_path: Path, root_logger: logging.Logger) -> None:
    """The quirk StreamWorker exists for (if faust stops doing this, StreamWorker can go)."""
    worker = faust.Worker(_app(tmp_path), loglevel="WARNING", quiet=True)
    worker._setup_logging()
    assert root_logger.level == logging.DEBUG
