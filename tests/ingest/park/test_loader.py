"""Park file loading: the example park, lookups, and clear errors for broken files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.park import load_park, parse_park
from nengtan.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "park-small.yaml"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_example_park_loads_with_lookups() -> None:
    park = load_park(EXAMPLE)
    ix = park.index
    assert len(ix.enterprises) == 3
    assert len(ix.stacks) == 2
    # 39 meter points + 2 stacks × 9 species
    assert len(ix.points) == 39 + 18
    assert ix.enterprise_of("hengli.pv.kwh") == "hengli"
    assert ix.device("acme-m1").modbus is not None
    assert [p.id for p in ix.points_of("acme-m1")] == [
        "acme.grid.kwh",
        "acme.grid.kw",
        "acme.grid.v_l1",
    ]
    co2 = ix.stack_point("acme-stk1", "co2")
    assert (co2.id, co2.uom, co2.kind, co2.level) == ("acme-stk1.co2", "%", "gauge", 2)
    assert ix.enterprise_of("hengli-stk1.so2") == "hengli"
    assert ix.enterprise_of_source("hengli-stk1") == "hengli"
    # a manual-entry point has no device and is still known
    assert ix.point("acme.manual.diesel").device is None


def _problem(doc: dict[str, Any], edit: Any) -> str:
    broken = copy.deepcopy(doc)
    edit(broken)
    with pytest.raises(ConfigError) as info:
        parse_park(broken, "park.yaml")
    assert info.value.exit_code == 2
    return str(info.value)


def test_unknown_carrier_names_file_path_and_problem(doc: dict[str, Any]) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["enterprises"][0]["points"][5]["carrier"] = "natgas"

    msg = _problem(doc, edit)
    assert msg.startswith("park.yaml: enterprises[0](acme).points[5](acme.boiler1.gas)")
    assert "unknown carrier 'natgas'" in msg


def test_schema_error_path_and_unknown_field(doc: dict[str, Any]) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["enterprises"][1]["points"][0]["kind"] = "totaliser"
        d["enterprises"][1]["devices"][0]["colour"] = "red"

    msg = _problem(doc, edit)
    assert "2 problems" in msg
    assert "enterprises[1](hengli).points[0](hengli.grid.kwh).kind" in msg
    assert "enterprises[1](hengli).devices[0](hengli-m1).colour: unknown field" in msg


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["enterprises"][0]["points"][0].update(register="nope"), "has no 'nope'"),
        (lambda d: d["enterprises"][0]["points"][1].update(id="acme.grid.kwh"), "already used"),
        (lambda d: d["enterprises"][0]["points"][0].update(uom="kW"), "is a rate"),
        (lambda d: d["enterprises"][0]["points"][3].update(level=3), "unit is level 2"),
        (lambda d: d["enterprises"][0]["devices"][1]["modbus"].update(unit_id=1), "unit 1 is also"),
        (lambda d: d["enterprises"][0]["stacks"][0]["limits"].update(co=10), "not among"),
        (lambda d: d["faults"][0].update(target="nowhere"), "no point 'nowhere'"),
        (lambda d: d["faults"][1].update(target="acme.grid.kwh"), "never wraps"),
        (
            lambda d: d["faults"].append(
                {"kind": "gap", "target": "acme-m1", "at_s": 1, "duration_s": 5}
            ),
            "needs an MQTT publisher",
        ),
        (lambda d: d["faults"].append({"kind": "melt", "target": "x", "at_s": 1}), "melt"),
        (lambda d: d["enterprises"][2]["points"][0].update(device="acme-m1"), "no device"),
    ],
)
def test_cross_reference_problems(doc: dict[str, Any], edit: Any, expected: str) -> None:
    assert expected in _problem(doc, edit)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: nengtan.park/1\nid: x\nenterprises: [\n  {id: a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML: line \d+"):
        load_park(bad)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read park file"):
        load_park(tmp_path / "absent.yaml")


def test_json_form_syntax_error_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "big.yaml"
    bad.write_text(
        '{\n"schema": "nengtan.park/1",\n"id": "x"\n"enterprises": []}\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"big.yaml: not valid JSON-form YAML: line 4, column 1"):
        load_park(bad)
