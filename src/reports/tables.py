"""Plain tabular output (CSV) shared by the lineage export and the verification pack."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def cell(value: Any) -> Any:
    """A CSV cell: mappings and lists as compact JSON, everything else as it is."""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return value


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> int:
    """Write ``rows`` (dicts) with a header (``columns`` or the first row's keys); returns the
    row count. An empty list still gets its header when ``columns`` is given."""
    rows = list(rows)
    cols = columns or (list(rows[0].keys()) if rows else [])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if cols:
            w.writerow(cols)
        for r in rows:
            w.writerow([cell(r.get(c)) for c in cols])
    return len(rows)
