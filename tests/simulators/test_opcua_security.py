"""OPC UA with Basic256Sha256 SignAndEncrypt (``nengtan pki`` certificates): the simulated DCS
refuses a client without a certificate and one whose certificate is not in its trust list, and
serves the adapter's secured connection (``adapters.opcua.adapter.secure_client``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client

from adapters.opcua.adapter import OpcUaAdapter, secure_client
from adapters.opcua.config import OpcUaSecurity
from ingest.intake import Intake
from ingest.park import parse_park
from ingest.publisher import Publisher
from ingest.validate import Validator
from nengtan.pki import init_pki
from nengtan.settings import load_settings
from simulators.runner import RunOptions, Simulation

pytestmark = pytest.mark.integration
START = 1_767_571_200_000


def test_secured_dcs_takes_only_trusted_certificates(
    park_doc: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    park = parse_park(park_doc(("opcua",)))
    settings = load_settings(state_dir=tmp_path / "state", opcua_security=True)
    [config] = OpcUaAdapter.configs_for_park(park, settings)  # makes the pki on first use
    assert config.security is not None
    pki = init_pki(settings.state_dir)
    foreign = init_pki(tmp_path / "elsewhere")  # same kind of certificate, another CA
    untrusted = OpcUaSecurity(
        certificate=foreign.cert("client", der=True),
        private_key=foreign.key("client"),
        server_certificate=pki.cert("server", der=True),
    )
    sim = Simulation(park, RunOptions(start_ms=START, seed=1, opcua_pki=pki))
    publisher = Publisher("127.0.0.1:1", tmp_path / "spool")  # never started: spool only
    intake = Intake(Validator.for_park(park), publisher)
    adapter = OpcUaAdapter(config, intake, park)
    try:
        asyncio.run(_probe(sim, config.security, untrusted, adapter, intake))
    finally:
        publisher.close()


async def _probe(
    sim: Simulation,
    trusted: OpcUaSecurity,
    untrusted: OpcUaSecurity,
    adapter: OpcUaAdapter,
    intake: Intake,
) -> None:
    await sim.setup()
    endpoint = sim.opcua[0].endpoint
    try:
        # no certificate: the server has no unsecured endpoint to open a session on
        with pytest.raises(Exception) as plain:
            async with Client(endpoint, timeout=4) as client:
                await client.nodes.objects.get_children()
        assert "No matching endpoints" in str(plain.value)
        # what the server offers (discovery runs unsecured): SignAndEncrypt endpoints only
        offered = await Client(endpoint, timeout=4).connect_and_get_server_endpoints()
        assert {(e.SecurityPolicyUri.rsplit("#")[-1], e.SecurityMode.name) for e in offered} == {
            ("Basic256Sha256", "SignAndEncrypt")
        }
        # a certificate from another CA: refused when the secure channel opens
        client = Client(endpoint, timeout=4)
        await secure_client(client, untrusted)
        with pytest.raises(
            Exception, match=r"BadCertificateUntrusted|BadSecurityChecksFailed"
        ) as bad:
            async with client:
                await client.nodes.objects.get_children()
        assert type(bad.value).__name__ == "BadCertificateUntrusted"
        # the adapter's own certificate: a session, and the tag tree
        client = Client(endpoint, timeout=4)
        await secure_client(client, trusted)
        async with client:
            names = {
                (await n.read_browse_name()).Name for n in await client.nodes.objects.get_children()
            }
            assert {"acme", "hengli"} <= names
            assert client.security_policy.URI.endswith("#Basic256Sha256")
        # the adapter itself (its own thread and loop) connects secured and takes values
        adapter.start()
        try:
            t = START
            for _ in range(200):
                t += 5_000
                await sim.advance(t)
                await asyncio.sleep(0.05)
                if intake.snapshot().readings > 0:
                    break
            assert adapter.status()["online"] >= 1, adapter.status()
            assert intake.snapshot().readings > 0
        finally:
            await asyncio.to_thread(adapter.stop)
    finally:
        await sim.teardown()
