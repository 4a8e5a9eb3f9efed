"""HJ 212-2017 framing: ``##`` + 4-digit decimal length + data segment + 4-hex CRC + CRLF.

The length counts the data segment's bytes (ASCII in practice, so characters); the CRC covers
the data segment only. Errors say what was wrong and, for the CRC, what was expected and got.
"""

from __future__ import annotations

from adapters.mqtt.hj212.crc import crc16

HEADER = b"##"
TRAILER = b"\r\n"
MAX_SEGMENT = 9999  # four decimal digits: the standard's ceiling on a data segment


class Hj212Error(ValueError):
    """A message that is not valid HJ 212-2017; the text names the part that is wrong."""


def frame(segment: str) -> bytes:
    """Wrap a data segment (``QN=...;...;CP=&&...&&``) into a complete packet."""
    data = segment.encode("ascii")
    if len(data) > MAX_SEGMENT:
        raise Hj212Error(
            f"data segment is {len(data)} bytes; the length field allows {MAX_SEGMENT}"
        )
    return b"%s%04d%s%04X%s" % (HEADER, len(data), data, crc16(data), TRAILER)


def unframe(packet: bytes, *, check_crc: bool = True) -> str:
    """The data segment of ``packet`` after checking header, length, CRC and trailer."""
    if not packet.startswith(HEADER):
        raise Hj212Error(f"packet does not start with '##' (starts with {packet[:8]!r})")
    body = packet[:-2] if packet.endswith(TRAILER) else packet
    if body is packet:
        raise Hj212Error("packet does not end with CR LF")
    length_field = body[2:6]
    if len(length_field) != 4 or not length_field.isdigit():
        raise Hj212Error(f"length field {length_field!r} is not 4 decimal digits")
    declared = int(length_field)
    segment = body[6:-4]
    crc_field = body[-4:] if len(body) >= 10 else b""
    if len(segment) != declared:
        raise Hj212Error(
            f"length mismatch: header declares {declared} bytes, data segment has {len(segment)}"
        )
    try:
        got = int(crc_field.decode("ascii"), 16)
        if len(crc_field) != 4:
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise Hj212Error(f"CRC field {crc_field!r} is not 4 hex digits") from None
    if check_crc:
        expected = crc16(segment)
        if got != expected:
            raise Hj212Error(f"bad CRC: expected {expected:04X}, got {got:04X}")
    try:
        return segment.decode("ascii")
    except UnicodeDecodeError as exc:
        raise Hj212Error(f"data segment has a non-ASCII byte at offset {exc.start}") from None
