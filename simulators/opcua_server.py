"""OPC UA DCS: one asyncua server per endpoint, a tag tree per enterprise and production unit.

Address space: ``Objects/{enterprise}/{level-2 unit}/{level-3 unit}/{point}`` (points without a
unit hang under ``Objects/{enterprise}/{device}``). Each point is a Double variable whose node
id is the point's ``node`` or ``ns=2;s={point id}``; the park's namespace URI is registered
first, so it gets index 2. Values change only at the device's ticks and carry the simulated
instant (plus any clock skew) as SourceTimestamp; subscriptions are served by asyncua. Until
its first tick a tag is ``BadWaitingForInitialData``; an offline device's tags turn
``BadNoCommunication`` and recover at its first tick back online.

Like a DCS historian, the server keeps every tag's value changes (asyncua's in-memory history,
``Server.historize_node_data_change``) and answers HistoryRead (raw) for them, so a client that
was not subscribed (starting late, restarted, reconnecting) reads what it missed. Each tag keeps
its last ``history_values(tags)`` changes; asyncua's own trimming by age compares
SourceTimestamps with the wall clock, which means nothing for a simulated clock, so the bound is
a count. Every value written carries a SourceTimestamp (status-only values too: asyncua's
history read compares timestamps and fails on a missing one).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server
from asyncua.ua.object_ids import ObjectIds

from ingest.park.index import ParkIndex
from ingest.park.loader import default_node_id
from ingest.park.models import Device, Point
from nengtan.errors import ConfigError, ServiceError
from nengtan.pki import PkiPaths
from simulators.engine import MeterTick
from simulators.faults import FaultPlan

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dt(ts_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=int(ts_ms))


HISTORY_BUDGET_VALUES = 1_000_000
"""Values an endpoint's history keeps over all its tags (~320 bytes each in asyncua's memory
storage, so at most ~320 MB once full); split evenly, at least ``HISTORY_MIN_VALUES`` a tag."""
HISTORY_MIN_VALUES = 1_000


FINAL_PUBLISH_S = 2.5
"""Wall seconds the servers keep serving after the run's last tick (see ``stop``)."""


def history_values(tags: int) -> int:
    """Changes kept per tag: 100,000 for the example park's 10 tags (~5.8 days of 5 s ticks),
    1,000 (83 minutes of 5 s ticks) from 1,000 tags up."""
    return max(HISTORY_MIN_VALUES, HISTORY_BUDGET_VALUES // max(tags, 1))


def _status(code: int, when: datetime) -> ua.DataValue:
    return ua.DataValue(
        StatusCode=ua.StatusCode(ua.UInt32(code)),
        SourceTimestamp=when,  # type: ignore[arg-type]
        ServerTimestamp=when,  # type: ignore[arg-type]
    )


def _std(identifier: int) -> ua.NodeId:
    """A node id of OPC UA's own namespace (0)."""
    return ua.NodeId(ua.Int32(identifier), ua.Int16(0))


def _variable_item(
    parent: ua.NodeId, node_id: ua.NodeId, name: ua.QualifiedName, pt: Point
) -> ua.AddNodesItem:
    """A read-only scalar Double variable under ``parent`` (what ``Node.add_variable`` builds)."""
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = node_id
    item.BrowseName = name
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = _std(ObjectIds.HasComponent)
    item.TypeDefinition = _std(ObjectIds.BaseDataVariableType)
    attrs = ua.VariableAttributes()
    desc = f"{pt.kind} {pt.uom}" + (f" {pt.carrier}" if pt.carrier else "")
    attrs.Description = ua.LocalizedText(desc)
    attrs.DisplayName = ua.LocalizedText(pt.id)
    attrs.DataType = _std(ObjectIds.Double)
    attrs.Value = ua.Variant(0.0, ua.VariantType.Double)
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.WriteMask = 0
    attrs.UserWriteMask = 0
    attrs.Historizing = False
    attrs.AccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    item.NodeAttributes = attrs
    return item


class OpcUaEndpoint:
    """One server and the tags of every device bound to its endpoint."""

    def __init__(
        self, endpoint: str, devices: list[Device], ix: ParkIndex, pki: PkiPaths | None = None
    ) -> None:
        self.endpoint = endpoint
        self.pki = pki
        self.devices = devices
        self.ix = ix
        self.server = Server()
        self.node_of: dict[str, ua.NodeId] = {}
        self.bad: set[str] = set()  # devices currently shown offline
        self.serving = False

    async def start(self) -> None:
        url = urlparse(self.endpoint)
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise ConfigError(f"OPC UA endpoint {self.endpoint}: simulators bind 127.0.0.1 only")
        await self.server.init()
        self.server.set_endpoint(self.endpoint)
        self.server.set_server_name("Nengtan DCS simulator")
        if self.pki is None:
            self.server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        else:
            await self._secure(self.pki)
        namespaces: dict[str, int] = {}
        for dev in self.devices:
            uri = dev.opcua.namespace if dev.opcua else "urn:nengtan:sim"
            if uri not in namespaces:
                namespaces[uri] = await self.server.register_namespace(uri)
        folders: dict[tuple[str, ...], Node] = {}
        items: list[ua.AddNodesItem] = []
        for dev in self.devices:
            uri = dev.opcua.namespace if dev.opcua else "urn:nengtan:sim"
            idx = namespaces[uri]
            for pt in self.ix.points_of(dev.id):
                parent = await self._folder(folders, self._path(dev, pt), idx)
                node_id = ua.NodeId.from_string(pt.node or default_node_id(pt.id))
                items.append(
                    _variable_item(parent.nodeid, node_id, ua.QualifiedName(pt.id, idx), pt)
                )
                self.node_of[pt.id] = node_id
        # one AddNodes call for the whole tree: per-variable calls cost ~3 ms each
        for result in await self.server.nodes.objects.session.add_nodes(items):
            result.StatusCode.check()
        waiting = _status(ua.status_codes.StatusCodes.BadWaitingForInitialData, datetime.now(UTC))
        for node_id in self.node_of.values():
            await self.server.write_attribute_value(node_id, waiting)
        # historize after the initial status is set: the history starts with it, not with 0.0
        await self.server.historize_node_data_change(
            [self.server.get_node(n) for n in self.node_of.values()],
            period=timedelta(0),  # no trimming by age (see the module docstring)
            count=history_values(len(self.node_of)),
        )
        try:
            await self.server.start()
        except OSError as exc:
            raise ServiceError(f"OPC UA endpoint {self.endpoint}: cannot listen: {exc}") from exc
        self.serving = True
        log.info("opcua: %d tags on %s", len(self.node_of), self.endpoint)

    async def _secure(self, pki: PkiPaths) -> None:
        """Basic256Sha256 SignAndEncrypt only, and only for clients whose certificate is in the
        trust list (``pki/trusted``: the local CA) — no anonymous, unsigned endpoint."""
        from asyncua.crypto.truststore import TrustStore
        from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions

        from nengtan.pki import SERVER_URI

        self.server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        await self.server.set_application_uri(SERVER_URI)
        await self.server.load_certificate(str(pki.cert("server", der=True)))
        await self.server.load_private_key(str(pki.key("server")))
        store = TrustStore([pki.trusted], [])
        await store.load()
        options = (
            CertificateValidatorOptions.TRUSTED_VALIDATION | CertificateValidatorOptions.PEER_CLIENT
        )
        self.server.set_certificate_validator(CertificateValidator(options, store))

    def _path(self, dev: Device, pt: Point) -> tuple[str, ...]:
        ent = self.ix.enterprise_of(pt.id)
        if pt.unit is None:
            return (ent, dev.id)
        chain = []
        unit: str | None = pt.unit
        while unit is not None:
            chain.append(unit)
            unit = self.ix.units[unit].parent
        return (ent, *reversed(chain))

    async def _folder(
        self, folders: dict[tuple[str, ...], Node], path: tuple[str, ...], idx: int
    ) -> Node:
        if path in folders:
            return folders[path]
        parent = (
            self.server.nodes.objects
            if len(path) == 1
            else await self._folder(folders, path[:-1], idx)
        )
        node = await parent.add_folder(idx, path[-1])
        folders[path] = node
        return node

    async def stop(self) -> None:
        """Stop serving ``FINAL_PUBLISH_S`` after the last tick, not at once: a subscriber's
        next publish (the adapter's comes every second) then still carries the final values,
        which no history read can fetch once the server is gone."""
        if self.serving:
            await asyncio.sleep(FINAL_PUBLISH_S)
        await self.server.stop()

    async def apply(self, tick: MeterTick, plan: FaultPlan) -> None:
        g = tick.group
        for di, dev in enumerate(g.devices):
            if dev.opcua is None or dev.opcua.endpoint != self.endpoint:
                continue
            a, b = g.dev_slices[di]
            if not tick.emitting[di]:
                if plan.is_offline(dev.id, tick.t_ms) and dev.id not in self.bad:
                    self.bad.add(dev.id)
                    for i in range(a, b):
                        await self.server.write_attribute_value(
                            self.node_of[g.point_ids[i]],
                            _status(
                                ua.status_codes.StatusCodes.BadNoCommunication,
                                _dt(tick.t_ms + g.dev_skew_ms[di]),
                            ),
                        )
                continue
            self.bad.discard(dev.id)
            when = _dt(tick.t_ms + g.dev_skew_ms[di])
            for i in range(a, b):
                value = ua.DataValue(
                    ua.Variant(float(tick.values[i]), ua.VariantType.Double),
                    SourceTimestamp=when,  # type: ignore[arg-type]
                    ServerTimestamp=_dt(tick.t_ms),  # type: ignore[arg-type]
                )
                await self.server.write_attribute_value(self.node_of[g.point_ids[i]], value)
