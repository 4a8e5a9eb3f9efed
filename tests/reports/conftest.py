"""A fresh, migrated database per test on the session's real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
MIN = 60_000
HOUR = 3_600_000


def sample_records() -> tuple[list[tuple[str, bytes, int]], list[object]]:
    """Sink records for two enterprises over two hours in January and one in February 2026,
    and the raw batches they came from (as ``evidence.ledger.RawRecord``)."""
    import json

    from evidence.ledger import RawRecord
    from ingest.contract import TOPIC_CONSUMPTION, TOPIC_EMISSIONS, TOPIC_READINGS
    from store.tables import TOPIC_CEMS_HOURLY

    def rec(topic: str, obj: dict[str, object]) -> tuple[str, bytes, int]:
        return topic, json.dumps(obj).encode(), T0

    sink: list[tuple[str, bytes, int]] = []
    raw: list[object] = []
    feb = T0 + 31 * 24 * HOUR
    starts = [T0 + i * MIN for i in range(120)] + [feb + i * MIN for i in range(60)]
    offset = 0
    for ent, point, carrier, uom, qty, ef, scope, cat, fid in (
        ("acme", "acme.grid.kwh", "electricity", "kWh", 30.0, 0.000581, 2,
         "purchased_electricity", "grid.national.2021.mee-2022-111"),
        ("acme", "acme.boiler1.gas", "natural_gas", "Nm3", 20.0, 0.0021622, 1,
         "fuel_combustion", "fuel.natural_gas.setA"),
        ("hengli", "hengli.grid.kwh", "electricity", "kWh", 90.0, 0.000581, 2,
         "purchased_electricity", "grid.national.2021.mee-2022-111"),
    ):  # fmt: skip
        counter = 1000.0
        for seq, s in enumerate([starts[0] - MIN, *starts]):
            payload = json.dumps({"schema": "nt.readings/1", "device": point + "-dev", "seq": seq,
                                  "sent_ms": s + 1000, "readings": [{"point": point, "ts": s,
                                  "value": counter, "q": "good"}]}).encode()  # fmt: skip
            sink.append((TOPIC_READINGS, payload, T0))
            raw.append(RawRecord(0, offset, (point + "-dev").encode(), payload))
            offset += 1
            counter += qty
        for s in starts:
            sink.append(rec(TOPIC_CONSUMPTION, {"point": point, "enterprise": ent, "carrier": carrier,
                "start_ms": s, "end_ms": s + MIN, "quantity": qty, "uom": uom, "kgce": qty * 0.1229}))  # fmt: skip
            sink.append(rec(TOPIC_EMISSIONS, {"source": point, "enterprise": ent, "category": cat,
                "scope": scope, "start_ms": s, "end_ms": s + MIN, "co2e_t": qty * ef,
                "gases": {"CO2": qty * ef}, "factor_id": fid, "method": "calculated"}))  # fmt: skip
    for h in range(2):
        sink.append(rec(TOPIC_CEMS_HOURLY, {"stack": "acme-stk1", "enterprise": "acme",
            "hour_start_ms": T0 + h * HOUR, "n_valid": 60 - 20 * h, "valid": h == 0, "co2_t": 2.5,
            "substitution": None if h == 0 else "mean_neighbours", "pollutant_kg": {"so2": 0.4},
            "pollutant_avg_mg_m3": {"so2": 12.0}}))  # fmt: skip
        sink.append(rec(TOPIC_EMISSIONS, {"source": "acme-stk1", "enterprise": "acme",
            "category": "fuel_combustion", "scope": 1, "start_ms": T0 + h * HOUR,
            "end_ms": T0 + (h + 1) * HOUR, "co2e_t": 2.5, "gases": {"CO2": 2.5},
            "factor_id": "cems.measured" if h == 0 else "cems.mean_neighbours",
            "method": "measured"}))  # fmt: skip
    return sink, raw


@pytest.fixture
def filled(db: str) -> str:
    """``db`` with the sample records stored by the real sink writer, hashed and sealed."""
    from evidence.factors import sync
    from evidence.ledger import Ledger
    from evidence.records import seal_records
    from store.sink import Writer

    sink, raw = sample_records()
    with psycopg.connect(db, autocommit=True) as conn:
        Writer(conn).write(sink)
        ledger = Ledger(conn, block=50)
        ledger.append(raw)  # type: ignore[arg-type]
        ledger.seal(flush=True)
        seal_records(conn, T0 + 40 * 24 * HOUR)
        sync(conn, "tester")
    return db
