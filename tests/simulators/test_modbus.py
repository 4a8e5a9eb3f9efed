"""Modbus meters on the wire: mbpoll (a foreign client) decodes documented values; a poller
that reads after every tick recomputes the truth exactly; faults show in the registers."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient

from adapters.modbus.codec import decode
from ingest.park import parse_park
from ingest.park.profiles import load_profiles
from simulators.engine import modbus_encoding
from simulators.runner import RunOptions, Simulation

pytestmark = pytest.mark.integration
START = 1_767_571_200_000  # 2026-01-05T00:00:00Z


async def _mbpoll(*args: str) -> list[float]:
    proc = await asyncio.create_subprocess_exec(
        "mbpoll",
        "-m",
        "tcp",
        "-0",
        "-1",
        "-o",
        "2",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode() + out.decode()
    return [float(v) for v in re.findall(r"^\[\d+\]:\s+(\S+)", out.decode(), re.M)]


@pytest.fixture
def modbus_sim(park_doc: Callable[..., dict[str, Any]]) -> Simulation:
    park = parse_park(park_doc(("modbus",)))
    return Simulation(park, RunOptions(start_ms=START, seed=42))


def test_mbpoll_reads_documented_registers(modbus_sim: Simulation) -> None:
    asyncio.run(_mbpoll_reads(modbus_sim))


async def _mbpoll_reads(sim: Simulation) -> None:
    await sim.setup()
    try:
        await sim.advance(START + 600_000)
        port = str(sim.park.index.device("acme-m1").modbus.port)  # type: ignore[union-attr]
        values: dict[str, float] = {}
        for tick_values in _last_values(sim):
            values.update(tick_values)
        # acme-m1 (unit 1): import_kwh float32 at 0, big-endian words (-B)
        (kwh,) = await _mbpoll("-a", "1", "-r", "0", "-t", "4:float", "-B", "-p", port, "127.0.0.1")
        assert kwh == pytest.approx(values["acme.grid.kwh"], rel=5e-6)  # 6 significant digits
        # acme-m2 (unit 2): import_kwh_u32, uint32 of 0.01 kWh at 100, little word order
        (raw,) = await _mbpoll("-a", "2", "-r", "100", "-t", "4:int", "-p", port, "127.0.0.1")
        assert raw * 0.01 == pytest.approx(values["acme.synth.kwh"], abs=1e-9)
        # the mirror float32 of the same quantity at 0 shows the same energy
        (mirror,) = await _mbpoll("-a", "2", "-r", "0", "-t", "4:float", "-p", port, "127.0.0.1")
        assert mirror == pytest.approx(values["acme.synth.kwh"], rel=5e-6)  # mbpoll prints %g
        # unbound gauges hold the profile default: pf at 18 is 0.95
        (pf,) = await _mbpoll("-a", "2", "-r", "18", "-t", "4:float", "-p", port, "127.0.0.1")
        assert pf == pytest.approx(0.95, rel=1e-7)
    finally:
        await sim.teardown()


def _last_values(sim: Simulation) -> list[dict[str, float]]:
    """Current emitted value of every point (from the engine's truth state)."""
    out = []
    for g in sim.meters.groups:
        out.append({pid: float(g.last_q[i]) for i, pid in enumerate(g.point_ids)})
    return out


def test_poller_recomputes_truth_and_sees_faults(
    modbus_sim: Simulation, recompute: tuple[Callable[..., Any], ...]
) -> None:
    asyncio.run(_poll_all(modbus_sim, recompute))


async def _poll_all(sim: Simulation, recompute: tuple[Callable[..., Any], ...]) -> None:
    profiles = load_profiles()
    ix = sim.park.index
    await sim.setup()
    polled: dict[str, list[tuple[int, float]]] = defaultdict(list)
    errors: dict[str, list[int]] = defaultdict(list)
    clients: dict[int, AsyncModbusTcpClient] = {}
    try:
        # poll at every tick instant of every device (10, 15 and 30 s cadences: every 5 s)
        for t in range(START, START + 3_600_001, 5_000):
            await sim.advance(t)
            for dev in ix.devices.values():
                assert dev.modbus is not None
                client = clients.get(dev.modbus.port)
                if client is None:
                    client = clients[dev.modbus.port] = AsyncModbusTcpClient(
                        "127.0.0.1", port=dev.modbus.port
                    )
                    assert await client.connect()
                profile = profiles[dev.modbus.profile]
                for pt in ix.points_of(dev.id):
                    assert pt.register is not None
                    reg = profile.register(pt.register)
                    rr = await client.read_holding_registers(
                        reg.address, count=reg.count, device_id=dev.modbus.unit_id
                    )
                    if rr.isError():
                        errors[dev.id].append(t)
                        assert rr.exception_code == 0x0B  # gateway target did not respond
                        break
                    value = decode(rr.registers, modbus_encoding(dev, profile, reg))
                    polled[pt.id].append((t, value))
    finally:
        for client in clients.values():
            client.close()
        await sim.teardown()
    truth = sim.meters.truth_points()
    points, _ = recompute
    kinds = {p: truth[p]["kind"] for p in truth}
    again = points({p: polled[p] for p in kinds}, kinds, {p: truth[p]["modulus"] for p in truth})
    for pid, total in again.items():
        assert truth[pid]["consumption"] == pytest.approx(total, rel=1e-12, abs=1e-9), pid
    # offline acme-m4 from 2400 s for 300 s: exception 0x0B, nothing else failed
    assert set(errors) == {"acme-m4"}
    assert errors["acme-m4"] == list(range(START + 2_400_000, START + 2_700_000, 5_000))
    # reset of acme.grid.kwh after 1200 s; wrap of acme.water.m3 at 100 000 m3
    kwh = dict(polled["acme.grid.kwh"])
    assert kwh[START + 1_200_000] > 500 and kwh[START + 1_210_000] < 10
    water = [v for _, v in polled["acme.water.m3"]]
    drops = [(a, b) for a, b in itertools.pairwise(water) if b < a]
    assert len(drops) == 1 and drops[0][0] > 99_990 and drops[0][1] < 10
    # stuck acme.synth.kwh (uint32 register) from 600 s to 1200 s
    synth = dict(polled["acme.synth.kwh"])
    assert len({synth[t] for t in range(START + 600_000, START + 1_200_000, 5_000)}) == 1


def test_port_in_use_is_a_service_error(park_doc: Callable[..., dict[str, Any]]) -> None:
    import socket

    from nengtan.errors import ServiceError

    doc = park_doc(("modbus",))
    port = doc["enterprises"][0]["devices"][0]["modbus"]["port"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        sim = Simulation(parse_park(doc), RunOptions(start_ms=START))
        with pytest.raises(ServiceError, match=f"modbus 127.0.0.1:{port}: cannot listen"):
            asyncio.run(sim.setup())


def test_no_register_is_served_before_the_first_sample(modbus_sim: Simulation) -> None:
    asyncio.run(_before_setup(modbus_sim))


async def _before_setup(sim: Simulation) -> None:
    """Listening but not yet ticked: exception 0x06 (device busy), never the zero registers of
    an unset meter; from the first tick on, the emitted value and the ring's first sample."""
    from adapters.modbus.config import load_profile_config

    profiles = load_profiles()
    dev = sim.park.index.device("acme-m2")
    assert dev.modbus is not None
    profile = profiles[dev.modbus.profile]
    reg = profile.register("import_kwh_u32")
    await sim.setup()
    client = AsyncModbusTcpClient("127.0.0.1", port=dev.modbus.port)
    try:
        assert await client.connect()
        rr = await client.read_holding_registers(100, count=2, device_id=dev.modbus.unit_id)
        assert rr.isError() and rr.exception_code == 0x06
        await sim.advance(START)
        rr = await client.read_holding_registers(100, count=2, device_id=dev.modbus.unit_id)
        assert decode(rr.registers, modbus_encoding(dev, profile, reg)) == 1_250_000.0
        lp = load_profile_config(profile, "little", "big")  # acme-m2 swaps words
        assert lp is not None
        ring = lp.layout()
        rr = await client.read_holding_registers(
            ring.address, count=2, device_id=dev.modbus.unit_id
        )
        assert ring.decode_header(rr.registers) == 1
        rr = await client.read_holding_registers(
            ring.slot_address(1), count=ring.sample_size, device_id=dev.modbus.unit_id
        )
        sample = ring.decode_sample(rr.registers)
        assert (sample.seq, sample.ts_ms) == (1, START)
        assert sample.values[lp.field_index("import_kwh_u32")] == 1_250_000.0
    finally:
        client.close()
        await sim.teardown()
