"""The energy-flow model on a hand-built enterprise (numbers checked by hand in comments)."""

from __future__ import annotations

import pytest

from console.data.flowmodel import PointTotal, build_flow


def pt(point: str, carrier: str, use: str, level: int, area: str | None, inventory: bool,
       kgce: float, kind: str = "counter") -> PointTotal:  # fmt: skip
    return PointTotal(point, "acme", carrier, use, kind, level, area, inventory, kgce, "u", kgce)


POINTS = [
    pt("grid", "electricity", "purchased", 1, None, True, 7.374),  # incomer
    pt("synth", "electricity", "purchased", 2, "synthesis", False, 1.229),  # line meter under it
    pt("grid_kw", "electricity", "purchased", 1, None, False, 7.0, kind="rate"),  # redundant signal
    pt("gas", "natural_gas", "fuel", 3, "boiler-house", True, 26.6),  # boiler fuel
    pt("steam_t", "steam", "generated", 2, "boiler-house", True, 20.0),
    pt("steam_gj", "steam", "generated", 2, "boiler-house", True, 17.06),  # same flow in GJ
    pt("feed", "natural_gas", "feedstock", 2, "synthesis", True, 53.2),
    pt("export", "electricity", "exported", 1, None, True, 0.6),
]


def links(flow_links: list[dict[str, object]]) -> dict[tuple[object, object], float]:
    return {(x["source"], x["target"]): float(x["tce"]) for x in flow_links}  # type: ignore[arg-type]


def test_flow_links_and_losses() -> None:
    flow = build_flow(POINTS)
    got = links(flow.links)
    want = {
        # boiler: 26.6 kgce gas in, steam out = max(20.0, 17.06) (two meters of one flow)
        ("src:natural_gas:fuel", "area:boiler-house"): 0.0266,
        ("area:boiler-house", "dist:steam"): 0.020,
        ("area:boiler-house", "loss:conversion"): 0.0066,  # 26.6 - 20.0 kgce
        # electricity: the incomer (not the kW signal) enters; the line meter is end use
        ("src:electricity:purchased", "dist:electricity"): 0.007374,
        ("dist:electricity", "area:synthesis"): 0.001229,
        ("dist:electricity", "out:exported"): 0.0006,
        # 7.374 - 1.229 - 0.6 = 5.545 kgce unmetered
        ("dist:electricity", "loss:unmetered"): 0.005545,
        # feedstock straight to its line, fuel entirely to the boiler (no direct link)
        ("src:natural_gas:feedstock", "dist:natural_gas"): 0.0532,
        ("dist:natural_gas", "area:synthesis"): 0.0532,
        # steam made on site has no metered consumer
        ("dist:steam", "loss:unmetered"): 0.020,
    }
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    kinds = {n["id"]: n["kind"] for n in flow.nodes}
    assert kinds["area:boiler-house"] == "conversion"
    assert kinds["area:synthesis"] == "end_use"


def test_balance_closes_per_carrier() -> None:
    flow = build_flow(POINTS)
    for row in flow.balance:
        inflow = row["input_tce"] + row["generated_tce"]
        outflow = (row["to_conversion_tce"] + row["exported_tce"] + row["end_use_metered_tce"]
                   + row["unmetered_and_losses_tce"])  # fmt: skip
        assert inflow == pytest.approx(outflow, abs=1e-12), row["carrier"]
    gas = next(r for r in flow.balance if r["carrier"] == "natural_gas")
    assert gas["input_tce"] == pytest.approx(0.0798)  # 26.6 + 53.2 kgce
    assert gas["to_conversion_tce"] == pytest.approx(0.0266)


def test_generated_without_unit_is_a_source() -> None:
    flow = build_flow([pt("pv", "electricity_pv", "generated", 1, None, True, 4.0)])
    assert links(flow.links) == {("src:electricity_pv:generated", "dist:electricity_pv"): 0.004,
                                 ("dist:electricity_pv", "loss:unmetered"): 0.004}  # fmt: skip


def test_empty() -> None:
    flow = build_flow([])
    assert flow.nodes == [] and flow.links == [] and flow.balance == []
