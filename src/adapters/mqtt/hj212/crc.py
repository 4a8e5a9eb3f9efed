"""The CRC-16 of HJ 212-2017 Appendix A.

The standard's algorithm is *not* plain CRC-16/MODBUS: each step starts with
``crc = (crc >> 8) ^ byte`` (the low byte of the register is dropped, not XORed), then eight
right shifts with polynomial 0xA001; initial value 0xFFFF, no final XOR. It is computed over the
data segment only (from ``QN=`` to the closing ``&&``), and sent as 4 upper-case hex digits.
A 256-entry table makes it one lookup per byte.
"""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16(data: bytes) -> int:
    """HJ 212-2017 CRC of ``data`` (the data segment's bytes)."""
    crc = 0xFFFF
    table = _TABLE
    for byte in data:
        # (crc >> 8) ^ byte is < 256, so the eight shift/xor rounds are one table lookup.
        crc = table[(crc >> 8) ^ byte]
    return crc
