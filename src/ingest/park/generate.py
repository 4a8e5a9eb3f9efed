"""Synthetic parks of any size, for benchmarks and soak tests.

``generate_park_yaml`` writes the park as JSON, which is YAML too, one entry a line: a
100,000-point park is written in about a second, and the loader reads JSON-form files with the
JSON parser (libyaml's Python-level constructor needs half a minute for the same file). The
result always passes ``nengtan park check``.

Layout per enterprise: two level-2 lines with two level-3 units each; about 60 % of its points
on Modbus meters (electricity, gas, steam, water; 247 unit ids per server port), 20 % on the
enterprise's OPC UA DCS (one server per 100 enterprises), 20 % on an MQTT gateway; every fifth
enterprise has a CEMS stack (its species points come on top of ``points``).
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MODBUS_BASE_PORT = 20000
OPCUA_BASE_PORT = 24840
UNITS_PER_MODBUS_PORT = 247
ENTERPRISES_PER_OPCUA_SERVER = 100

INDUSTRIES = ("chemicals", "steel", "cement", "food", "textiles", "electronics", "paper", "glass")

# (profile, [(register, kind, carrier, uom, use, nominal)]) -- nominal per hour for counters
_METERS: tuple[tuple[str, list[tuple[str, str, str, str, str, float]]], ...] = (
    (
        "three_phase_meter",
        [
            ("import_kwh", "counter", "electricity", "kWh", "purchased", 400.0),
            ("total_kw", "rate", "electricity", "kW", "purchased", 400.0),
        ],
    ),
    (
        "gas_flow_meter",
        [
            ("total_nm3", "counter", "natural_gas", "Nm3", "fuel", 300.0),
            ("flow_nm3h", "rate", "natural_gas", "Nm3/h", "fuel", 300.0),
        ],
    ),
    (
        "steam_meter",
        [
            ("total_t", "counter", "steam", "t", "purchased", 5.0),
            ("flow_th", "rate", "steam", "t/h", "purchased", 5.0),
        ],
    ),
    ("water_meter", [("total_m3", "counter", "water", "m3", "purchased", 20.0)]),
)
_DCS_TAGS: tuple[tuple[str, str, str | None, str, str | None, float], ...] = (
    ("fuel_flow", "rate", "natural_gas", "Nm3/h", "fuel", 500.0),
    ("steam_flow", "rate", "steam", "t/h", "generated", 8.0),
    ("temp", "gauge", None, "degC", None, 180.0),
    ("feed_gas", "rate", "natural_gas", "Nm3/h", "feedstock", 900.0),
    ("coal_feed", "rate", "bituminous_coal", "t/h", "fuel", 2.5),
    ("load", "gauge", None, "%", None, 70.0),
)
_GW_POINTS: tuple[tuple[str, str, str | None, str, str | None, float], ...] = (
    ("kwh", "counter", "electricity", "kWh", "purchased", 150.0),
    ("kw", "rate", "electricity", "kW", "purchased", 150.0),
    ("pv_kwh", "counter", "electricity_pv", "kWh", "generated", 60.0),
    ("diesel_kg", "counter", "diesel", "kg", "fuel", 20.0),
    ("air", "rate", "compressed_air", "Nm3/h", "purchased", 200.0),
)
_SHAPES = ("continuous", "two_shift", "three_shift", "office")
_CEMS_SPECIES = ("co2", "o2", "so2", "nox", "pm", "flow", "temp", "pressure", "moisture")


@dataclass
class _Ports:
    """Hands out Modbus (port, unit id) slots across the whole park."""

    port: int = MODBUS_BASE_PORT
    unit: int = 0

    def next(self) -> tuple[int, int]:
        self.unit += 1
        if self.unit > UNITS_PER_MODBUS_PORT:
            self.port += 1
            self.unit = 1
        return self.port, self.unit


def _split(total: int, parts: int) -> Iterator[int]:
    base, extra = divmod(total, parts)
    for i in range(parts):
        yield base + (1 if i < extra else 0)


def _load(nominal: float, shape: str) -> dict[str, Any]:
    return {"nominal": round(nominal, 3), "shape": shape}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def generate_park(enterprises: int, points: int, seed: int = 0) -> dict[str, Any]:
    """A park document with ``enterprises`` enterprises and exactly ``points`` meter points."""
    if enterprises < 1 or points < enterprises:
        raise ValueError("need at least one enterprise and one point per enterprise")
    rng = random.Random(seed)
    ports = _Ports()
    ents: list[dict[str, Any]] = []
    for ei, k in enumerate(_split(points, enterprises)):
        eid = f"e{ei:05d}"
        shape = rng.choice(_SHAPES)
        units: list[dict[str, Any]] = []
        for li in range(2):
            units.append({"id": f"{eid}.l{li}", "level": 2})
            for ui in range(2):
                units.append({"id": f"{eid}.l{li}.u{ui}", "level": 3, "parent": f"{eid}.l{li}"})
        n_gw = k // 5
        n_dcs = k // 5
        devices: list[dict[str, Any]] = []
        pts: list[dict[str, Any]] = []
        mi = 0
        left = k - n_gw - n_dcs
        while left > 0:  # Modbus meters, a whole meter at a time (the last may be partial)
            profile, regs = _METERS[mi % len(_METERS)]
            port, unit_id = ports.next()
            dev = f"{eid}-m{mi}"
            devices.append(
                {
                    "id": dev,
                    "protocol": "modbus",
                    "update_s": 10,
                    "modbus": {"port": port, "unit_id": unit_id, "profile": profile},
                }
            )
            unit = f"{eid}.l{mi % 2}.u{(mi // 2) % 2}"
            size = rng.uniform(0.5, 2.0)  # one meter, one size: its kWh and kW agree
            for reg, kind, carrier, uom, use, nominal in regs[:left]:
                pts.append(
                    {
                        "id": f"{dev}.{reg}",
                        "kind": kind,
                        "carrier": carrier,
                        "uom": uom,
                        "use": use,
                        "unit": unit,
                        "device": dev,
                        "register": reg,
                        "load": _load(nominal * size, shape),
                    }
                )
            left -= len(regs[:left])
            mi += 1
        if n_dcs:
            server = OPCUA_BASE_PORT + ei // ENTERPRISES_PER_OPCUA_SERVER
            dev = f"{eid}-dcs"
            devices.append(
                {
                    "id": dev,
                    "protocol": "opcua",
                    "update_s": 5,
                    "opcua": {"endpoint": f"opc.tcp://127.0.0.1:{server}/nengtan"},
                }
            )
            for ti in range(n_dcs):
                tag, tkind, tcarrier, tuom, tuse, tnominal = _DCS_TAGS[ti % len(_DCS_TAGS)]
                pt: dict[str, Any] = {"id": f"{dev}.{tag}{ti}", "kind": tkind}
                if tcarrier:
                    pt.update(carrier=tcarrier, use=tuse)
                pt.update(uom=tuom, unit=f"{eid}.l{ti % 2}", device=dev)
                pt["load"] = _load(tnominal * rng.uniform(0.5, 2.0), shape)
                pts.append(pt)
        if n_gw:
            dev = f"{eid}-gw"
            devices.append({"id": dev, "protocol": "mqtt", "update_s": 60})
            for gi in range(n_gw):
                name, gkind, gcarrier, guom, guse, gnominal = _GW_POINTS[gi % len(_GW_POINTS)]
                pts.append(
                    {
                        "id": f"{dev}.{name}{gi}",
                        "kind": gkind,
                        "carrier": gcarrier,
                        "uom": guom,
                        "use": guse,
                        "device": dev,
                        "load": _load(gnominal * rng.uniform(0.5, 2.0), shape),
                    }
                )
        ent: dict[str, Any] = {
            "id": eid,
            "industry": INDUSTRIES[ei % len(INDUSTRIES)],
            "region": "CN",
            "units": units,
            "devices": devices,
            "points": pts,
        }
        if ei % 5 == 0:
            ent["stacks"] = [
                {
                    "id": f"{eid}-stk",
                    "mn": f"MN{ei:010d}",
                    "unit": f"{eid}.l0",
                    "species": list(_CEMS_SPECIES),
                    "limits": {"so2": 35, "nox": 50, "pm": 10},
                }
            ]
        ents.append(ent)
    return {
        "schema": "nengtan.park/1",
        "id": f"synthetic-{enterprises}x{points}",
        "name": f"Synthetic park ({enterprises} enterprises, {points} meter points, seed {seed})",
        "region": "CN",
        "simulation": {"seed": seed},
        "enterprises": ents,
        "faults": [],
    }


def generate_park_yaml(enterprises: int, points: int, seed: int = 0) -> str:
    """The park of ``generate_park`` as text: JSON (a subset of YAML), one entry a line, which
    the loader reads at JSON speed."""
    park = generate_park(enterprises, points, seed)
    out = io.StringIO()
    w = out.write
    w("{\n")
    for key in ("schema", "id", "name", "region", "simulation"):
        w(f'"{key}": {_dumps(park[key])},\n')
    w('"enterprises": [\n')
    for ei, ent in enumerate(park["enterprises"]):
        w("  {")
        w(", ".join(f'"{k}": {_dumps(ent[k])}' for k in ("id", "industry", "region")))
        for key in ("units", "devices", "points", "stacks"):
            if key in ent:
                w(f',\n   "{key}": [\n    ')
                w(",\n    ".join(_dumps(item) for item in ent[key]))
                w("]")
        w("}" + ("," if ei < len(park["enterprises"]) - 1 else "") + "\n")
    w('],\n"faults": []\n}\n')
    return out.getvalue()
