"""Analyses over accounted periods: energy structure, Tapio decoupling, the park guideline's
pollution-carbon synergy states.

Tapio elasticity e = (ΔC/C₀) / (ΔG/G₀) with C the emissions and G the output value; the eight
states follow Tapio (2005) as tabulated in the project reference. The synergy states follow the
park synergy guideline's Appendix C: economy ↑ with pollutants ↓ and carbon ↓ = synergistic
decoupling; economy ↑ with one of them ↑ = non-synergistic decoupling; economy ↑ with both ↑ =
not yet decoupled; economy not ↑ = negative decoupling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TAPIO_LOW = 0.8
TAPIO_HIGH = 1.2


def tapio(c0: float, c1: float, g0: float, g1: float) -> tuple[float | None, str]:
    """Tapio elasticity and state from emissions C and output G of two periods.

    With no change in output the elasticity is undefined: ``(None, "undefined")``.
    """
    if c0 == 0 or g0 == 0 or g1 == g0:
        return None, "undefined"
    dg = (g1 - g0) / g0
    dc = (c1 - c0) / c0
    e = dc / dg
    k = round(e, 9)  # classify 0.8 and 1.2 as such despite binary rounding (0.08/0.1 < 0.8)
    if dg > 0:
        if k < 0:
            state = "strong_decoupling"
        elif k < TAPIO_LOW:
            state = "weak_decoupling"
        elif k <= TAPIO_HIGH:
            state = "expansive_coupling"
        else:
            state = "expansive_negative_decoupling"
    elif k < 0:
        state = "strong_negative_decoupling"
    elif k < TAPIO_LOW:
        state = "weak_negative_decoupling"
    elif k <= TAPIO_HIGH:
        state = "recessive_coupling"
    else:
        state = "recessive_decoupling"
    return e, state


def pollutants_decreased(p0: Mapping[str, float], p1: Mapping[str, float]) -> bool | None:
    """Whether pollutant emissions went down: every pollutant reported in both periods did not
    rise and at least one fell. ``None`` when no pollutant is reported in both."""
    common = sorted(set(p0) & set(p1))
    if not common:
        return None
    if any(p1[k] > p0[k] for k in common):
        return False
    return any(p1[k] < p0[k] for k in common)


def synergy_state(
    g0: float, g1: float, c0: float, c1: float,
    p0: Mapping[str, float], p1: Mapping[str, float],
) -> str | None:
    """The synergy state of Appendix C; ``None`` when the pollutants cannot be compared."""
    pollutants_down = pollutants_decreased(p0, p1)
    if pollutants_down is None:
        return None
    if g1 <= g0:
        return "negative_decoupling"
    carbon_down = c1 < c0
    if pollutants_down and carbon_down:
        return "synergistic_decoupling"
    if pollutants_down or carbon_down:
        return "non_synergistic_decoupling"
    return "not_decoupled"


def energy_structure(tce_by_group: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Shares of gross energy use by carrier group (coal, oil, natural_gas, electricity ...).

    Give the gross consumption of each line (exports and on-site secondary generation excluded
    by the caller); groups with a zero total are left out, shares sum to 1.
    """
    totals: dict[str, float] = {}
    for group, tce in tce_by_group:
        totals[group] = totals.get(group, 0.0) + tce
    gross = sum(v for v in totals.values() if v > 0)
    if gross <= 0:
        return {}
    return {g: v / gross for g, v in sorted(totals.items()) if v > 0}
