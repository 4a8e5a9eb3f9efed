"""Analysis views: energy structure and its trend, decoupling states per enterprise and industry,
STIRPAT drivers for the park, and recommendations derived from them.

Formulas are the accounting engine's: ``accounting.analysis.energy_structure``, ``tapio``,
``synergy_state`` and ``accounting.stirpat.fit``. Recommendation thresholds and wording are data
(``data/recommendations.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from accounting import analysis, stirpat
from management._data import load_yaml
from management.benchmark import PeerRow, ProductIntensity
from management.inputs import ManagementInputs
from management.metered import EnergyModel, Metered
from management.periods import Period
from management.production import enterprise_value
from nengtan.errors import ConfigError

Pollutants = Mapping[str, Mapping[str, Mapping[str, float]]]
"""scope (enterprise) -> period label -> pollutant -> t."""


def energy_structure(model: EnergyModel, metered: Metered, scope: str,
                     periods: Sequence[Period]) -> list[dict[str, Any]]:  # fmt: skip
    """Shares of gross energy by carrier group per period, with the change in share points."""
    out: list[dict[str, Any]] = []
    for p in periods:
        e = model.energy(scope, metered, p.first, p.last)
        shares = analysis.energy_structure(e.tce_by_group())
        prev = out[-1]["shares"] if out else None
        change = None if prev is None else {
            g: shares.get(g, 0.0) - prev.get(g, 0.0) for g in sorted(set(shares) | set(prev))}
        out.append({"scope": scope, "period": p.label, "gross_tce": sum(
            t for _, t in e.tce_by_group()), "shares": shares, "change": change})
    return out


@dataclass(frozen=True, slots=True)
class DecouplingRow:
    """Tapio and synergy states of an enterprise or an industry between two periods."""

    kind: str
    scope: str
    p0: str
    p1: str
    g0: float
    g1: float
    c0: float
    c1: float
    elasticity: float | None
    tapio_state: str
    synergy_state: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sum(maps: Sequence[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0.0) + v
    return out


def decoupling(model: EnergyModel, inputs: ManagementInputs, metered: Metered, p0: Period,
               p1: Period, pollutants: Pollutants | None = None) -> list[DecouplingRow]:  # fmt: skip
    """Per enterprise, then per industry (sums of its enterprises): G = output value,
    C = CO₂e; the synergy state needs pollutant tonnes of both periods."""
    pollutants = pollutants or {}
    per: dict[str, tuple[float, float, float, float, dict[str, float], dict[str, float]]] = {}
    rows = []
    for ent in model.park.enterprises:
        g0 = enterprise_value(model.park, inputs, ent.id, p0)
        g1 = enterprise_value(model.park, inputs, ent.id, p1)
        if g0 is None or g1 is None:
            continue
        c0 = model.energy(ent.id, metered, p0.first, p0.last).co2e_t
        c1 = model.energy(ent.id, metered, p1.first, p1.last).co2e_t
        q0 = dict(pollutants.get(ent.id, {}).get(p0.label, {}))
        q1 = dict(pollutants.get(ent.id, {}).get(p1.label, {}))
        per[ent.id] = (g0, g1, c0, c1, q0, q1)
        e, state = analysis.tapio(c0, c1, g0, g1)
        rows.append(DecouplingRow("enterprise", ent.id, p0.label, p1.label, g0, g1, c0, c1, e,
                                  state, analysis.synergy_state(g0, g1, c0, c1, q0, q1)))
    industries: dict[str, list[str]] = {}
    for ent in model.park.enterprises:
        if ent.id in per:
            industries.setdefault(ent.industry, []).append(ent.id)
    for ind, members in sorted(industries.items()):
        vals = [per[m] for m in members]
        g0, g1, c0, c1 = (sum(v[i] for v in vals) for i in range(4))  # type: ignore[misc]
        q0, q1 = _sum([v[4] for v in vals]), _sum([v[5] for v in vals])
        e, state = analysis.tapio(c0, c1, g0, g1)
        rows.append(DecouplingRow("industry", ind, p0.label, p1.label, g0, g1, c0, c1, e, state,
                                  analysis.synergy_state(g0, g1, c0, c1, q0, q1)))
    return rows


STIRPAT_DRIVERS: tuple[str, ...] = ("output_value", "energy_intensity", "electricity_share")


def stirpat_drivers(model: EnergyModel, inputs: ManagementInputs, metered: Metered,
                    periods: Sequence[Period], alpha: float = 0.1) -> dict[str, Any]:  # fmt: skip
    """STIRPAT over the park's enterprise-periods: ln CO₂e on ln output value (A), ln energy
    per output value (T) and ln electricity share of gross energy (structure)."""
    obs: list[dict[str, Any]] = []
    for p in periods:
        for ent in model.park.enterprises:
            value = enterprise_value(model.park, inputs, ent.id, p)
            e = model.energy(ent.id, metered, p.first, p.last)
            shares = analysis.energy_structure(e.tce_by_group())
            el = shares.get("electricity", 0.0)
            if not value or e.co2e_t <= 0 or e.energy_tce <= 0 or el <= 0:
                continue
            obs.append({"enterprise": ent.id, "period": p.label, "co2e_t": e.co2e_t,
                        "output_value": value, "energy_intensity": e.energy_tce / value,
                        "electricity_share": el})
    if len(obs) < 2:
        raise ConfigError("STIRPAT needs at least 2 enterprise-periods with data")
    fit = stirpat.fit([o["co2e_t"] for o in obs],
                      {d: [o[d] for o in obs] for d in STIRPAT_DRIVERS}, alpha)
    return {"fit": fit.as_dict(), "observations": obs}


@lru_cache(maxsize=1)
def _rules() -> dict[str, dict[str, Any]]:
    return {str(r["id"]): dict(r) for r in load_yaml("recommendations.yaml")["rules"]}


def _rec(rule_id: str, target: str, **fields: Any) -> dict[str, Any]:
    rule = _rules()[rule_id]
    return {"rule": rule_id, "priority": rule["priority"], "scope": target,
            "message": str(rule["message"]).format(**fields),
            "figures": {k: v for k, v in fields.items() if isinstance(v, int | float)}}


def recommendations(
    *,
    intensities: Sequence[ProductIntensity] = (),
    peers: Sequence[PeerRow] = (),
    electricity: Mapping[str, tuple[float, float]] | None = None,
    decoupling_rows: Sequence[DecouplingRow] = (),
    stirpat_fit: Mapping[str, Any] | None = None,
    period: str = "",
) -> list[dict[str, Any]]:
    """Recommendations from the views. ``electricity``: enterprise -> (purchased electricity
    tCO₂e, total tCO₂e) of the period."""
    rules = _rules()
    out = []
    for r in intensities:
        if r.level is None or r.kgce_per_unit is None or r.grade == "benchmark":
            continue
        rid = "efficiency.below_baseline" if r.grade == "below_baseline" \
            else "efficiency.above_benchmark"
        gap = (r.kgce_per_unit - r.level.benchmark) * r.output / 1000.0
        out.append(_rec(rid, r.enterprise, enterprise=r.enterprise, product=r.product,
                        value=r.kgce_per_unit, unit=r.level.unit, level=r.level.id,
                        benchmark=r.level.benchmark, baseline=r.level.baseline,
                        gap_benchmark_tce=gap, period=r.period))
    for ent, (el_t, total_t) in sorted((electricity or {}).items()):
        if total_t > 0 and el_t / total_t >= float(rules["structure.green_power"]["min_share"]):
            out.append(_rec("structure.green_power", ent, enterprise=ent, share=el_t / total_t,
                            co2e_t=el_t, period=period))
    for p in peers:
        if p.vs_park is not None and p.vs_park >= float(rules["peers.intensity"]["min_ratio"]):
            out.append(_rec("peers.intensity", p.enterprise, enterprise=p.enterprise,
                            tce_per_1e4_cny=p.tce_per_1e4_cny, ratio=p.vs_park))
    flagged = set(rules["decoupling.not_decoupled"]["states"])
    for d in decoupling_rows:
        for state in (d.tapio_state, d.synergy_state):
            if state in flagged:
                e = "n/a" if d.elasticity is None else f"{d.elasticity:.2f}"
                out.append(_rec("decoupling.not_decoupled", f"{d.kind}:{d.scope}",
                                scope=f"{d.kind} {d.scope}", state=state, p0=d.p0, p1=d.p1,
                                elasticity=e))
                break
    if stirpat_fit is not None:
        floor = float(rules["stirpat.lever"]["min_elasticity"])
        for driver, b in sorted(stirpat_fit["coefficients"].items(), key=lambda kv: -kv[1]):
            if b >= floor:
                out.append(_rec("stirpat.lever", "park", driver=driver, elasticity=b,
                                r2=stirpat_fit["r2"], n=stirpat_fit["n"]))
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(out, key=lambda r: order.get(r["priority"], 3))


def electricity_share(model: EnergyModel, metered: Metered,
                      period: Period) -> dict[str, tuple[float, float]]:  # fmt: skip
    """Enterprise -> (purchased-electricity tCO₂e, total tCO₂e) for the green-power rule."""
    out = {}
    for ent in model.park.enterprises:
        e = model.energy(ent.id, metered, period.first, period.last)
        el = sum(ln.co2e_t for ln in e.lines
                 if ln.carrier == "electricity" and ln.use == "purchased")
        out[ent.id] = (el, e.co2e_t)
    return out
