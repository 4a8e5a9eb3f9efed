"""The HJ 212-2017 data segment: ``QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;CP=&&...&&``.

Inside ``CP`` items are ``key=value`` separated by ``;`` (between groups) or ``,`` (within a
group). Keys ``{code}-{field}`` carry monitoring values (``a21026-Rtd=12.3,a21026-Flag=N``);
other keys (``DataTime``, ``RtdInterval``, ...) are parameters. ``DataTime`` is local time
``yyyyMMddHHmmss`` at the station (Beijing time, UTC+8, unless configured): the codec converts
it with an explicit ``tz_offset_min`` so all times inside Nengtan stay UTC epoch ms.

Values are kept as the text sent, so decoding then encoding gives back the same bytes; use
``Hj212Message.number`` to read one as a float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.mqtt.hj212.frame import Hj212Error, frame, unframe

BEIJING_OFFSET_MIN = 480
VALUE_FIELDS = ("Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "Flag")
_HEADER_ORDER = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_REQUIRED = ("ST", "CN", "MN")

# Command numbers (CN) of the uploads a CEMS data logger sends (HJ 212-2017, Table 9).
CN_REALTIME = "2011"
CN_MINUTE = "2051"
CN_HOUR = "2061"
CN_DAY = "2031"


@dataclass(frozen=True, slots=True)
class Hj212Message:
    """One decoded data segment. ``values[code][field]`` is the text of ``code-field``."""

    st: str
    cn: str
    mn: str
    qn: str | None = None
    pw: str | None = None
    flag: int | None = None
    data_time: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    def number(self, code: str, fld: str) -> float:
        """``code-fld`` as a float; a clear error if absent or not a number."""
        try:
            text = self.values[code][fld]
        except KeyError:
            raise Hj212Error(f"MN={self.mn}: CP has no {code}-{fld}") from None
        try:
            return float(text)
        except ValueError:
            raise Hj212Error(f"MN={self.mn}: {code}-{fld}={text!r} is not a number") from None

    def data_time_ms(self, tz_offset_min: int = BEIJING_OFFSET_MIN) -> int:
        """``DataTime`` as UTC epoch ms (it is local time ``tz_offset_min`` east of UTC)."""
        if self.data_time is None:
            raise Hj212Error(f"MN={self.mn}: CP has no DataTime")
        return parse_data_time(self.data_time, tz_offset_min)


def parse_data_time(text: str, tz_offset_min: int = BEIJING_OFFSET_MIN) -> int:
    """``yyyyMMddHHmmss`` (local, ``tz_offset_min`` east of UTC) to UTC epoch ms."""
    if len(text) != 14 or not text.isdigit():
        raise Hj212Error(f"DataTime {text!r} is not yyyyMMddHHmmss")
    try:
        local = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise Hj212Error(f"DataTime {text!r} is not a valid date and time") from None
    return int(local.timestamp() * 1000) - tz_offset_min * 60_000


def format_data_time(ts_ms: int, tz_offset_min: int = BEIJING_OFFSET_MIN) -> str:
    """UTC epoch ms to ``yyyyMMddHHmmss`` local time (sub-second part dropped)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    local = epoch + timedelta(milliseconds=ts_ms + tz_offset_min * 60_000)
    return local.strftime("%Y%m%d%H%M%S")


def format_qn(ts_ms: int, tz_offset_min: int = BEIJING_OFFSET_MIN) -> str:
    """A request number ``yyyyMMddHHmmssSSS`` (local time with milliseconds)."""
    return format_data_time(ts_ms, tz_offset_min) + f"{ts_ms % 1000:03d}"


def format_value(value: float) -> str:
    """A number as HJ 212 text: plain decimal, no exponent, at most 6 decimals, trailing 0s cut."""
    if not math.isfinite(value):
        raise Hj212Error(f"cannot send {value!r}: HJ 212 values are finite decimals")
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def build_segment(msg: Hj212Message) -> str:
    """The data segment text of ``msg`` (header fields in the standard's order)."""
    header = {"QN": msg.qn, "ST": msg.st, "CN": msg.cn, "PW": msg.pw, "MN": msg.mn}
    if msg.flag is not None:
        header["Flag"] = str(msg.flag)
    parts = [f"{k}={v}" for k, v in header.items() if v is not None]
    groups: list[str] = []
    if msg.data_time is not None:
        groups.append(f"DataTime={msg.data_time}")
    groups.extend(f"{k}={v}" for k, v in msg.params.items())
    for code, fields in msg.values.items():
        groups.append(",".join(f"{code}-{f}={v}" for f, v in fields.items()))
    parts.append("CP=&&" + ";".join(groups) + "&&")
    return ";".join(parts)


def parse_segment(segment: str) -> Hj212Message:
    """Parse a data segment; errors name the missing or malformed field."""
    cp_at = segment.find("CP=&&")
    if cp_at < 0:
        raise Hj212Error("missing field CP (expected 'CP=&&...&&' in the data segment)")
    if not segment.endswith("&&") or len(segment) < cp_at + 7:
        raise Hj212Error("CP is not closed with '&&' at the end of the data segment")
    head = segment[:cp_at].rstrip(";")
    header: dict[str, str] = {}
    for item in filter(None, head.split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise Hj212Error(f"header item {item!r} is not key=value")
        header[key.strip()] = value.strip()
    for name in _REQUIRED:
        if not header.get(name):
            raise Hj212Error(f"missing field {name} in the data segment header")
    flag: int | None = None
    if "Flag" in header:
        try:
            flag = int(header["Flag"])
        except ValueError:
            raise Hj212Error(f"Flag={header['Flag']!r} is not an integer") from None
    values: dict[str, dict[str, str]] = {}
    params: dict[str, str] = {}
    data_time: str | None = None
    body = segment[cp_at + 5 : -2]
    for item in filter(None, body.replace(",", ";").split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise Hj212Error(f"CP item {item!r} is not key=value")
        code, dash, fld = key.partition("-")
        if dash:
            if not code or not fld:
                raise Hj212Error(f"CP key {key!r} is not code-field")
            values.setdefault(code, {})[fld] = value
        elif key == "DataTime":
            data_time = value
        else:
            params[key] = value
    return Hj212Message(
        st=header["ST"],
        cn=header["CN"],
        mn=header["MN"],
        qn=header.get("QN"),
        pw=header.get("PW"),
        flag=flag,
        data_time=data_time,
        values=values,
        params=params,
    )


def encode(msg: Hj212Message) -> bytes:
    """A complete packet (``##``, length, segment, CRC, CRLF) for ``msg``."""
    return frame(build_segment(msg))


def decode(packet: bytes, *, check_crc: bool = True) -> Hj212Message:
    """Parse a complete packet; raises ``Hj212Error`` naming what was wrong."""
    return parse_segment(unframe(packet, check_crc=check_crc))
