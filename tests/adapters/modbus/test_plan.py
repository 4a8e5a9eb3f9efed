"""Request planning: contiguous registers merged, gaps bridged only over known registers."""

from __future__ import annotations

from adapters.modbus.codec import Encoding, encode
from adapters.modbus.config import PointRegister
from adapters.modbus.plan import plan_requests


def _reg(point: str, address: int, dtype: str = "float32", table: str = "holding") -> PointRegister:
    return PointRegister(
        point=point,
        name=point,
        table=table,  # type: ignore[arg-type]
        address=address,
        dtype=dtype,  # type: ignore[arg-type]
    )


def test_contiguous_registers_become_one_request() -> None:
    reqs = plan_requests([_reg("b", 2), _reg("a", 0), _reg("c", 4, "uint32")])
    assert [(r.table, r.address, r.count) for r in reqs] == [("holding", 0, 6)]
    assert [(i.point, i.offset) for i in reqs[0].items] == [("a", 0), ("b", 2), ("c", 4)]
    assert reqs[0].function_code == 3


def test_gap_splits_unless_the_device_is_known_to_answer_it() -> None:
    points = [_reg("a", 0), _reg("v", 6)]
    assert [(r.address, r.count) for r in plan_requests(points)] == [(0, 2), (6, 2)]
    merged = plan_requests(points, readable=[("holding", 0, 22)])
    assert [(r.address, r.count) for r in merged] == [(0, 8)]


def test_tables_and_size_limit_split() -> None:
    points = [_reg("h", 0), _reg("i", 0, table="input"), _reg("far", 120, "uint64")]
    reqs = plan_requests(points, max_registers=125, readable=[("holding", 0, 200)])
    # holding 0..124 would be 124 registers: fits; input is separate (FC4)
    assert [(r.table, r.address, r.count, r.function_code) for r in reqs] == [
        ("holding", 0, 124, 3),
        ("input", 0, 2, 4),
    ]
    split = plan_requests(
        [_reg("h", 0), _reg("far", 124, "uint64")], readable=[("holding", 0, 200)]
    )
    assert [(r.address, r.count) for r in split] == [(0, 2), (124, 4)]


def test_decode_of_a_merged_response() -> None:
    points = [
        PointRegister(
            point="kwh", name="x", address=100, dtype="uint32", scale=0.01, word_order="little"
        ),
        PointRegister(point="pf", name="y", address=102, dtype="int16", scale=0.001),
    ]
    [req] = plan_requests(points)
    # 1234.56 kWh = raw 123456 = 0x0001E240, low word first -> [0xE240, 0x0001]; pf 0.95 = 950
    words = [0xE240, 0x0001, 950]
    assert words[:2] == encode(1234.56, Encoding("uint32", "little", "big", 0.01))
    got = dict(req.decode(words))
    assert got["kwh"] == 1234.56
    assert got["pf"] == 0.95
