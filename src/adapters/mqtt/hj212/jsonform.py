"""The JSON form of an HJ 212-2017 message, for CEMS gateways that publish JSON over MQTT.

Same fields as the text form, so nothing is lost converting between them::

    {"QN": "20261121173000000", "ST": "31", "CN": "2051", "PW": "123456",
     "MN": "STACK01MN0001", "Flag": 4, "DataTime": "20261121173000",
     "CP": {"a21026": {"Avg": 35.2, "Min": 30.1, "Max": 40.0, "Flag": "N"}}}

Values may be JSON numbers or strings; ``Flag`` inside ``CP`` is a string. No CRC: MQTT and
JSON already frame the message; a JSON syntax error is the malformation to catch.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.mqtt.hj212.frame import Hj212Error
from adapters.mqtt.hj212.message import Hj212Message, format_value


def to_json_obj(msg: Hj212Message) -> dict[str, Any]:
    """The JSON form of ``msg`` (numeric texts become numbers)."""
    cp: dict[str, dict[str, Any]] = {}
    for code, fields in msg.values.items():
        cp[code] = {f: (v if f == "Flag" else _number(v)) for f, v in fields.items()}
    obj: dict[str, Any] = {"ST": msg.st, "CN": msg.cn, "MN": msg.mn}
    for key, value in (("QN", msg.qn), ("PW", msg.pw), ("Flag", msg.flag)):
        if value is not None:
            obj[key] = value
    if msg.data_time is not None:
        obj["DataTime"] = msg.data_time
    obj.update(msg.params)
    obj["CP"] = cp
    return obj


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def from_json_obj(obj: Any) -> Hj212Message:
    """Parse the JSON form; errors name the missing or wrongly typed field."""
    if not isinstance(obj, dict):
        raise Hj212Error(f"expected a JSON object, got {type(obj).__name__}")
    for name in ("ST", "CN", "MN", "CP"):
        if name not in obj:
            raise Hj212Error(f"missing field {name}")
    cp = obj["CP"]
    if not isinstance(cp, dict):
        raise Hj212Error("CP must be an object of code -> {field: value}")
    values: dict[str, dict[str, str]] = {}
    for code, fields in cp.items():
        if not isinstance(fields, dict):
            raise Hj212Error(f"CP.{code} must be an object of field -> value")
        out: dict[str, str] = {}
        for fld, value in fields.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise Hj212Error(f"CP.{code}.{fld} must be a number or a string, got {value!r}")
            out[str(fld)] = format_value(float(value)) if not isinstance(value, str) else value
        values[str(code)] = out
    flag = obj.get("Flag")
    if flag is not None and (isinstance(flag, bool) or not isinstance(flag, int)):
        raise Hj212Error(f"Flag must be an integer, got {flag!r}")
    known = {"ST", "CN", "MN", "CP", "QN", "PW", "Flag", "DataTime"}
    return Hj212Message(
        st=str(obj["ST"]),
        cn=str(obj["CN"]),
        mn=str(obj["MN"]),
        qn=None if obj.get("QN") is None else str(obj["QN"]),
        pw=None if obj.get("PW") is None else str(obj["PW"]),
        flag=flag,
        data_time=None if obj.get("DataTime") is None else str(obj["DataTime"]),
        values=values,
        params={k: str(v) for k, v in obj.items() if k not in known},
    )


def dumps(msg: Hj212Message) -> bytes:
    """The JSON form as UTF-8 bytes."""
    return json.dumps(to_json_obj(msg), separators=(",", ":")).encode("utf-8")


def loads(payload: bytes) -> Hj212Message:
    """Parse JSON-form bytes; a syntax error says where."""
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Hj212Error(f"not valid JSON: {exc}") from None
    return from_json_obj(obj)
