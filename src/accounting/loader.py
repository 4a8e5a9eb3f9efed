"""Reading an inventory file (YAML) into an ``Inventory``, with errors naming file and entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from accounting.errors import AccountingInputError
from accounting.inventory import Inventory, InventoryResult, account
from nengtan.errors import ConfigError


def _loc(loc: tuple[int | str, ...], data: Any) -> str:
    """``periods[0] (2022).activities[2]`` from a pydantic error location."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = ""
            if isinstance(node, list) and 0 <= item < len(node):
                node = node[item]
                if isinstance(node, dict) and ("period" in node or "carrier" in node):
                    label = f" ({node.get('period', node.get('carrier'))})"
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]{label}"]
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def parse_inventory(data: Any, path: str = "<inventory>") -> Inventory:
    """Validate parsed YAML; ``ConfigError`` names ``path``, the entry and the problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the file must be a mapping with a 'periods' list")
    if not data.get("periods"):
        raise ConfigError(f"{path}: periods: missing or empty; give at least one period")
    try:
        return Inventory.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        extra = len(errors) - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        raise ConfigError(f"{path}: {_loc(tuple(first['loc']), data)}: {first['msg']}{more}") from None


def load_inventory(path: Path) -> Inventory:
    """Read and validate an inventory YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_inventory(data, str(path))


def account_file(path: Path) -> InventoryResult:
    """Load and account an inventory file; every error is a ``ConfigError`` naming the file."""
    inventory = load_inventory(path)
    try:
        return account(inventory)
    except AccountingInputError as exc:
        raise ConfigError(f"{path}: {exc}") from None
