"""CEMS stacks: minute data per stack, vectorised over its species.

Tick ``k ≥ 1`` of a stack (every ``update_s``, 60 s for minute data) reports the minute that
started at ``t - update``: each species at ``baseline × (1 + noise × z)`` (clipped at 0), times
the over-emission factor of any active episode on the stack (its limited species, or those the
fault names) or on its enterprise (flue-gas flow, so the stack's masses scale), rounded to the
decimals the message carries. The minute's flag is ``N`` unless a ``cems_flag`` fault is
active. A silent stack (offline, gap) emits nothing for that minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.park.models import Park, Stack
from simulators.faults import FaultPlan
from simulators.reference import reference


@dataclass
class CemsMinute:
    """One minute of one stack as emitted (``ts_ms``: the minute's start, skew included)."""

    stack: Stack
    enterprise: str
    t_ms: int
    ts_ms: int
    values: dict[str, float]
    flag: str
    emitted: bool


@dataclass
class _StackState:
    stack: Stack
    enterprise: str
    index: int
    update_ms: int
    species: list[str]
    baseline: np.ndarray
    decimals: list[int]
    pollutant: np.ndarray  # species an over-emission episode multiplies by default
    flow_at: int | None
    rng: np.random.Generator
    next_k: int = 1


class CemsEngine:
    """All stacks of a park."""

    def __init__(self, park: Park, plan: FaultPlan, start_ms: int, seed: int) -> None:
        ref = reference()
        self.plan = plan
        self.start_ms = start_ms
        self.stacks: list[_StackState] = []
        ix = park.index
        for si, st in enumerate(ix.stacks.values()):
            base = [
                st.baseline.get(sp, ref.cems_default_baseline.get(sp, 1.0)) for sp in st.species
            ]
            limited = set(st.limits) or set(ref.cems_pollutants)
            self.stacks.append(
                _StackState(
                    stack=st,
                    enterprise=ix.stack_enterprise[st.id],
                    index=si,
                    update_ms=round(st.update_s * 1000),
                    species=list(st.species),
                    baseline=np.array(base, dtype=np.float64),
                    decimals=[ref.cems_decimals.get(sp, 3) for sp in st.species],
                    pollutant=np.array([sp in limited for sp in st.species]),
                    flow_at=st.species.index("flow") if "flow" in st.species else None,
                    rng=np.random.default_rng([seed, 1_000_000 + si]),
                )
            )

    def next_due_ms(self) -> int:
        if not self.stacks:
            return 2**62
        return min(self.start_ms + s.next_k * s.update_ms for s in self.stacks)

    def advance_to(self, t_ms: int) -> list[CemsMinute]:
        """Every stack minute due at or before ``t_ms``, in time order."""
        out: list[CemsMinute] = []
        for s in self.stacks:
            while self.start_ms + s.next_k * s.update_ms <= t_ms:
                out.append(self._minute(s, self.start_ms + s.next_k * s.update_ms))
                s.next_k += 1
        out.sort(key=lambda m: (m.t_ms, m.stack.id))
        return out

    def _minute(self, s: _StackState, t: int) -> CemsMinute:
        z = s.rng.standard_normal(len(s.species))
        v = s.baseline * (1.0 + s.stack.noise * z)
        np.maximum(v, 0.0, out=v)
        minute_start = t - s.update_ms
        for i, sp in enumerate(s.species):
            for ep in self.plan.over_emission.get(s.stack.id, []):
                if ep.t0 <= minute_start < ep.t1:
                    hit = sp in ep.species if ep.species else bool(s.pollutant[i])
                    if hit:
                        v[i] *= ep.factor
        if s.flow_at is not None:
            v[s.flow_at] *= self.plan.factor_at(s.enterprise, minute_start)
        values = {sp: round(float(v[i]), s.decimals[i]) for i, sp in enumerate(s.species)}
        skew = self.plan.skew_ms.get(s.stack.id, 0)
        skew = round(skew / 1000) * 1000  # HJ 212 DataTime has whole seconds
        return CemsMinute(
            stack=s.stack,
            enterprise=s.enterprise,
            t_ms=t,
            ts_ms=minute_start + skew,
            values=values,
            flag=self.plan.flag_at(s.stack.id, minute_start),
            emitted=not self.plan.is_silent(s.stack.id, t),
        )
