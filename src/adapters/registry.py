"""The adapter registry: protocol name -> adapter class, imported on first use.

Adding a protocol is one line here (and a folder beside the others). Classes are named by
import path so ``nengtan --help`` never imports pymodbus, asyncua or paho.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from nengtan.errors import ConfigError

if TYPE_CHECKING:
    from adapters.base import Adapter

ADAPTERS: dict[str, str] = {
    "modbus": "adapters.modbus.adapter:ModbusAdapter",
    "opcua": "adapters.opcua.adapter:OpcUaAdapter",
    "mqtt": "adapters.mqtt.adapter:MqttAdapter",
}


def adapter_class(protocol: str) -> type[Adapter]:
    """The adapter class for ``protocol``; ``ConfigError`` for an unknown one."""
    try:
        target = ADAPTERS[protocol]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(f"unknown adapter protocol {protocol!r}; known: {known}") from None
    module, _, name = target.partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module), name)
    return cls
