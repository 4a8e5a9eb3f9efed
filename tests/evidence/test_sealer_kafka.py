"""``nengtan evidence seal`` against the real Kafka: batches on nt.readings.v1 are hashed once
(a second run adds nothing), sealed, verified against the rows the real sink stored, and the
roots are published on nt.evidence.roots.v1."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from evidence.consumer import SealOptions, published_roots, run_sealer
from evidence.hashing import chain_hash, merkle_root, sha256_hex
from evidence.seals import TOPIC_ROOTS, seal_hash_of, seals
from evidence.verify import verify
from ingest.contract import TOPIC_READINGS
from nengtan.settings import Settings
from store.sink import run_sink

pytestmark = pytest.mark.integration

T0 = 1_767_571_200_000


def test_seal_consumer_hashes_exact_bytes_once_and_publishes_roots(
    db: str, stack_settings: Settings
) -> None:
    from kafka import KafkaConsumer, KafkaProducer  # type: ignore[import-untyped]

    tag = uuid.uuid4().hex[:8]
    devices = [f"ev-{tag}-a", f"ev-{tag}-b"]
    sent: dict[str, list[bytes]] = {d: [] for d in devices}
    producer = KafkaProducer(bootstrap_servers=stack_settings.bootstrap, acks="all")
    for seq in range(7):
        for d in devices:
            # deliberately not in the canonical form: the hash is of the bytes as sent
            value = (f'{{"schema": "nt.readings/1", "device": "{d}", "seq": {seq}, '
                     f'"sent_ms": {T0 + seq * 1000}, "readings": [{{"point": "{d}.kwh", '
                     f'"ts": {T0 + seq * 1000}, "value": {seq * 1.5}}}]}}').encode()  # fmt: skip
            producer.send(TOPIC_READINGS, key=d.encode(), value=value)
            sent[d].append(value)
    producer.flush()
    producer.close()
    run_sink(stack_settings.bootstrap, db, group_id=f"sink-{tag}", topics=(TOPIC_READINGS,),
             idle_exit_s=4.0)  # fmt: skip
    opts = SealOptions(block=4, once=True, records_through_ms=T0)
    first = run_sealer(stack_settings.bootstrap, db, opts)
    again = run_sealer(stack_settings.bootstrap, db, opts)
    assert first.batches >= 14 and again.batches == 0 and again.seals == 0
    with psycopg.connect(db, autocommit=True) as conn:
        for d in devices:
            hashes = [r[0] for r in conn.execute(
                'SELECT batch_hash FROM evidence_batches WHERE device = %s ORDER BY "offset"',
                (d,)).fetchall()]  # fmt: skip
            assert hashes == [sha256_hex(v) for v in sent[d]]
        unsealed = conn.execute("SELECT count(*) FROM evidence_batches WHERE seal_id IS NULL").fetchone()
        assert unsealed == (0,)
        seal_hashes = {r[0] for r in conn.execute(
            "SELECT seal_hash FROM evidence_seals WHERE published_at IS NOT NULL").fetchall()}  # fmt: skip
        total = conn.execute("SELECT count(*) FROM evidence_seals").fetchone()
        assert total is not None and len(seal_hashes) == total[0] > 0
        result = verify(conn)
        assert result.ok, result.problems[:3]
        assert result.counts["raw readings"] >= 14
    consumer = KafkaConsumer(TOPIC_ROOTS, bootstrap_servers=stack_settings.bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000,
                             group_id=None)  # fmt: skip
    published = {json.loads(m.value)["seal_hash"] for m in consumer}
    consumer.close()
    assert seal_hashes <= published
    assert published_roots(stack_settings.bootstrap) == published

    # a thorough rewrite: the newest batch of a partition changed and every hash above it
    # recomputed in the database; only the published roots still show it
    with psycopg.connect(db, autocommit=True) as conn:
        # the newest batch of the partition: in the newest seal, the last of its source
        part, off, prev, payload, seal_id = conn.execute(
            'SELECT "partition", "offset", prev_chain, payload, seal_id FROM evidence_batches'
            ' WHERE "partition" = (SELECT "partition" FROM evidence_batches WHERE device = %s'
            ' LIMIT 1) ORDER BY "offset" DESC LIMIT 1', (devices[0],)).fetchone()  # fmt: skip
        forged = bytes(payload) + b" "
        bh = sha256_hex(forged)
        ch = chain_hash(prev, bh)
        conn.execute('UPDATE evidence_batches SET payload = %s, batch_hash = %s, chain_hash = %s'
                     ' WHERE "partition" = %s AND "offset" = %s', (forged, bh, ch, part, off))  # fmt: skip
        leaves = [r[0] for r in conn.execute(
            'SELECT chain_hash FROM evidence_batches WHERE seal_id = %s ORDER BY "offset"',
            (seal_id,)).fetchall()]  # fmt: skip
        (s,) = [x for x in seals(conn) if x.seal_id == seal_id]
        root = merkle_root(leaves)
        h = seal_hash_of(s.kind, s.scope, s.range_from, s.range_to, s.n_leaves, root, s.prev_seal_hash)
        conn.execute("UPDATE evidence_seals SET root = %s, seal_hash = %s WHERE seal_id = %s",
                     (root, h, seal_id))  # fmt: skip
        assert verify(conn).ok  # consistent inside the database ...
        caught = verify(conn, published=published_roots(stack_settings.bootstrap))
    assert [p.record for p in caught.problems] == [f"evidence_seals #{seal_id} (readings {s.scope})"]
