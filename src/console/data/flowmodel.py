"""Energy flow (sources → conversion → distribution → end use, with losses) and the energy
balance table, as a pure function of per-point totals — so it is tested without a database.

The model, in tce (kgce / 1000):

- **sources**: per input carrier and use (purchased, fuel, feedstock), the enterprise totals of
  the inventory points (the same points the consumption totals add); plus generated carriers
  with no metered conversion (rooftop PV);
- **conversion**: a workshop (level-2 unit, level-3 units rolled up to their parent) that has
  ``generated`` points (a boiler house making steam). Its inputs are its sub-metered inputs, its
  output the generated carrier; input minus output is the conversion loss;
- **distribution**: one node per carrier: what the sources did not send to conversion, plus
  conversion outputs;
- **end use**: workshops by their sub-meters, ``exported`` (export meters), and the remainder
  of each carrier as ``unmetered use and losses`` (the incomer minus its sub-meters).

Where several meters of one workshop measure the same flow, the rule of the inventory applies:
counters before rates, then the top-most metering level; of several generated meters of one
flow (steam in t and in GJ) the largest is taken, since they measure the same flow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

INPUT_USES = ("purchased", "fuel", "feedstock")
SITE = "site"
"""Area of points with no production unit (enterprise level)."""


@dataclass(frozen=True, slots=True)
class PointTotal:
    """One point's consumption over the period, with what the flow needs to place it."""

    point: str
    enterprise: str
    carrier: str
    use: str | None
    kind: str
    level: int
    area: str | None
    """The level-2 workshop the point belongs to (None: enterprise level)."""
    inventory: bool
    quantity: float
    uom: str
    kgce: float


@dataclass(slots=True)
class Flow:
    """Sankey nodes and links (tce), and the balance rows per carrier."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    balance: list[dict[str, Any]] = field(default_factory=list)


def _select(points: list[PointTotal]) -> list[PointTotal]:
    """Counters before rates, then the top-most level (the inventory rule, per group)."""
    pool = [p for p in points if p.kind == "counter"] or [p for p in points if p.kind == "rate"]
    if not pool:
        return []
    top = min(p.level for p in pool)
    return [p for p in pool if p.level == top]


def _significant(value: float, reference: float) -> bool:
    """Positive beyond float round-off of the sums it came from."""
    return value > 1e-9 * max(abs(reference), 1e-12)


def build_flow(totals: Iterable[PointTotal]) -> Flow:
    """The flow and balance of the given points (one enterprise, or several summed)."""
    pts = [p for p in totals if p.carrier and p.use]
    link: dict[tuple[str, str], float] = defaultdict(float)
    kinds: dict[str, str] = {}
    names: dict[str, str] = {}

    def node(nid: str, kind: str, name: str) -> str:
        kinds[nid] = kind
        names[nid] = name
        return nid

    bal: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    uoms: dict[str, str] = {}
    to_conv: dict[tuple[str, str], float] = defaultdict(float)
    by_use: dict[tuple[str, str], float] = defaultdict(float)
    conversion_areas = {(p.enterprise, p.area) for p in pts if p.use == "generated" and p.area}

    # sources: inventory totals per carrier and use
    for p in pts:
        if p.inventory and p.use in INPUT_USES:
            bal[p.carrier]["input_tce"] += p.kgce / 1000
            bal[p.carrier]["input_quantity"] += p.quantity
            uoms.setdefault(p.carrier, p.uom)
        if p.inventory and p.use == "exported":
            bal[p.carrier]["exported_tce"] += p.kgce / 1000

    # sub-metered groups per (enterprise, area, carrier, use)
    groups: dict[tuple[str, str | None, str, str], list[PointTotal]] = defaultdict(list)
    for p in pts:
        if p.area is not None and p.use is not None:
            groups[(p.enterprise, p.area, p.carrier, p.use)].append(p)
    for (ent, area, carrier, use), members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        chosen = _select(members)
        if not chosen:
            continue
        area_id = f"area:{area}"
        if use == "generated":
            out_tce = max(p.kgce for p in chosen) / 1000
            conv = node(area_id, "conversion", str(area))
            link[(conv, node(f"dist:{carrier}", "distribution", carrier))] += out_tce
            bal[carrier]["generated_tce"] += out_tce
        elif use in INPUT_USES:
            tce = sum(p.kgce for p in chosen) / 1000
            if (ent, area) in conversion_areas:
                conv = node(area_id, "conversion", str(area))
                link[(node(f"src:{carrier}:{use}", "source", f"{carrier} ({use})"), conv)] += tce
                bal[carrier]["to_conversion_tce"] += tce
                to_conv[(carrier, use)] += tce
            else:
                end = node(area_id, "end_use", str(area))
                link[(node(f"dist:{carrier}", "distribution", carrier), end)] += tce
                bal[carrier]["end_use_metered_tce"] += tce

    # generated with no conversion area (e.g. PV on the roof): a source of its own
    for p in pts:
        if p.use == "generated" and p.area is None and p.inventory:
            tce = p.kgce / 1000
            src = node(f"src:{p.carrier}:generated", "source", f"{p.carrier} (generated)")
            link[(src, node(f"dist:{p.carrier}", "distribution", p.carrier))] += tce
            bal[p.carrier]["generated_tce"] += tce

    # sources to distribution: per use, what did not go to conversion
    for p in pts:
        if p.inventory and p.use in INPUT_USES:
            by_use[(p.carrier, p.use)] += p.kgce / 1000
    for (carrier, use), tce in sorted(by_use.items()):
        direct = tce - to_conv[(carrier, use)]
        if _significant(direct, tce):
            src = node(f"src:{carrier}:{use}", "source", f"{carrier} ({use})")
            link[(src, node(f"dist:{carrier}", "distribution", carrier))] += direct
    for carrier, b in bal.items():
        if b["exported_tce"] > 0:
            link[
                (
                    node(f"dist:{carrier}", "distribution", carrier),
                    node("out:exported", "end_use", "exported"),
                )
            ] += b["exported_tce"]

    # conversion losses
    conv_in: dict[str, float] = defaultdict(float)
    conv_out: dict[str, float] = defaultdict(float)
    for (a, b_), v in link.items():
        if kinds.get(b_) == "conversion":
            conv_in[b_] += v
        if kinds.get(a) == "conversion":
            conv_out[a] += v
    for conv in sorted(conv_in):
        loss = conv_in[conv] - conv_out[conv]
        if _significant(loss, conv_in[conv]):
            link[(conv, node("loss:conversion", "loss", "conversion losses"))] += loss

    # distribution remainder: unmetered use and losses
    for carrier, b in bal.items():
        inflow = b["input_tce"] - b["to_conversion_tce"] + b["generated_tce"]
        rest = inflow - b["end_use_metered_tce"] - b["exported_tce"]
        b["unmetered_and_losses_tce"] = rest
        if _significant(rest, inflow):
            link[
                (
                    node(f"dist:{carrier}", "distribution", carrier),
                    node("loss:unmetered", "loss", "unmetered use and losses"),
                )
            ] += rest

    flow = Flow()
    used = {n for pair in link for n in pair}
    flow.nodes = [{"id": n, "kind": kinds[n], "name": names[n]} for n in sorted(used)]
    flow.links = [
        {"source": a, "target": b, "tce": v} for (a, b), v in sorted(link.items()) if v > 0
    ]
    for carrier in sorted(bal):
        b = bal[carrier]
        flow.balance.append(
            {
                "carrier": carrier,
                "uom": uoms.get(carrier),
                "input_quantity": float(b["input_quantity"]),
                "input_tce": float(b["input_tce"]),
                "generated_tce": float(b["generated_tce"]),
                "to_conversion_tce": float(b["to_conversion_tce"]),
                "exported_tce": float(b["exported_tce"]),
                "end_use_metered_tce": float(b["end_use_metered_tce"]),
                "unmetered_and_losses_tce": float(b["unmetered_and_losses_tce"]),
            }
        )
    return flow
