"""The ledger and its verification on a real PostgreSQL: untouched data verifies; one changed
raw reading, emission record or factor row is found and named."""

from __future__ import annotations

import json

import psycopg
import pytest

from evidence import events
from evidence.factors import correct, sync, versions
from evidence.hashing import GENESIS, chain_hash, merkle_root, sha256_hex
from evidence.ledger import Ledger, RawRecord
from evidence.recalc import recalculate, recalculations
from evidence.records import seal_records
from evidence.verify import verify
from ingest.contract import TOPIC_CONSUMPTION, TOPIC_EMISSIONS, TOPIC_READINGS
from store.sink import Writer

pytestmark = pytest.mark.integration

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
MIN = 60_000


def batch(device: str, seq: int, point: str, ts: int, value: float) -> bytes:
    return json.dumps({"schema": "nt.readings/1", "device": device, "seq": seq, "sent_ms": ts + 500,
                       "readings": [{"point": point, "ts": ts, "value": value, "q": "good"}]},
                      separators=(",", ":")).encode()  # fmt: skip


def populate(conn: psycopg.Connection[tuple[object, ...]]) -> list[RawRecord]:
    """Two devices' batches on two partitions, stored by the real sink writer, plus their
    consumption and emission records; everything hashed and sealed."""
    recs: list[RawRecord] = []
    sink: list[tuple[str, bytes, int]] = []
    for i in range(5):
        for part, dev, point in ((0, "m1", "e1.grid.kwh"), (1, "m2", "e1.gas")):
            value = batch(dev, i, point, T0 + i * MIN, 1000.0 + 7.25 * i)
            recs.append(RawRecord(part, i, dev.encode(), value))
            sink.append((TOPIC_READINGS, value, T0))
    for i in range(4):
        start = T0 + i * MIN
        sink.append((TOPIC_CONSUMPTION, json.dumps({"point": "e1.grid.kwh", "enterprise": "e1",
            "carrier": "electricity", "start_ms": start, "end_ms": start + MIN, "quantity": 7.25,
            "uom": "kWh", "kgce": 7.25 * 0.1229}).encode(), T0))  # fmt: skip
        sink.append((TOPIC_EMISSIONS, json.dumps({"source": "e1.grid.kwh", "enterprise": "e1",
            "category": "purchased_electricity", "scope": 2, "start_ms": start,
            "end_ms": start + MIN, "co2e_t": 7.25 * 0.000581, "gases": {"CO2": 7.25 * 0.000581},
            "factor_id": "grid.national.2021.mee-2022-111", "method": "calculated"}).encode(), T0))  # fmt: skip
    Writer(conn).write(sink)
    ledger = Ledger(conn, block=3)
    assert ledger.append(recs) == 10
    assert ledger.append(recs) == 0  # idempotent: offsets already stored are skipped
    ledger.seal(flush=True)
    seal_records(conn, T0 + 3_600_000)
    sync(conn, "tester")
    return recs


def test_chain_and_roots_are_recomputable_by_hand(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        recs = populate(conn)
        m1 = [r for r in recs if r.key == b"m1"]
        prev = GENESIS
        for r in m1:
            prev = chain_hash(prev, sha256_hex(r.value))
        head = conn.execute("SELECT chain_hash, n_batches FROM evidence_heads WHERE device = 'm1'").fetchone()
        assert head == (prev, 5)
        # block size 3 on partition 0: offsets 0-2 (complete) and 3-4 (flushed)
        seals = conn.execute(
            "SELECT range_from, range_to, n_leaves, root FROM evidence_seals"
            " WHERE scope = 'nt.readings.v1/0' ORDER BY seal_id").fetchall()  # fmt: skip
        chains = [r[0] for r in conn.execute(
            "SELECT chain_hash FROM evidence_batches WHERE \"partition\" = 0 ORDER BY \"offset\"")]  # fmt: skip
        assert seals == [(0, 2, 3, merkle_root(chains[:3])), (3, 4, 2, merkle_root(chains[3:]))]


def test_untouched_data_verifies(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        result = verify(conn)
    assert result.ok, result.problems
    assert result.counts["batches"] == 10
    assert result.counts["raw readings"] == 10
    assert result.counts["emissions records"] == 4
    assert result.counts["consumption records"] == 4
    assert result.counts["factor versions"] > 50


def test_changed_raw_reading_is_named(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        conn.execute("UPDATE readings_raw SET value = value + 1 WHERE point = 'e1.gas'"
                     f" AND ts = 'epoch'::timestamptz + {T0 + 2 * MIN} * INTERVAL '1 millisecond'")  # fmt: skip
        result = verify(conn)
    assert not result.ok
    first = result.problems[0]
    assert first.record == f"readings_raw point=e1.gas ts={T0 + 2 * MIN}"
    assert "1015.5" in first.detail and "1014.5" in first.detail and "seq 2" in first.detail
    assert len(result.problems) == 1


def test_changed_batch_payload_breaks_its_hash(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        conn.execute("UPDATE evidence_batches SET payload = convert_to(replace(convert_from(payload,"
                     " 'UTF8'), '1007.25', '1008.25'), 'UTF8') WHERE device = 'm1' AND seq = 1")  # fmt: skip
        result = verify(conn)
    assert not result.ok
    assert result.problems[0].record.startswith("evidence_batches nt.readings.v1/0@1 (device m1, seq 1)")
    assert "payload does not match" in result.problems[0].detail


def test_changed_emission_record_is_named(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        conn.execute("UPDATE emissions SET co2e_t = co2e_t * 0.5"
                     f" WHERE start_ts = 'epoch'::timestamptz + {T0 + MIN} * INTERVAL '1 millisecond'")  # fmt: skip
        result = verify(conn)
    assert [p.record for p in result.problems] == [
        f"emissions:e1.grid.kwh|{T0 + MIN}|{T0 + 2 * MIN}"
    ]
    assert "changed since it was sealed" in result.problems[0].detail


def test_deleted_and_added_records_are_named(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        conn.execute("DELETE FROM consumption WHERE start_ts = 'epoch'::timestamptz"
                     f" + {T0} * INTERVAL '1 millisecond'")  # fmt: skip
        conn.execute("INSERT INTO emissions SELECT 'e1.fake', enterprise, category, scope,"
                     " start_ts + INTERVAL '10 minutes', end_ts + INTERVAL '10 minutes', 1.0, gases,"
                     " factor_id, method FROM emissions LIMIT 1")  # fmt: skip
        problems = {p.record: p.detail for p in verify(conn).problems}
    assert "deleted" in problems[f"consumption:e1.grid.kwh|{T0}|{T0 + MIN}"]
    assert "added after" in problems[f"emissions:e1.fake|{T0 + 10 * MIN}|{T0 + 11 * MIN}"]


def test_changed_factor_row_is_named(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        fid = versions(conn)[0].factor_id
        conn.execute("UPDATE factor_versions SET \"values\" = jsonb_set(\"values\","
                     " ARRAY[(SELECT min(k) FROM jsonb_object_keys(\"values\") k)], '9.99')"
                     " WHERE factor_id = %s", (fid,))  # fmt: skip
        result = verify(conn)
    assert [p.record for p in result.problems] == [f"factor_versions {fid} version 1"]


def test_edited_event_breaks_the_event_chain(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        conn.execute("UPDATE evidence_events SET reason = 'nothing to see' WHERE event_id = 3")
        result = verify(conn)
    assert [p.record.split(" (")[0] for p in result.problems] == ["evidence_events #3"]


def test_correction_and_recalculation_are_recorded_without_rewriting(db: str) -> None:
    from datetime import date

    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        fid = "grid.national.2021.mee-2022-111"
        v1 = versions(conn, fid)[0]
        before = conn.execute("SELECT sum(co2e_t) FROM emissions").fetchone()
        v2 = correct(conn, fid, {"ef": v1.values["ef"] * 0.9}, date(2026, 1, 1), None,
                     "auditor", "corrected by notice X")  # fmt: skip
        r = recalculate(conn, "e1", T0, T0 + 3_600_000, fid, v2.version, "auditor", "apply notice X")
        assert r.n_records == 4 and r.from_version == 1 and r.to_version == 2
        assert r.corrected_co2e_t == pytest.approx(r.original_co2e_t * 0.9, rel=1e-12)
        assert conn.execute("SELECT sum(co2e_t) FROM emissions").fetchone() == before
        assert recalculations(conn, "e1", T0, T0 + 86_400_000)[0]["actor"] == "auditor"
        kinds = [e.kind for e in events.events(conn)][-2:]
        assert kinds == ["factor_version", "recalculation"]
        assert verify(conn).ok


def test_window_limits_the_check_and_still_names_a_change_inside(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        conn.execute("UPDATE readings_raw SET value = -1 WHERE point = 'e1.gas'"
                     f" AND ts = 'epoch'::timestamptz + {T0 + 4 * MIN} * INTERVAL '1 millisecond'")  # fmt: skip
        inside = verify(conn, T0 + 3 * MIN, T0 + 5 * MIN)
        before = verify(conn, T0, T0 + 3 * MIN)
    assert inside.counts["raw readings"] == 4  # two devices × minutes 3 and 4
    assert [p.record for p in inside.problems] == [f"readings_raw point=e1.gas ts={T0 + 4 * MIN}"]
    assert before.ok, before.problems


def test_manual_entry_is_an_event_naming_who(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        populate(conn)
        value = batch("manual:alice", 0, "e1.diesel", T0, 1.25)
        Ledger(conn, block=3).append([RawRecord(2, 0, b"manual:alice", value)])
        (ev,) = events.events(conn, "manual_entry")
        assert (ev.subject, ev.actor, ev.at_ms) == ("manual:alice", "alice", T0 + 500)
        assert ev.body["batch_hash"] == sha256_hex(value)
        Writer(conn).write([(TOPIC_READINGS, value, T0)])
        assert verify(conn).ok
