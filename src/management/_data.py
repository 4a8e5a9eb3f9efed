"""Reading this package's own versioned data files."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def load_yaml(name: str) -> Any:
    """Parse ``management/data/<name>``; a broken shipped file is a bug, so errors propagate."""
    text = resources.files("management").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)
