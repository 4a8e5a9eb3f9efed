"""The last load-profile sequence handed over per device, kept in the state dir.

A restarted adapter continues after the sequence it last handed to the intake (which spools it
to disk before returning), so every sample the ring still holds is handed over, at most once
more. The file is one small JSON object ``{device: sequence}``, replaced atomically: a crash
leaves the previous or the new version, never half a file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "modbus-sequences.json"


class SequenceStore:
    """``{device: last handed-over sequence}``; in memory only when ``path`` is None."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._last: dict[str, int] = {}
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._last = {str(k): int(v) for k, v in data.items()}
            except (OSError, ValueError, AttributeError, TypeError) as exc:
                # unreadable: start as on first contact (the whole ring, duplicates at most)
                log.error("%s: unreadable, reading every ring from its start: %s", path, exc)

    def get(self, device: str) -> int | None:
        return self._last.get(device)

    def set(self, device: str, seq: int) -> None:
        """Remember ``seq`` for ``device`` and persist it before returning."""
        if self._last.get(device) == seq:
            return
        self._last[device] = seq
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self._last, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
