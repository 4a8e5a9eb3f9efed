"""HJ 212-2017 codec: CRC against the published example, framing, data segment, errors."""

from __future__ import annotations

import pytest

from adapters.mqtt.hj212 import Hj212Error, Hj212Message, crc16, decode, encode, frame, unframe
from adapters.mqtt.hj212.message import (
    format_data_time,
    format_qn,
    format_value,
    parse_data_time,
    parse_segment,
)

# The worked example published with the standard's Appendix A CRC algorithm: this data
# segment is 101 bytes long and its CRC is 1C80, giving the packet "##0101...&&1C80\r\n".
EXAMPLE_SEGMENT = (
    "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    "Flag=5;CP=&&RtdInterval=30&&"
)
EXAMPLE_PACKET = b"##0101" + EXAMPLE_SEGMENT.encode() + b"1C80\r\n"


def test_crc_matches_the_published_example() -> None:
    assert crc16(EXAMPLE_SEGMENT.encode()) == 0x1C80


def test_crc_is_not_plain_crc16_modbus() -> None:
    # CRC-16/MODBUS of "123456789" is 0x4B37 (its catalogue check value); the HJ 212 variant
    # drops the register's low byte each step, so it must differ.
    assert crc16(b"123456789") != 0x4B37


def test_frame_reproduces_the_published_packet() -> None:
    assert frame(EXAMPLE_SEGMENT) == EXAMPLE_PACKET
    assert unframe(EXAMPLE_PACKET) == EXAMPLE_SEGMENT


def test_decode_published_example() -> None:
    msg = decode(EXAMPLE_PACKET)
    assert (msg.qn, msg.st, msg.cn, msg.pw, msg.mn, msg.flag) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
        "010000A8900016F000169DC0",
        5,
    )
    assert msg.params == {"RtdInterval": "30"}
    assert msg.values == {}
    assert encode(msg) == EXAMPLE_PACKET


def _minute_message() -> Hj212Message:
    return Hj212Message(
        qn="20261121173000000",
        st="31",
        cn="2051",
        pw="123456",
        mn="NT0000STACK01",
        flag=4,
        data_time="20261121173000",
        values={
            "a21026": {"Avg": "35.2", "Min": "30.1", "Max": "40", "Flag": "N"},
            "a05001": {"Avg": "11.25", "Flag": "N"},
            "a00000": {"Avg": "250000", "Flag": "M"},
        },
    )


def test_round_trip_of_a_minute_message() -> None:
    msg = _minute_message()
    packet = encode(msg)
    assert packet.startswith(b"##")
    assert packet.endswith(b"\r\n")
    segment = packet[6:-6].decode()
    assert int(packet[2:6]) == len(segment)
    assert "CP=&&DataTime=20261121173000;a21026-Avg=35.2,a21026-Min=30.1," in segment
    assert decode(packet) == msg
    assert msg.number("a21026", "Avg") == 35.2


def test_data_time_is_beijing_local_time() -> None:
    # 2026-11-21 17:30:00 at UTC+8 is 09:30:00 UTC = 1795253400 s since the epoch
    # (2026-11-21 00:00 UTC = 1795219200; + 9.5 h = 34200 s).
    assert parse_data_time("20261121173000") == 1_795_253_400_000
    assert parse_data_time("20261121173000", tz_offset_min=0) == 1_795_253_400_000 + 8 * 3600_000
    assert format_data_time(1_795_253_400_000) == "20261121173000"
    assert format_qn(1_795_253_400_123) == "20261121173000123"
    assert _minute_message().data_time_ms() == 1_795_253_400_000


def test_format_value() -> None:
    assert format_value(35.2) == "35.2"
    assert format_value(250000.0) == "250000"
    assert format_value(0.0) == "0"
    assert format_value(-0.0000001) == "0"
    with pytest.raises(Hj212Error, match="finite"):
        format_value(float("nan"))


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (EXAMPLE_PACKET.replace(b"1C80", b"1C81"), "bad CRC: expected 1C80, got 1C81"),
        (
            EXAMPLE_PACKET.replace(b"##0101", b"##0100"),
            "length mismatch: header declares 100 bytes, data segment has 101",
        ),
        (EXAMPLE_PACKET[1:], "does not start with '##'"),
        (EXAMPLE_PACKET[:-2], "does not end with CR LF"),
        (
            EXAMPLE_PACKET.replace(b"##0101", b"##01x1"),
            "length field b'01x1' is not 4 decimal digits",
        ),
        (EXAMPLE_PACKET.replace(b"1C80", b"1CZ0"), "CRC field b'1CZ0' is not 4 hex digits"),
        (frame("QN=1;ST=31;PW=1;MN=X;CP=&&DataTime=20260101000000&&"), "missing field CN"),
        (frame("QN=1;ST=31;CN=2011;PW=1;MN=X"), "missing field CP"),
        (frame("QN=1;ST=31;CN=2011;PW=1;MN=X;CP=&&a21026-Rtd=1"), "CP is not closed"),
        (frame("ST=31;CN=2011;MN=X;Flag=x;CP=&&&&"), "Flag='x' is not an integer"),
        (frame("ST=31;CN=2011;MN=X;CP=&&a21026Rtd1&&"), "CP item 'a21026Rtd1' is not key=value"),
    ],
)
def test_decode_errors_name_what_is_wrong(packet: bytes, message: str) -> None:
    import re

    with pytest.raises(Hj212Error, match=re.escape(message)):
        decode(packet)


def test_bad_crc_can_be_skipped_on_purpose() -> None:
    assert decode(EXAMPLE_PACKET.replace(b"1C80", b"0000"), check_crc=False).mn.startswith("0100")


def test_number_errors() -> None:
    msg = parse_segment("ST=31;CN=2011;MN=X;CP=&&a21026-Rtd=abc&&")
    with pytest.raises(Hj212Error, match="a21026-Rtd='abc' is not a number"):
        msg.number("a21026", "Rtd")
    with pytest.raises(Hj212Error, match="CP has no a21002-Rtd"):
        msg.number("a21002", "Rtd")
    with pytest.raises(Hj212Error, match="CP has no DataTime"):
        msg.data_time_ms()
