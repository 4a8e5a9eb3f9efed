"""OPC UA adapter: subscribes to DCS tags and turns data changes into reading batches.

One client and one subscription per server endpoint. Each tag is a monitored item with the
configured sampling interval, an absolute deadband when set, and a queue large enough that
changes between two publishes are all delivered. Data changes are buffered per device and
handed to the intake once per publishing interval (one batch per device and publish window).

Timestamps are the server's *source* timestamps (when the value was measured), falling back
to the server timestamp. Status codes map to quality by their severity bits: Good -> good,
Uncertain -> uncertain, Bad -> bad (a bad status without a numeric value yields no reading
and is counted). On a lost connection (``check_connection`` fails, the watchdog trips) the
client is dropped and the adapter reconnects with exponential backoff and re-subscribes.

No gaps: on every (re)connect the adapter subscribes first and holds the live values back,
reads each tag's raw history from its watermark (the last source time it handed over, kept on
disk by ``adapters.opcua.watermarks``, so a restarted process resumes) up to now, hands those
values over in timestamp order, then releases the held live values. A value not newer than its
tag's watermark is a repeat and is dropped, so history and live overlap without duplicates. A
server without history (a Bad status on HistoryRead) is logged once per endpoint and status,
and the adapter carries on with live values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.base import Adapter, Backoff
from adapters.opcua.config import OpcUaConfig, OpcUaEndpointConfig, OpcUaNode, OpcUaSecurity
from adapters.opcua.watermarks import Watermarks
from ingest.intake import Intake, now_ms
from ingest.spool import SpoolFull

if TYPE_CHECKING:
    from ingest.park.models import Park
    from nengtan.settings import Settings

log = logging.getLogger(__name__)

_QUALITY = {0: "good", 1: "uncertain", 2: "bad", 3: "bad"}


def quality_of(status_code_value: int) -> str:
    """Quality from an OPC UA StatusCode: its top two bits are the severity."""
    return _QUALITY[(status_code_value >> 30) & 0x3]


def epoch_ms(when: datetime | None) -> int | None:
    """A (naive = UTC, or aware) datetime as epoch ms."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


@dataclass
class EndpointState:
    connects: int = 0
    online: bool = False
    changes: int = 0
    without_value: int = 0
    history_values: int = 0
    repeats: int = 0
    history: str = "unknown"
    """After a catch-up: ``ok``, the status saying there is no history (every tag), or that
    status with how many tags lack it."""
    history_logged: set[str] = field(default_factory=set)
    last_error: str | None = None


def reading_of(spec: OpcUaNode, dv: Any) -> dict[str, Any] | None:
    """The reading of a DataValue, or None when it carries no number (a bare Bad status)."""
    val = dv.Value.Value if dv.Value is not None else None
    if isinstance(val, bool) or not isinstance(val, int | float):
        return None
    q = quality_of(dv.StatusCode.value if dv.StatusCode is not None else 0)
    ts = epoch_ms(dv.SourceTimestamp) or epoch_ms(dv.ServerTimestamp) or now_ms()
    return {"point": spec.point, "ts": ts, "value": float(val), "q": q}


class _Handler:
    """asyncua subscription handler: hands data changes to the adapter (runs on the loop).

    While the history of a fresh connection is being read, live values are held back
    (``holding``) and released after it, so each tag's values go out in timestamp order.
    """

    def __init__(self, owner: OpcUaAdapter, state: EndpointState) -> None:
        self.owner = owner
        self.state = state
        self.points: dict[str, OpcUaNode] = {}
        self.nodes: list[tuple[Any, OpcUaNode]] = []
        self.holding = True
        self.held: list[tuple[OpcUaNode, dict[str, Any]]] = []

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        spec = self.points.get(node.nodeid.to_string())
        if spec is None:
            return
        reading = reading_of(spec, data.monitored_item.Value)
        if reading is None:
            self.state.without_value += 1
            return
        if self.holding:
            self.held.append((spec, reading))
        elif self.owner.deliver(spec, reading):
            self.state.changes += 1
        else:
            self.state.repeats += 1

    def release(self) -> None:
        """History is read: hand over the live values held meanwhile (repeats dropped)."""
        held, self.held, self.holding = self.held, [], False
        for spec, reading in held:
            if self.owner.deliver(spec, reading):
                self.state.changes += 1
            else:
                self.state.repeats += 1

    def status_change_notification(self, status: Any) -> None:
        log.warning("OPC UA subscription status changed: %s", status)


class OpcUaAdapter(Adapter):
    """See the module docstring."""

    protocol = "opcua"
    config: OpcUaConfig

    def __init__(self, config: OpcUaConfig, intake: Intake, park: Park | None = None) -> None:
        super().__init__(config, intake, park)
        self.states = {e.endpoint: EndpointState() for e in config.endpoints}
        self.watermarks = Watermarks(
            config.watermarks_path or intake.publisher.spool.dir.parent / "opcua-watermarks.json"
        )
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._warned_backwards = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._seq = now_ms()

    @classmethod
    def configs_for_park(cls, park: Park, settings: Settings) -> list[Any]:
        endpoints = endpoint_configs(park)
        if not endpoints:
            return []
        security = None
        if settings.opcua_security:
            from nengtan.pki import ADAPTER_URI, init_pki

            pki = init_pki(settings.state_dir)
            security = OpcUaSecurity(
                certificate=pki.cert("client", der=True),
                private_key=pki.key("client"),
                server_certificate=pki.cert("server", der=True),
                application_uri=ADAPTER_URI,
            )
        return [OpcUaConfig(endpoints=endpoints, security=security)]

    def start(self) -> None:
        logging.getLogger("asyncua").setLevel(logging.CRITICAL)  # failures are in our status
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._main()), name="opcua", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None

    def status(self) -> dict[str, Any]:
        states = list(self.states.values())
        return {
            "endpoints": len(states),
            "online": sum(s.online for s in states),
            "changes": sum(s.changes for s in states),
            "history_values": sum(s.history_values for s in states),
            "repeats": sum(s.repeats for s in states),
            "history": sorted({s.history for s in states}),
        }

    def deliver(self, spec: OpcUaNode, reading: dict[str, Any]) -> bool:
        """Queue a reading for the next batch; False (dropped) when not newer than the last
        one of its tag (a repeat of what history or the subscription already gave)."""
        if not self.watermarks.is_new(spec.point, reading["ts"]):
            last = self.watermarks.buffered[spec.point]
            if reading["ts"] < last and not self._warned_backwards:
                # not a repeat: the server's clock (or a re-run simulation) went back
                self._warned_backwards = True
                log.warning(
                    "OPC UA %s: source time %d is before the last one handed over (%d); "
                    "values not newer than a tag's watermark are dropped: if the server's "
                    "clock or data was reset, remove %s",
                    spec.point,
                    reading["ts"],
                    last,
                    self.watermarks.path,
                )
            return False
        self._buffers.setdefault(spec.device, []).append(reading)
        return True

    def flush(self) -> None:
        """Hand each device's queued readings to the intake as one batch, then persist the
        watermarks of what is now in the spool (after an fsync, so they never run ahead)."""
        buffers, self._buffers = self._buffers, {}
        handed = False
        for device, readings in buffers.items():
            self._seq += 1
            try:
                self.intake.accept(
                    device=device,
                    seq=self._seq,
                    sent_ms=now_ms(),
                    readings=readings,
                    source=f"opcua:{device}",
                )
            except SpoolFull as exc:
                log.error("opcua %s: %s; %d readings dropped", device, exc, len(readings))
                self.intake.dropped()
                continue
            for r in readings:
                self.watermarks.hand_over(r["point"], r["ts"])
            handed = True
        if handed:
            self.intake.publisher.spool.sync()
            self.watermarks.save()

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._endpoint_loop(e)) for e in self.config.endpoints]
        period = min(e.publishing_interval_ms for e in self.config.endpoints) / 1000
        while not self._stopping.is_set():
            await asyncio.sleep(period)
            self.flush()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.flush()

    async def _endpoint_loop(self, cfg: OpcUaEndpointConfig) -> None:
        from asyncua.client.client import Client

        state = self.states[cfg.endpoint]
        delays = Backoff(self.config.backoff_initial_s, 2.0, self.config.backoff_max_s).delays()
        while True:
            client = Client(cfg.endpoint, timeout=cfg.timeout_s, watchdog_intervall=1.0)
            try:
                await self._secure(client)
                await client.connect()
                handler = await self._subscribe(client, cfg, state)
                state.online = True
                state.connects += 1
                delays = Backoff(
                    self.config.backoff_initial_s, 2.0, self.config.backoff_max_s
                ).delays()
                log.info("OPC UA connected to %s (%d tags)", cfg.endpoint, len(cfg.nodes))
                await self._catch_up(cfg, handler, state)
                while True:
                    await asyncio.sleep(0.5)
                    await client.check_connection()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.disconnect(), 2)
                raise
            except Exception as exc:
                if state.online or state.last_error is None:
                    log.warning("OPC UA %s: %r; reconnecting", cfg.endpoint, exc)
                state.online = False
                state.last_error = repr(exc)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2)
            await asyncio.sleep(next(delays))

    async def _secure(self, client: Any) -> None:
        if self.config.security is not None:
            await secure_client(client, self.config.security)

    async def _catch_up(
        self, cfg: OpcUaEndpointConfig, handler: _Handler, state: EndpointState
    ) -> None:
        """Hand over each tag's history since its watermark, then the held live values.

        On an error (the connection dropped) the held values are dropped with the handler:
        the watermarks did not pass them, so the next connection reads them from history.
        """
        from adapters.opcua.history import HistoryUnavailable, dt_of_ms, read_since

        lookback = self.config.history_lookback_s
        first = dt_of_ms(now_ms() - int(lookback * 1000) if lookback else 0)
        missing: dict[str, str] = {}
        for node, spec in handler.nodes:
            last = self.watermarks.buffered.get(spec.point)
            try:
                async for page in read_since(node, first if last is None else dt_of_ms(last)):
                    for dv in page:
                        reading = reading_of(spec, dv)
                        if reading is None:
                            continue
                        if self.deliver(spec, reading):
                            state.history_values += 1
            except HistoryUnavailable as exc:
                missing[spec.point] = exc.status
                if exc.status not in state.history_logged:  # once per endpoint and status
                    state.history_logged.add(exc.status)
                    log.warning(
                        "OPC UA %s: no history for %s (%s): values changed while not "
                        "subscribed are not recovered",
                        cfg.endpoint,
                        spec.point,
                        exc.status,
                    )
        if not missing:
            state.history = "ok"
        else:
            status = sorted(set(missing.values()))[0]
            total = len(handler.nodes)
            state.history = (
                status if len(missing) == total else f"{status} ({len(missing)}/{total} tags)"
            )
        handler.release()

    async def _subscribe(
        self, client: Any, cfg: OpcUaEndpointConfig, state: EndpointState
    ) -> _Handler:
        from asyncua import ua

        ns = await client.get_namespace_index(cfg.namespace)
        handler = _Handler(self, state)
        sub = await client.create_subscription(cfg.publishing_interval_ms, handler)
        requests = []
        for spec in cfg.nodes:
            node = client.get_node(spec.node_id or f"ns={ns};s={spec.point}")
            handler.points[node.nodeid.to_string()] = spec
            handler.nodes.append((node, spec))
            mfilter = None
            if spec.deadband is not None:
                mfilter = ua.DataChangeFilter(
                    Trigger=ua.DataChangeTrigger.StatusValue,
                    DeadbandType=ua.DeadbandType.Absolute,
                    DeadbandValue=spec.deadband,
                )
            requests.append(
                sub._make_monitored_item_request(  # asyncua's own builder; public API lacks filters
                    node,
                    ua.AttributeIds.Value,  # type: ignore[attr-defined]
                    mfilter,
                    cfg.queue_size,
                    ua.MonitoringMode.Reporting,
                    cfg.sampling_interval_ms,
                )
            )
        results = await sub.create_monitored_items(requests)
        failed = [
            f"{spec.point}: {res}"
            for spec, res in zip(cfg.nodes, results, strict=True)
            if not isinstance(res, int)
        ]
        if failed:
            log.warning("OPC UA %s: tags not monitored: %s", cfg.endpoint, "; ".join(failed[:5]))
            state.last_error = f"{len(failed)} tags not monitored: {failed[0]}"
        return handler


async def secure_client(client: Any, sec: OpcUaSecurity) -> None:
    """Make an asyncua client use Basic256Sha256 SignAndEncrypt with ``sec``'s certificates
    (before ``connect``)."""
    from asyncua import ua
    from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

    client.application_uri = sec.application_uri
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        certificate=str(sec.certificate),
        private_key=str(sec.private_key),
        server_certificate=str(sec.server_certificate),
        mode=ua.MessageSecurityMode.SignAndEncrypt,
    )


def endpoint_configs(park: Park) -> list[OpcUaEndpointConfig]:
    """One endpoint config per OPC UA server of ``park`` (devices sharing a server share it)."""
    ix = park.index
    by_endpoint: dict[tuple[str, str], list[OpcUaNode]] = {}
    for dev in ix.devices.values():
        if dev.protocol != "opcua" or dev.opcua is None:
            continue
        key = (dev.opcua.endpoint, dev.opcua.namespace)
        nodes = by_endpoint.setdefault(key, [])
        for pt in ix.points_of(dev.id):
            nodes.append(OpcUaNode(point=pt.id, device=dev.id, node_id=pt.node))
    return [
        OpcUaEndpointConfig(endpoint=ep, namespace=ns, nodes=nodes)
        for (ep, ns), nodes in by_endpoint.items()
        if nodes
    ]
