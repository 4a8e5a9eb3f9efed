"""HJ 212-2017 (污染物在线监控(监测)系统数据传输标准) codec: framing, CRC, data segment,
factor codes.

Public names: ``crc16``, ``frame``, ``unframe``, ``Hj212Message``, ``encode``, ``decode``,
``Hj212Error``, ``load_codes``, ``PollutantCode``.
"""

from adapters.mqtt.hj212.codes import CodeTable, PollutantCode, load_codes
from adapters.mqtt.hj212.crc import crc16
from adapters.mqtt.hj212.frame import Hj212Error, frame, unframe
from adapters.mqtt.hj212.message import Hj212Message, decode, encode

__all__ = [
    "CodeTable",
    "Hj212Error",
    "Hj212Message",
    "PollutantCode",
    "crc16",
    "decode",
    "encode",
    "frame",
    "load_codes",
    "unframe",
]
