"""Fixtures for the simulator tests: the example park on free ports, cut down to the protocols a
test needs, and an independent recomputation of the truth from emitted values."""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from nengtan.stack.procs import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "park-small.yaml"
HOUR_MS = 3_600_000


def example_doc(protocols: tuple[str, ...] = ("modbus", "opcua", "mqtt")) -> dict[str, Any]:
    """The example park on free ports, keeping only devices (and stacks, for mqtt) of
    ``protocols`` and the faults whose targets remain."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    modbus_ports: dict[int, int] = {}
    opcua_port = free_port()
    kept: set[str] = set()
    for ent in doc["enterprises"]:
        devices = []
        for dev in ent["devices"]:
            if dev["protocol"] not in protocols:
                continue
            if dev["protocol"] == "modbus":
                old = dev["modbus"]["port"]
                dev["modbus"]["port"] = modbus_ports.setdefault(old, free_port())
            if dev["protocol"] == "opcua":
                dev["opcua"]["endpoint"] = f"opc.tcp://127.0.0.1:{opcua_port}/nengtan"
            devices.append(dev)
            kept.add(dev["id"])
        ent["devices"] = devices
        ent["points"] = [p for p in ent["points"] if p.get("device") in kept]
        if "mqtt" not in protocols:
            ent.pop("stacks", None)
        for st in ent.get("stacks", []):
            kept.add(st["id"])
        kept.update(p["id"] for p in ent["points"])
    doc["enterprises"] = [e for e in doc["enterprises"] if e["points"] or e.get("stacks")]
    doc["faults"] = [f for f in doc["faults"] if f["target"] in kept]
    return doc


def recompute_points(
    emitted: dict[str, list[tuple[int, float]]],
    kinds: dict[str, str],
    moduli: dict[str, float | None],
) -> dict[str, float]:
    """Consumption per point from its emitted (ts, value) series, as the pipeline would:
    counters difference (a drop is a wrap when wrapping is the smaller explanation, else a
    reset counting the new value), rates integrate sample-and-hold over hours."""
    out: dict[str, float] = {}
    for pid, series in emitted.items():
        kind = kinds[pid]
        total = 0.0
        for (t1, v1), (t2, v2) in itertools.pairwise(series):
            if kind == "counter":
                m = moduli.get(pid)
                if v2 >= v1:
                    total += v2 - v1
                elif m and v2 + m - v1 < m / 2:
                    total += v2 + m - v1
                else:
                    total += v2
            elif kind == "rate":
                total += v1 * (t2 - t1) / HOUR_MS
        out[pid] = total
    return out


def recompute_stacks(minutes: dict[str, dict[int, tuple[dict[str, float], str]]]) -> dict[str, Any]:
    """Per stack: list of (hour_ms, n_valid, co2_t or None, so2_kg or None)."""
    out: dict[str, Any] = {}
    for stack, by_ts in minutes.items():
        hours: dict[int, list[tuple[dict[str, float], str]]] = defaultdict(list)
        for ts, m in sorted(by_ts.items()):
            hours[ts - ts % HOUR_MS].append(m)
        rows = []
        for hour, mins in sorted(hours.items()):
            valid = [v for v, flag in mins if flag == "N"]
            co2 = sum(v["co2"] / 100 * v["flow"] / 60 * 1.9643 / 1000 for v in valid)
            so2 = sum(v["so2"] * v["flow"] / 60 * 1e-6 for v in valid)
            n = len(valid)
            ok = n >= 45
            rows.append((hour, n, co2 * 60 / n if ok else None, so2 * 60 / n if ok else None))
        out[stack] = rows
    return out


@pytest.fixture(scope="session")
def recompute() -> tuple[Callable[..., dict[str, float]], Callable[..., dict[str, Any]]]:
    return recompute_points, recompute_stacks


@pytest.fixture(scope="session")
def park_doc() -> Callable[..., dict[str, Any]]:
    return example_doc
