"""Each adapter folder has the same README sections, and its Configuration names every field
of the config models (so the docs cannot silently drift from the code)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from adapters.modbus.config import (
    LoadProfileConfig,
    ModbusConfig,
    ModbusDeviceConfig,
    PointRegister,
    SampleField,
)
from adapters.mqtt.config import MqttConfig
from adapters.opcua.config import OpcUaConfig, OpcUaEndpointConfig, OpcUaNode

SRC = Path(__file__).resolve().parents[2] / "src" / "adapters"

MODELS: dict[str, list[type[BaseModel]]] = {
    "modbus": [ModbusConfig, ModbusDeviceConfig, PointRegister, LoadProfileConfig, SampleField],
    "opcua": [OpcUaConfig, OpcUaEndpointConfig, OpcUaNode],
    "mqtt": [MqttConfig],
}


@pytest.mark.parametrize("protocol", sorted(MODELS))
def test_readme_sections_and_config_fields(protocol: str) -> None:
    folder = SRC / protocol
    for name in ("adapter.py", "config.py", "README.md", "__init__.py"):
        assert (folder / name).exists(), f"{protocol}/{name} missing"
    text = (folder / "README.md").read_text(encoding="utf-8")
    for section in ("## Configuration", "## Readings", "## Example output"):
        assert section in text, f"{protocol}/README.md lacks {section}"
    config = text.split("## Configuration", 1)[1].split("## Readings", 1)[0]
    for model in MODELS[protocol]:
        for field in model.model_fields:
            assert f"{field}:" in config or f"{field}=" in config, (
                f"{protocol}/README.md Configuration does not show {model.__name__}.{field}"
            )
