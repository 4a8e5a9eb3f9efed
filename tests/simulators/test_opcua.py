"""The OPC UA DCS: an asyncua client browses the tag tree, subscribes, receives every data
change with the simulated SourceTimestamp, and sees an offline device's tags turn bad."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from asyncua import Client, ua

from ingest.park import parse_park
from simulators.runner import RunOptions, Simulation

pytestmark = pytest.mark.integration
START = 1_767_571_200_000


class Collector:
    """Subscription handler keeping every notification."""

    def __init__(self) -> None:
        self.changes: dict[str, list[tuple[int | None, float | None, bool]]] = defaultdict(list)

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        dv = data.monitored_item.Value
        ts = dv.SourceTimestamp
        ts_ms = int(ts.replace(tzinfo=UTC).timestamp() * 1000) if ts else None
        key = node.nodeid.Identifier
        self.changes[key].append((ts_ms, val, dv.StatusCode.is_good()))


def test_browse_subscribe_and_offline(
    park_doc: Callable[..., dict[str, Any]], recompute: tuple[Callable[..., Any], ...]
) -> None:
    doc = park_doc(("opcua",))
    doc["faults"] = [{"kind": "offline", "target": "hengli-dcs", "at_s": 60, "duration_s": 30}]
    park = parse_park(doc)
    asyncio.run(_run(Simulation(park, RunOptions(start_ms=START, seed=1)), recompute))


async def _run(sim: Simulation, recompute: tuple[Callable[..., Any], ...]) -> None:
    await sim.setup()
    endpoint = next(iter(sim.park.index.devices.values())).opcua.endpoint  # type: ignore[union-attr]
    client = Client(endpoint)
    collector = Collector()
    try:
        async with client:
            # browse Objects/acme/acme.boiler-house/acme.boiler-1 down to the tags
            objects = client.nodes.objects
            names = {(await n.read_browse_name()).Name: n for n in await objects.get_children()}
            assert {"acme", "hengli"} <= set(names)
            house = await _child(names["acme"], "acme.boiler-house")
            boiler = await _child(house, "acme.boiler-1")
            tags = {(await n.read_browse_name()).Name for n in await boiler.get_children()}
            assert tags == {
                "acme.boiler1.load",
                "acme.boiler1.steam_flow",
                "acme.boiler1.steam_temp",
            }
            temp = client.get_node("ns=2;s=acme.boiler1.steam_temp")
            status = (await temp.read_data_value(raise_on_bad_status=False)).StatusCode
            assert status.value == ua.StatusCodes.BadWaitingForInitialData
            nodes = [client.get_node(f"ns=2;s={pid}") for pid in sim.park.index.points]
            sub = await client.create_subscription(20, collector)
            await sub.subscribe_data_change(nodes, queuesize=1000)
            for t in range(START, START + 120_001, 5_000):
                await sim.advance(t)
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
    finally:
        await sim.teardown()
    emitted = {g.point_ids[i]: g for g in sim.meters.groups for i in range(g.size)}
    assert set(collector.changes) == set(emitted)
    good = {k: [(ts, v) for ts, v, ok in ch if ok] for k, ch in collector.changes.items()}
    # every 5 s tick of 2 minutes delivered with its simulated SourceTimestamp
    feed = good["acme.feed.gas"]
    assert [ts for ts, _ in feed] == list(range(START, START + 120_001, 5_000))
    # offline 60..90 s: hengli tags turn BadNoCommunication, then recover
    furnace = collector.changes["hengli.furnace.temp"]
    bad = [i for i, (_, _, ok) in enumerate(furnace) if not ok]
    assert bad, furnace
    good_ts = [ts for ts, _, ok in furnace if ok and ts is not None]
    assert not [ts for ts in good_ts if START + 60_000 <= ts < START + 90_000]
    assert START + 90_000 in good_ts
    # what the subscriber saw recomputes the truth exactly (a data change only on change:
    # skipped repeats add nothing to a counter difference or a sample-and-hold integral)
    truth = sim.meters.truth_points()
    points, _ = recompute
    kinds = {p: truth[p]["kind"] for p in truth}
    again = points({p: good[p] for p in kinds}, kinds, {p: None for p in kinds})
    for pid, total in again.items():
        assert truth[pid]["consumption"] == pytest.approx(total, rel=1e-12), pid


async def _child(node: Any, name: str) -> Any:
    for child in await node.get_children():
        if (await child.read_browse_name()).Name == name:
            return child
    raise AssertionError(f"no {name} under {node}")


def test_history_read_returns_every_change_with_its_source_time(
    park_doc: Callable[..., dict[str, Any]], recompute: tuple[Callable[..., Any], ...]
) -> None:
    doc = park_doc(("opcua",))
    doc["faults"] = [{"kind": "offline", "target": "hengli-dcs", "at_s": 60, "duration_s": 30}]
    park = parse_park(doc)
    asyncio.run(_history(Simulation(park, RunOptions(start_ms=START, seed=1)), recompute))


async def _history(sim: Simulation, recompute: tuple[Callable[..., Any], ...]) -> None:
    from datetime import datetime

    from simulators.opcua_server import history_values

    await sim.setup()
    endpoint = next(iter(sim.park.index.devices.values())).opcua.endpoint  # type: ignore[union-attr]
    try:
        # no client is subscribed while the run advances: only the history has the changes
        for t in range(START, START + 120_001, 5_000):
            await sim.advance(t)
            await asyncio.sleep(0.02)  # asyncua historizes through a 10 ms internal publish
        await asyncio.sleep(0.1)
        async with Client(endpoint) as client:
            read: dict[str, list[Any]] = {}
            for pid in sim.park.index.points:
                node = client.get_node(f"ns=2;s={pid}")
                read[pid] = await node.read_raw_history(datetime(1970, 1, 2, tzinfo=UTC))
            access = await client.get_node("ns=2;s=acme.feed.gas").read_attribute(
                ua.AttributeIds.AccessLevel  # type: ignore[attr-defined]
            )
    finally:
        await sim.teardown()
    assert access.Value.Value & ua.AccessLevel.HistoryRead.mask
    assert history_values(len(read)) == 100_000  # the example park's 10 tags
    good: dict[str, list[tuple[int, float]]] = {}
    for pid, values in read.items():
        # first the initial status, every value then stamped with its simulated instant
        assert values[0].StatusCode.value == ua.StatusCodes.BadWaitingForInitialData
        good[pid] = [
            (int(dv.SourceTimestamp.timestamp() * 1000), dv.Value.Value)
            for dv in values[1:]
            if dv.StatusCode.is_good()
        ]
    assert [ts for ts, _ in good["acme.feed.gas"]] == list(range(START, START + 120_001, 5_000))
    furnace = read["hengli.furnace.temp"]
    offline = [dv for dv in furnace if dv.StatusCode.value == ua.StatusCodes.BadNoCommunication]
    assert [int(dv.SourceTimestamp.timestamp() * 1000) for dv in offline] == [START + 60_000]
    # the history alone recomputes the truth exactly
    truth = sim.meters.truth_points()
    points, _ = recompute
    kinds = {p: truth[p]["kind"] for p in truth}
    again = points({p: good[p] for p in kinds}, kinds, {p: None for p in kinds})
    for pid, total in again.items():
        assert truth[pid]["consumption"] == pytest.approx(total, rel=1e-12), pid
