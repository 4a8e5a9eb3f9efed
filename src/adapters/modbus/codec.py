"""Register codec: turn Modbus holding/input register words into numbers and back.

A Modbus register is a 16-bit word. Values wider than one register span consecutive words, and
vendors disagree on two orders, so both are explicit:

- ``word_order``: ``big`` puts the most significant word first (the Modbus convention),
  ``little`` puts the least significant word first ("word swap", common on meters).
- ``byte_order``: ``big`` keeps each register as sent (high byte first, the Modbus convention),
  ``little`` swaps the two bytes inside every register ("byte swap").

``scale`` maps the raw number to the physical value: ``value = raw * scale`` (a uint32 energy
register counting 0.01 kWh has ``scale = 0.01``). A decimal scale (0.1, 0.01, 0.001...) is
applied as a division by its integer reciprocal, so 950 × 0.001 gives 0.95 rather than
0.9500000000000001: meter values round-trip as the decimals they are. The simulators encode
with the same functions the adapters decode with, so the two sides cannot drift.

``decode_many`` is the vectorised form (one numpy call for many blocks of one encoding) for
bulk work; a poll cycle decodes its handful of values per request with ``decode``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

DataType = Literal["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
Order = Literal["big", "little"]

DATA_TYPES: tuple[str, ...] = get_args(DataType)
ORDERS: tuple[str, ...] = get_args(Order)

# struct format (big-endian byte stream), register count, integer range (None for floats)
_FORMATS: dict[str, tuple[str, int, tuple[int, int] | None]] = {
    "int16": (">h", 1, (-(2**15), 2**15 - 1)),
    "uint16": (">H", 1, (0, 2**16 - 1)),
    "int32": (">i", 2, (-(2**31), 2**31 - 1)),
    "uint32": (">I", 2, (0, 2**32 - 1)),
    "int64": (">q", 4, (-(2**63), 2**63 - 1)),
    "uint64": (">Q", 4, (0, 2**64 - 1)),
    "float32": (">f", 2, None),
    "float64": (">d", 4, None),
}

_NUMPY_TYPES: dict[str, str] = {
    "int16": ">i2",
    "uint16": ">u2",
    "int32": ">i4",
    "uint32": ">u4",
    "int64": ">i8",
    "uint64": ">u8",
    "float32": ">f4",
    "float64": ">f8",
}


class CodecError(ValueError):
    """A value or a register block cannot be converted; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Encoding:
    """How one value sits in registers: its type, the two orders and the raw-to-value scale."""

    dtype: DataType
    word_order: Order = "big"
    byte_order: Order = "big"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.dtype not in _FORMATS:
            raise CodecError(f"unknown data type {self.dtype!r}; expected one of {DATA_TYPES}")
        for name, order in (("word_order", self.word_order), ("byte_order", self.byte_order)):
            if order not in ORDERS:
                raise CodecError(f"{name} {order!r} is not 'big' or 'little'")
        if not math.isfinite(self.scale) or self.scale == 0:
            raise CodecError(f"scale {self.scale!r} must be a finite non-zero number")

    @property
    def divisor(self) -> int | None:
        """The integer reciprocal of a decimal scale (100 for 0.01), else None."""
        if 0 < abs(self.scale) < 1:
            inv = 1 / self.scale
            if abs(inv - round(inv)) < 1e-9 * abs(inv):
                return round(inv)
        return None

    def apply_scale(self, raw: float) -> float:
        """``raw × scale``, exact for decimal scales (see the module docstring)."""
        if self.scale == 1.0:
            return float(raw)
        div = self.divisor
        return float(raw) / div if div is not None else float(raw) * self.scale

    @property
    def count(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return _FORMATS[self.dtype][1]

    @property
    def is_float(self) -> bool:
        return _FORMATS[self.dtype][2] is None

    @property
    def modulus(self) -> float | None:
        """Where an unsigned counter register wraps, in physical units (2^bits × scale)."""
        if self.dtype.startswith("uint"):
            return float(2 ** (16 * self.count)) * self.scale
        return None


def register_count(dtype: str) -> int:
    """Registers occupied by ``dtype`` (1, 2 or 4)."""
    try:
        return _FORMATS[dtype][1]
    except KeyError:
        raise CodecError(f"unknown data type {dtype!r}; expected one of {DATA_TYPES}") from None


def _to_wire(words: list[int], enc: Encoding) -> list[int]:
    """Big-endian canonical words -> words in the device's word and byte order (an involution)."""
    if enc.word_order == "little":
        words = words[::-1]
    if enc.byte_order == "little":
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return words


def encode(value: float, enc: Encoding) -> list[int]:
    """The register words a device holding ``value`` would send (integers round to nearest).

    Pass an ``int`` with ``scale == 1`` to encode 64-bit integers beyond 2^53 exactly.
    """
    fmt, count, bounds = _FORMATS[enc.dtype]
    if bounds is not None and not math.isfinite(value):
        raise CodecError(f"cannot encode {value!r} as {enc.dtype}")
    raw: float | int
    if bounds is None:
        raw = value / enc.scale
    elif isinstance(value, int) and enc.scale == 1.0:
        raw = value
    elif enc.divisor is not None:
        raw = round(value * enc.divisor)
    else:
        raw = round(value / enc.scale)
    if bounds is not None:
        lo, hi = bounds
        if not lo <= raw <= hi:
            raise CodecError(
                f"value {value!r} (raw {raw} at scale {enc.scale}) is outside {enc.dtype} "
                f"range [{lo}, {hi}]"
            )
    data = struct.pack(fmt, raw)
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 2 * count, 2)]
    return _to_wire(words, enc)


def decode_raw(words: Sequence[int], enc: Encoding) -> int | float:
    """The raw (unscaled) number held in ``words`` (exactly ``enc.count`` registers)."""
    fmt, count, _ = _FORMATS[enc.dtype]
    if len(words) != count:
        raise CodecError(f"{enc.dtype} needs {count} registers, got {len(words)}")
    for w in words:
        if not 0 <= w <= 0xFFFF:
            raise CodecError(f"register word {w!r} is not a 16-bit unsigned value")
    canonical = _to_wire(list(words), enc)
    data = b"".join(w.to_bytes(2, "big") for w in canonical)
    raw: int | float = struct.unpack(fmt, data)[0]
    return raw


def decode(words: Sequence[int], enc: Encoding) -> float:
    """The physical value held in ``words``: raw × scale."""
    return enc.apply_scale(decode_raw(words, enc))


def decode_many(
    block: npt.NDArray[np.integer] | Sequence[Sequence[int]], enc: Encoding
) -> npt.NDArray[np.float64]:
    """Vectorised ``decode``: ``block`` has shape (n, enc.count); returns n physical values.

    uint64/int64 raws beyond 2^53 lose precision in float64, exactly as ``decode`` does.
    """
    arr = np.asarray(block, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != enc.count:
        raise CodecError(f"{enc.dtype} needs blocks of shape (n, {enc.count}), got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > 0xFFFF):
        raise CodecError("register words must be 16-bit unsigned values (0..65535)")
    words = arr.astype(np.uint16)
    if enc.word_order == "little":
        words = words[:, ::-1]
    if enc.byte_order == "little":
        words = ((words << 8) | (words >> 8)).astype(np.uint16)
    raw = np.ascontiguousarray(words.astype(">u2")).view(_NUMPY_TYPES[enc.dtype]).reshape(-1)
    out = raw.astype(np.float64)
    div = enc.divisor
    if div is not None:
        out /= div
    elif enc.scale != 1.0:
        out *= enc.scale
    return out
