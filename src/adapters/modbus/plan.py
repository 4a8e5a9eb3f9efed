"""Request planning: read every needed register with as few Modbus requests as possible.

Registers are grouped per table (holding: function code 3, input: function code 4), sorted by
address, and merged while the merged block stays within ``max_registers`` (125, the FC3/FC4
limit) and any gap between two values lies inside a span the device is known to answer (its
profile's registers): reading over an unmapped address would make many meters answer with
exception 0x02 and lose the whole block.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.modbus.codec import CodecError, Encoding, decode
from adapters.modbus.config import PointRegister

FUNCTION_CODES = {"holding": 3, "input": 4}


@dataclass(frozen=True, slots=True)
class Item:
    """One point's value inside a request: offset into the response and how to decode it."""

    point: str
    offset: int
    encoding: Encoding


@dataclass(frozen=True, slots=True)
class Request:
    """One read request (FC3 or FC4) and the points it carries."""

    table: str
    address: int
    count: int
    items: tuple[Item, ...]

    @property
    def function_code(self) -> int:
        return FUNCTION_CODES[self.table]

    def decode(self, words: Sequence[int]) -> list[tuple[str, float]]:
        """(point, value) for every item, from the response's register words."""
        if len(words) < self.count:
            raise CodecError(
                f"FC{self.function_code} at {self.address}: asked for {self.count} registers, "
                f"got {len(words)}"
            )
        out = []
        for item in self.items:
            n = item.encoding.count
            out.append((item.point, decode(words[item.offset : item.offset + n], item.encoding)))
        return out


def _covered(readable: set[tuple[str, int]], table: str, start: int, end: int) -> bool:
    return all((table, a) in readable for a in range(start, end))


def plan_requests(
    points: Iterable[PointRegister],
    *,
    max_registers: int = 125,
    readable: Iterable[tuple[str, int, int]] = (),
) -> list[Request]:
    """The requests reading all ``points`` (see the module docstring for the merge rule)."""
    known = {(t, a) for t, s, e in readable for a in range(s, e)}
    regs = sorted(points, key=lambda p: (p.table, p.address))
    requests: list[Request] = []
    block: list[PointRegister] = []
    start = end = 0

    def close() -> None:
        if block:
            items = tuple(
                Item(
                    p.point,
                    p.address - start,
                    Encoding(p.dtype, p.word_order, p.byte_order, p.scale),
                )
                for p in block
            )
            requests.append(Request(block[0].table, start, end - start, items))

    for p in regs:
        count = Encoding(p.dtype).count
        p_end = p.address + count
        if (
            block
            and p.table == block[0].table
            and max(end, p_end) - start <= max_registers
            and (p.address <= end or _covered(known, p.table, end, p.address))
        ):
            block.append(p)
            end = max(end, p_end)
            continue
        close()
        block = [p]
        start, end = p.address, p_end
    close()
    return requests
