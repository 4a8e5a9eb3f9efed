"""Per-tag watermarks: the last source timestamp the OPC UA adapter handed to the intake.

They say where a history read resumes after a (re)connect or a restart, and which live values
are not new (a value not newer than its tag's watermark was handed over already). Two views:
``buffered`` moves as values are queued for the next batch (the duplicate filter), ``handed``
only once a batch is in the spool, and that one is persisted, so a process killed with values
still queued reads them again from the server's history. The file is small JSON, replaced
atomically after the spool was fsync'd: a crash leaves an older file at worst, which repeats a
few values (at-least-once, as everywhere) but never skips one.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from nengtan.errors import ConfigError

log = logging.getLogger(__name__)

SCHEMA = "nengtan.opcua-watermarks/1"


class Watermarks:
    """Last handed-over source timestamp (epoch ms) per point, kept in ``path``."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.handed: dict[str, int] = self._load()
        self.buffered: dict[str, int] = dict(self.handed)
        self._saved = dict(self.handed)

    def _load(self) -> dict[str, int]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"OPC UA watermarks {self.path}: unreadable ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise ConfigError(f"OPC UA watermarks {self.path}: not a {SCHEMA} document")
        points = doc.get("points")
        if not isinstance(points, dict):
            raise ConfigError(f"OPC UA watermarks {self.path}: not a {SCHEMA} document")
        bad = [p for p, ts in points.items() if type(ts) is not int]
        if bad:
            raise ConfigError(f"OPC UA watermarks {self.path}: ts of {bad[0]!r} is not an int")
        return dict(points)

    def is_new(self, point: str, ts_ms: int) -> bool:
        """True, and the buffered watermark moves to ``ts_ms``, when it is newer than both."""
        if ts_ms <= self.buffered.get(point, -(1 << 62)):
            return False
        self.buffered[point] = ts_ms
        return True

    def hand_over(self, point: str, ts_ms: int) -> None:
        """A value of ``point`` at ``ts_ms`` is in the spool."""
        if ts_ms > self.handed.get(point, -(1 << 62)):
            self.handed[point] = ts_ms

    def save(self) -> None:
        """Write the handed-over watermarks if they moved (atomic replace)."""
        if self.path is None or self.handed == self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"schema": SCHEMA, "points": self.handed}, sort_keys=True),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)
        self._saved = dict(self.handed)
