"""The Faust application: three agents wiring the pure pieces to Kafka.

- ``devices`` (``nt.readings.v1``, key device): per-device state in a changelogged table
  (co-partitioned with the readings); consumption, emissions, CEMS hours, device-level alerts.
  A group of up to ``TAKE_MAX`` batches goes through the columnar core in one step
  (``streams.group``); a group it cannot take whole is processed batch by batch
  (``processor.process_batch``), so one bad batch goes to the dead-letter topic alone.
- ``enterprises`` (``nt.emissions.v1`` + facts, key enterprise): rolling aggregates and the
  enterprise rules.
- ``park`` (park topic, key park id): park rolling aggregates and park rules.

Processing guarantee (docs/streams.md): at-least-once with idempotent outputs. Each event's
outputs are sent and acknowledged by Kafka *before* its state is written, and its state's
changelog record is acknowledged before its offset is acked. After a crash the state is
therefore never behind the committed offset, and reprocessed events either find their readings
already counted (nothing new) or produce the very same records, which the sink upserts.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

import faust
import orjson
from faust.types import EventT

from ingest.contract import (
    DLQ_MAX_MESSAGE_BYTES,
    TOPIC_ALERTS,
    TOPIC_CONSUMPTION,
    TOPIC_DLQ,
    TOPIC_EMISSIONS,
    TOPIC_READINGS,
    dumps,
)
from ingest.park.models import Park
from streams.columnar import PointIndex
from streams.commit_watch import CommitWatch, bookkeeping, positions
from streams.group import process_group
from streams.points import PointTable
from streams.processor import Outputs, process_batch
from streams.rules import RuleSet
from streams.scope_alerts import MAX_STEPS, advance, on_emission, on_seen
from streams.seek_guard import hold_until_seek
from streams.topics import TOPIC_CEMS_HOURLY, TOPIC_FACTS, TOPIC_PARK

log = logging.getLogger(__name__)

APP_ID = "nengtan-streams"

EXIT_RESTART_ME = 75
"""Exit status of a worker that must be restarted (EX_TEMPFAIL): its outputs could not be
delivered, or its offset commits stalled. It exits without committing anything more."""

TAKE_MAX = 500
"""Events processed together: their outputs are awaited once (one Kafka round trip for up to
this many events instead of one each), then their states are written and their offsets acked."""
TAKE_WITHIN_S = 0.05
"""How long a partial group waits for more events (the latency this adds at low rates)."""
COMMIT_STALL_S = 120.0
"""A partition read past its committed offset that has not committed for this long makes the
worker exit 75 to be restarted (``streams.commit_watch``); Faust commits every 2.8 s."""


def create_app(
    park: Park,
    table: PointTable,
    rules: RuleSet,
    *,
    bootstrap: str,
    partitions: int,
    data_dir: Path,
    app_id: str = APP_ID,
    instance_id: str | None = None,
) -> faust.App:
    """A Faust app for one park (not started). ``instance_id`` makes its consumer a static
    group member (KIP-345): restarted under the same id it rejoins without a rebalance."""
    app = faust.App(
        app_id,
        broker=[f"kafka://{h.strip()}" for h in bootstrap.split(",")],
        store="memory://",
        processing_guarantee="at_least_once",
        topic_partitions=partitions,
        web_enabled=False,
        datadir=str(data_dir),
        key_serializer="raw",
        value_serializer="raw",
        table_cleanup_interval=3600.0,
        producer_acks=-1,
        # a DLQ record carries the whole rejected payload (base64): up to the DLQ topic's limit
        producer_max_request_size=DLQ_MAX_MESSAGE_BYTES,
        consumer_auto_offset_reset="earliest",
        consumer_group_instance_id=instance_id,
    )

    def topic(name: str, *, internal: bool = False) -> faust.TopicT:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions if internal else None,
            internal=internal,
        )

    readings = topic(TOPIC_READINGS)
    consumption = topic(TOPIC_CONSUMPTION)
    emissions = topic(TOPIC_EMISSIONS)
    alerts = topic(TOPIC_ALERTS)
    dlq = topic(TOPIC_DLQ)
    cems_hourly = topic(TOPIC_CEMS_HOURLY, internal=True)
    facts = topic(TOPIC_FACTS, internal=True)
    park_topic = topic(TOPIC_PARK, internal=True)
    scope_in = app.topic(
        TOPIC_EMISSIONS, TOPIC_FACTS, key_type=bytes, value_type=bytes,
        key_serializer="raw", value_serializer="raw",
    )  # fmt: skip

    device_state = app.Table("nt-streams-device", default=dict, partitions=partitions)
    scope_state = app.Table("nt-streams-enterprise", default=dict, partitions=partitions)
    park_state = app.Table("nt-streams-park", default=dict, partitions=partitions)
    tz = rules.timezone_offset_ms
    index = PointIndex.of(table)
    stats = {"batches": 0, "stale": 0, "consumption": 0, "alerts": 0}

    async def deliver(futures: list[Awaitable[Any]]) -> None:
        """Wait until Kafka acknowledged every output (before the state is written).

        If an output cannot be delivered, the worker exits at once with status 75: an agent
        that raised would have its group's offsets acked by Faust all the same (and committed
        by the next commit), losing the group. Exiting commits nothing; the restarted worker
        (systemd, ``nengtan demo``) reprocesses the group from the last committed offset."""
        if not futures:
            return
        try:
            await asyncio.gather(*futures)
        except Exception:
            _exit_to_restart("outputs could not be delivered to Kafka; exiting without commit",
                             exc_info=True)  # fmt: skip

    async def send(t: faust.TopicT, key: str, value: dict[str, Any]) -> Awaitable[Any]:
        fut: Awaitable[Any] = await t.send(key=key.encode(), value=dumps(value), force=True)
        return fut

    async def reject(source: str, reason: str, payload: bytes) -> None:
        import base64

        record = {
            "received_ms": int(time.time() * 1000),
            "source": source,
            "reason": reason,
            "payload_b64": base64.b64encode(payload).decode("ascii"),
        }
        await deliver([await send(dlq, source, record)])

    @app.agent(readings)
    async def devices(stream: faust.StreamT[bytes]) -> None:
        async for events in _groups(stream):
            working: Working = {}
            futures = await device_group(events, working)
            await deliver(futures)
            await deliver(_store(device_state, working))

    async def device_group(
        events: Sequence[EventT[bytes]], working: Working
    ) -> list[Awaitable[Any]]:
        """A group of reading batches through the columnar core (``streams.group``): their
        outputs sent (not yet acknowledged), the devices' new states kept in ``working``. If
        the group cannot be processed as a whole (a batch the processor rejects), it is
        processed batch by batch, so only the bad batch goes to the dead-letter topic."""
        batches: list[tuple[str, dict[str, Any]]] = []
        taken: list[EventT[bytes]] = []
        for event in events:
            raw = event.value or b""
            try:
                device, batch = _reading_batch(raw)
            except (ValueError, KeyError, TypeError) as exc:
                await reject("streams", f"reading batch not readable: {exc}", raw)
                continue
            batches.append((device, batch))
            taken.append(event)
        states: dict[str, dict[str, Any]] = {}
        for device, _ in batches:
            if device not in states:
                states[device] = _fresh_device(device_state[device])
        try:
            out = process_group(table, index, rules, states, batches)
        except Exception:  # some batch is bad: find it the slow way
            log.warning("a group of %d reading batches is processed batch by batch",
                        len(batches), exc_info=True)  # fmt: skip
            futures: list[Awaitable[Any]] = []
            for event in taken:
                futures.extend(await device_event(event, working))
            return futures
        latest: dict[str, int] = {}
        for (device, batch), event in zip(batches, taken, strict=True):
            working[device] = (states[device], event)
            ts = max((int(r["ts"]) for r in batch["readings"]), default=None)
            if ts is not None:
                latest[device] = max(ts, latest.get(device, ts))
        futures = await send_outputs(out)
        for device, ts in latest.items():
            enterprise = _device_enterprise(park, device)
            if enterprise is not None:
                fact = {"kind": "seen", "device": device, "ts": ts}
                futures.append(await send(facts, enterprise, fact))
        stats["batches"] += len(batches)
        stats["stale"] += out.stale
        stats["consumption"] += len(out.consumption)
        stats["alerts"] += len(out.alerts)
        return futures

    async def send_outputs(out: Outputs) -> list[Awaitable[Any]]:
        futures: list[Awaitable[Any]] = []
        for c in out.consumption:
            futures.append(await send(consumption, c["point"], c))
        for e in out.emissions:
            futures.append(await send(emissions, e["enterprise"], e))
        for h in out.cems_hours:
            futures.append(await send(cems_hourly, h.stack, h.to_dict()))
            if h.valid or h.substitution not in (None, "provisional"):
                futures.append(await send(emissions, h.enterprise, _measured(h)))
        for a in out.alerts:
            futures.append(await send(alerts, _alert_key(a, table), a))
        return futures

    async def device_event(event: EventT[bytes], working: Working) -> list[Awaitable[Any]]:
        """One reading batch: its outputs sent (not yet acknowledged), the device's new state
        kept in ``working`` (written to the table only after every output is acknowledged)."""
        raw = event.value or b""
        try:
            device, batch = _reading_batch(raw)
        except (ValueError, KeyError, TypeError) as exc:
            await reject("streams", f"reading batch not readable: {exc}", raw)
            return []
        state = _fresh(working[device][0] if device in working else device_state[device])
        try:
            out = process_batch(table, rules, state, batch)
        except Exception as exc:  # one batch the processor cannot handle must not stop the rest
            log.exception("reading batch of %s could not be processed", device)
            await reject("streams", f"reading batch could not be processed: {exc!r}", raw)
            return []
        working[device] = (state, event)
        futures = await send_outputs(out)
        enterprise = _device_enterprise(park, device)
        latest = max((int(r["ts"]) for r in batch["readings"]), default=None)
        if enterprise is not None and latest is not None:
            fact = {"kind": "seen", "device": device, "ts": latest}
            futures.append(await send(facts, enterprise, fact))
        stats["batches"] += 1
        stats["stale"] += out.stale
        stats["consumption"] += len(out.consumption)
        stats["alerts"] += len(out.alerts)
        return futures

    @app.agent(scope_in)
    async def enterprises(stream: faust.StreamT[bytes]) -> None:
        async for events in _groups(stream):
            working: Working = {}
            futures: list[Awaitable[Any]] = []
            for event in events:
                futures.extend(await enterprise_event(event, working))
            await deliver(futures)
            await deliver(_store(scope_state, working))

    async def enterprise_event(event: EventT[bytes], working: Working) -> list[Awaitable[Any]]:
        """One emission record or fact of an enterprise (see ``device_event``)."""
        enterprise = (event.key or b"").decode()
        raw = event.value or b""
        try:
            rec = json.loads(raw)
        except ValueError as exc:
            await reject("streams", f"record not readable: {exc}", raw)
            return []
        state = _fresh(working[enterprise][0] if enterprise in working else scope_state[enterprise])
        try:
            if rec.get("kind") == "seen":
                on_seen(state, str(rec["device"]), int(rec["ts"]))
            else:
                on_emission(state, rec, tz)
            before = int(state.get("ev", 0))
            out = advance(rules, state, "enterprise", enterprise)
        except Exception as exc:  # as in device_event
            log.exception("record of %s could not be processed", enterprise)
            await reject("streams", f"record could not be processed: {exc!r}", raw)
            return []
        working[enterprise] = (state, event)
        futures = [await send(alerts, enterprise, a) for a in out]
        futures.extend(await _forward_minutes(state, before, enterprise))
        return futures

    async def _forward_minutes(
        state: dict[str, Any], before: int, enterprise: str
    ) -> list[Awaitable[Any]]:
        """Send the enterprise's newly judged minute totals to the park agent."""
        from streams.windows import MINUTE_MS

        after = int(state.get("ev", 0))
        if not before or after <= before:
            return []
        minutes = state.get("r", {}).get("m", {})
        out = []
        # at most the minutes ``advance`` judged (a day after a long silence): older ones are
        # past the rolling minute buckets anyway, and unbounded output stalls the worker
        first = max(before + MINUTE_MS, after - (MAX_STEPS - 1) * MINUTE_MS)
        for end in range(first, after + 1, MINUTE_MS):
            start = end - MINUTE_MS
            value = float(minutes.get(str(start), 0.0))
            rec = {"enterprise": enterprise, "start_ms": start, "end_ms": end, "co2e_t": value,
                   "source": enterprise, "method": "calculated"}  # fmt: skip
            out.append(await send(park_topic, park.id, rec))
        return out

    @app.agent(park_topic)
    async def park_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            rec = json.loads(event.value or b"")
            state = _fresh(park_state[park.id])
            on_emission(state, rec, tz)
            out = advance(rules, state, "park", park.id)
            await deliver([await send(alerts, park.id, a) for a in out])
            await deliver(_store(park_state, {park.id: (state, event)}))

    @app.timer(30.0)
    async def report() -> None:
        log.info("streams: %s", stats)

    watch = CommitWatch(COMMIT_STALL_S)
    inputs = {TOPIC_READINGS, TOPIC_EMISSIONS, TOPIC_FACTS, TOPIC_PARK}

    @app.on_partitions_assigned.connect
    def hold_inputs(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Before the first rebalance ends: the inputs stay paused until they are sought to
        their committed offsets (``streams.seek_guard``)."""
        hold_until_seek(app.consumer, inputs)

    @app.timer(10.0)
    async def watch_commits() -> None:
        stalled = watch.stalled(positions(app.consumer, inputs), time.monotonic())
        if stalled:
            for tp in stalled:
                log.critical("commit stalled: %s", bookkeeping(app.consumer, tp))
            _exit_to_restart("offset commits stalled for %.0f s on %s; exiting to be restarted "
                             "(it resumes from the committed offsets)", COMMIT_STALL_S,
                             ", ".join(sorted(str(tp) for tp in stalled)))  # fmt: skip

    _ = (devices, enterprises, park_agent, report, watch_commits, hold_inputs)
    return app


def _exit_to_restart(msg: str, *args: Any, exc_info: bool = False) -> NoReturn:
    """Log critically and exit at once with status 75 (restart me), bypassing Faust's shutdown
    and so committing nothing more; whatever restarts the worker resumes from the last commit."""
    log.critical(msg, *args, exc_info=exc_info)
    logging.shutdown()
    os._exit(EXIT_RESTART_ME)


def _groups(stream: faust.StreamT[bytes]) -> AsyncIterator[Sequence[EventT[bytes]]]:
    """The stream's events in groups of up to ``TAKE_MAX``; each group's offsets are acked only
    after the loop body that handles it has finished (``Stream.take_events``)."""
    return cast("faust.Stream[bytes]", stream).take_events(TAKE_MAX, within=TAKE_WITHIN_S)


Working = dict[str, tuple[dict[str, Any], "EventT[bytes]"]]
"""Key -> (its new state, the last event of the group that changed it)."""


def _store(state_table: Any, working: Working) -> list[Awaitable[Any]]:
    """Write a group's new states to the changelogged table; return their changelog sends,
    for the caller to await before the group's offsets are acked.

    Why not ``table[key] = state``: that queues the changelog record in Faust's producer buffer,
    and Faust's flush before an offset commit gives up on that buffer after 0.1 s without a send
    (``ProducerBuffer.flush_atmost``), so a busy worker could commit offsets whose states were
    still queued; killed then, it restarted behind its committed offsets (counters telescope
    over the gap, but a rate was held over it). Awaiting each record's delivery closes that.

    Each record goes to the partition of the key's own last event (the table is co-partitioned
    with its input; ``tests/streams/test_pipeline.py`` checks the partitions it produces)."""
    sends: list[Awaitable[Any]] = []
    for key, (state, event) in working.items():
        sends.append(state_table.send_changelog(event.message.partition, key, state))
        state_table.data[key] = state
    return sends


def _fresh(stored: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a table value to work on. The table's own object must never change after
    it was set: Faust serialises the changelog record later, when its buffer flushes, and a
    value changed in place would reach the changelog ahead of outputs not yet delivered."""
    return copy.deepcopy(stored)


def _fresh_device(stored: dict[str, Any]) -> dict[str, Any]:
    """A device state to work on (see ``_fresh``) without copying every point's entry:
    ``process_group`` replaces the entries it changes and never changes one in place."""
    fresh = {k: copy.deepcopy(v) for k, v in stored.items() if k != "points"}
    fresh["points"] = dict(stored.get("points", {}))
    return fresh


def _loads(raw: bytes) -> Any:
    """JSON with orjson; the stdlib for what orjson refuses (``NaN``/``Infinity`` tokens, which
    ``json.dumps`` writes for non-finite values)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _reading_batch(raw: bytes) -> tuple[str, dict[str, Any]]:
    """(device, batch) of a ``nt.readings/1`` message; ValueError, KeyError or TypeError when
    it is not one (the caller dead-letters it)."""
    batch = _loads(raw)
    device = str(batch["device"])
    if not isinstance(batch["readings"], list):
        raise TypeError("`readings` is not a list")
    return device, batch


def _measured(h: Any) -> dict[str, Any]:
    """A CEMS stack-hour as a measured emission record (``method: measured``)."""
    return {
        "source": h.stack,
        "enterprise": h.enterprise,
        "category": "fuel_combustion",
        "scope": 1,
        "start_ms": h.hour_start_ms,
        "end_ms": h.hour_start_ms + 3_600_000,
        "co2e_t": h.co2_t,
        "gases": {"CO2": h.co2_t},
        "factor_id": "cems.measured" if h.substitution is None else f"cems.{h.substitution}",
        "method": "measured",
    }


def _alert_key(alert: dict[str, Any], table: PointTable) -> str:
    """Alerts are keyed by enterprise (the contract); find it from the alert's scope."""
    scope_id = alert["scope"].split(":", 1)[1]
    if scope_id in table.points:
        return table.points[scope_id].enterprise
    stack = scope_id.rsplit(".", 1)[0]
    for candidate in (scope_id, stack):
        if candidate in table.stacks:
            return str(table.stacks[candidate].enterprise)
    return str(scope_id)


def _device_enterprise(park: Park, device: str) -> str | None:
    ix = park.index
    if device in ix.device_enterprise:
        return ix.device_enterprise[device]
    return ix.stack_enterprise.get(device)
