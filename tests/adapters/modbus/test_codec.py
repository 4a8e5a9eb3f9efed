"""Register codec against literal register words worked out by hand (see comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adapters.modbus.codec import CodecError, Encoding, decode, decode_many, decode_raw, encode

# (encoding, physical value, register words as sent on the wire)
CASES = [
    # int16 -2 = two's complement 0xFFFE
    (Encoding("int16"), -2.0, [0xFFFE]),
    # uint16 500 × 0.1 = 50.0 ; 500 = 0x01F4
    (Encoding("uint16", scale=0.1), 50.0, [0x01F4]),
    # uint16 0x01F4 with bytes swapped inside the register -> 0xF401
    (Encoding("uint16", byte_order="little", scale=0.1), 50.0, [0xF401]),
    # uint32 123456 = 0x0001_E240, scale 0.01 -> 1234.56 kWh; high word first
    (Encoding("uint32", scale=0.01), 1234.56, [0x0001, 0xE240]),
    # same, low word first ("word swap")
    (Encoding("uint32", word_order="little", scale=0.01), 1234.56, [0xE240, 0x0001]),
    # same, both swapped: words reversed, then bytes swapped in each
    (Encoding("uint32", "little", "little", 0.01), 1234.56, [0x40E2, 0x0100]),
    # int32 -100000: 100000 = 0x000186A0, negated = 0xFFFE7960
    (Encoding("int32"), -100000.0, [0xFFFE, 0x7960]),
    # float32 1.0 = 0x3F800000
    (Encoding("float32"), 1.0, [0x3F80, 0x0000]),
    # float32 230.5 = 1.11001101b × 2^7: sign 0, exponent 134 = 0x86, mantissa 0b1100110100...
    #   -> 0 10000110 11001101000000000000000 = 0x43668000
    (Encoding("float32"), 230.5, [0x4366, 0x8000]),
    (Encoding("float32", word_order="little"), 230.5, [0x8000, 0x4366]),
    (Encoding("float32", byte_order="little"), 230.5, [0x6643, 0x0080]),
    (Encoding("float32", "little", "little"), 230.5, [0x0080, 0x6643]),
    # uint64 0x0102030405060708 = 72623859790382856, scale 1
    (Encoding("uint64"), 72623859790382856, [0x0102, 0x0304, 0x0506, 0x0708]),
    (Encoding("uint64", word_order="little"), 72623859790382856, [0x0708, 0x0506, 0x0304, 0x0102]),
    # uint64 1_000_000 Wh × 0.001 = 1000 kWh: 1_000_000 = 0x000F4240
    (Encoding("uint64", scale=0.001), 1000.0, [0x0000, 0x0000, 0x000F, 0x4240]),
    # float64 1.0 = 0x3FF0_0000_0000_0000
    (Encoding("float64"), 1.0, [0x3FF0, 0, 0, 0]),
    (Encoding("float64", word_order="little"), 1.0, [0, 0, 0, 0x3FF0]),
]


@pytest.mark.parametrize(("enc", "value", "words"), CASES)
def test_encode_gives_the_hand_worked_words(enc: Encoding, value: float, words: list[int]) -> None:
    assert encode(value, enc) == words


@pytest.mark.parametrize(("enc", "value", "words"), CASES)
def test_decode_gives_the_value_back(enc: Encoding, value: float, words: list[int]) -> None:
    assert decode(words, enc) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(("enc", "value", "words"), CASES)
def test_decode_many_matches_scalar_decode(enc: Encoding, value: float, words: list[int]) -> None:
    block = np.array([words, words])
    out = decode_many(block, enc)
    assert out.shape == (2,)
    assert out[0] == pytest.approx(value, rel=1e-12)
    assert out[1] == decode(words, enc)


def test_decode_raw_is_unscaled() -> None:
    assert decode_raw([0x0001, 0xE240], Encoding("uint32", scale=0.01)) == 123456


def test_modulus_is_register_range_times_scale() -> None:
    assert Encoding("uint32", scale=0.01).modulus == pytest.approx(2**32 * 0.01)
    assert Encoding("uint16").modulus == 65536.0
    assert Encoding("float32").modulus is None
    assert Encoding("int32").modulus is None


def test_float_nan_round_trips() -> None:
    words = encode(math.nan, Encoding("float32"))
    assert math.isnan(decode(words, Encoding("float32")))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: encode(70000, Encoding("uint16")), "outside uint16 range"),
        (lambda: encode(-1, Encoding("uint32")), "outside uint32 range"),
        (lambda: encode(math.inf, Encoding("int32")), "cannot encode inf as int32"),
        (lambda: decode([1], Encoding("float32")), "float32 needs 2 registers, got 1"),
        (lambda: decode([0x10000, 0], Encoding("uint32")), "not a 16-bit unsigned value"),
        (lambda: Encoding("float16"), "unknown data type 'float16'"),  # type: ignore[arg-type]
        (lambda: Encoding("uint16", word_order="middle"), "word_order 'middle'"),  # type: ignore[arg-type]
        (lambda: Encoding("uint16", scale=0.0), "scale 0.0"),
        (lambda: decode_many(np.zeros((2, 3)), Encoding("uint32")), "shape (n, 2)"),
        (lambda: decode_many(np.full((1, 2), -1), Encoding("uint32")), "16-bit unsigned"),
    ],
)
def test_errors_say_what_is_wrong(call: object, message: str) -> None:
    with pytest.raises(CodecError, match=_escape(message)):
        call()  # type: ignore[operator]


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_decimal_scales_give_the_decimal() -> None:
    # 950 = 0x03B6; 950 × 0.001 in binary floating point is 0.9500000000000001, but a meter
    # counting in 0.001 steps means 0.95
    assert decode([0x03B6], Encoding("int16", scale=0.001)) == 0.95
    assert decode_many(np.array([[0x03B6]]), Encoding("int16", scale=0.001))[0] == 0.95
    assert encode(0.95, Encoding("int16", scale=0.001)) == [0x03B6]
