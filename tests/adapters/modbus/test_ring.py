"""Load-profile ring: layout round trip, request runs, sequence wrap-around, gap detection, the
profile's block validation and the persisted sequences (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.modbus.codec import CodecError, Encoding
from adapters.modbus.config import load_profile_config
from adapters.modbus.ring import SEQ_MODULUS, Pending, RingLayout, Run, pending
from adapters.modbus.sequences import SequenceStore
from ingest.park.profiles import bundled_profiles, load_profile_file
from nengtan.errors import ConfigError

TOP = SEQ_MODULUS - 1  # the last sequence before the wrap


def _three_phase(
    word_order: str = "big", byte_order: str = "big", depth: int | None = 64
) -> RingLayout:
    """The bundled three-phase meter's ring (``depth`` None: as the profile declares it)."""
    profile = bundled_profiles()["three_phase_meter"]
    lp = load_profile_config(profile, word_order, byte_order)  # type: ignore[arg-type]
    assert lp is not None
    return (lp if depth is None else lp.model_copy(update={"depth": depth})).layout()


def test_three_phase_layout_by_hand() -> None:
    ring = _three_phase(depth=None)
    # 11 float32 (22) + 2 uint32 (4) + 2 uint64 (8) + int32 (2) + int16 + uint16 = 38 registers
    assert ring.sample_size == 6 + 38
    assert ring.depth == 128 and ring.address == 1000
    assert ring.slot_address(0) == 1002
    assert ring.slot_address(129) == 1002 + 44  # slot 1
    assert ring.end == 1002 + 128 * 44 == 6634


@pytest.mark.parametrize(
    ("word", "byte"), [("big", "big"), ("little", "big"), ("little", "little")]
)
def test_sample_round_trip(word: str, byte: str) -> None:
    ring = _three_phase(word, byte)
    values = [1234.5, 0.25, 1815.0, 230.5, 229.0, 231.0, 10.0, 11.0, 12.0, 0.95, 50.0]
    values += [1234.56, 0.01, 1234.567, 0.001, 1815.25, 0.95, 230.4]
    words = ring.encode_values(TOP, 1_767_571_210_123, values)
    assert len(words) == ring.sample_size and all(0 <= w <= 0xFFFF for w in words)
    sample = ring.decode_sample(words)
    assert sample.seq == TOP and sample.ts_ms == 1_767_571_210_123
    assert sample.values[0] == 1234.5  # float32 exact
    assert sample.values[9] == pytest.approx(0.95, rel=1e-7)  # float32 of 0.95
    assert list(sample.values[11:]) == [1234.56, 0.01, 1234.567, 0.001, 1815.25, 0.95, 230.4]
    # the header and the head of a sample follow the device's orders
    assert ring.decode_header(ring.encode_header(TOP)) == TOP
    if word == "little":
        assert ring.encode_header(1) == [1, 0] if byte == "big" else [0x0100, 0]
    else:
        assert ring.encode_header(1) == [0, 1]


def test_empty_slot_decodes_to_sequence_and_time_zero() -> None:
    ring = _three_phase()
    sample = ring.decode_sample([0] * ring.sample_size)
    assert (sample.seq, sample.ts_ms) == (0, 0)


def test_wrong_sizes_are_named() -> None:
    ring = _three_phase()
    with pytest.raises(CodecError, match="a sample is 44 registers, got 43"):
        ring.decode_sample([0] * 43)
    with pytest.raises(CodecError, match="a sample has 18 values, got 2"):
        ring.encode_values(1, 1, [1.0, 2.0])
    with pytest.raises(CodecError, match="not a power of two"):
        RingLayout(address=0, depth=48, fields=(Encoding("float32"),))


def test_runs_merge_consecutive_slots_and_split_at_the_ring_end() -> None:
    ring = _three_phase(depth=64)
    # 125 // 44 = 2 samples per request; slots 62, 63 | 0, 1 | 2
    seqs = [126, 127, 128, 129, 130]
    assert ring.runs(seqs) == [
        Run(1002 + 62 * 44, 88, (126, 127)),
        Run(1002, 88, (128, 129)),
        Run(1002 + 2 * 44, 44, (130,)),
    ]
    # the ring's end splits even a run that would fit: slot 63 then slot 0
    assert [r.seqs for r in ring.runs([127, 128])] == [(127,), (128,)]
    with pytest.raises(CodecError, match="does not fit 40 registers per request"):
        ring.runs([1], max_registers=40)


def test_split_decodes_each_sample_of_a_run() -> None:
    ring = _three_phase()
    vals = [float(i) for i in range(18)]
    words = ring.encode_values(7, 1000, vals) + ring.encode_values(8, 2000, vals)
    (run,) = ring.runs([7, 8])
    assert [(s.seq, s.ts_ms) for s in ring.split(run, words)] == [(7, 1000), (8, 2000)]
    with pytest.raises(CodecError, match="asked for 88 registers, got 44"):
        ring.split(run, words[:44])


def test_pending_new_samples_only() -> None:
    assert pending(10, 10, 64) == Pending(())
    assert pending(10, 13, 64) == Pending((11, 12, 13))
    assert pending(10, 74, 64).seqs == tuple(range(11, 75))  # exactly depth: no gap
    assert pending(10, 74, 64).gap is None


def test_pending_wraps_around_the_uint32_sequence() -> None:
    p = pending(TOP - 1, 1, 64)
    assert p.seqs == (TOP, 0, 1) and p.gap is None
    ring = _three_phase()
    # TOP is slot 63 (2^32 is a multiple of 64): the wrap keeps slots consecutive
    assert [r.seqs for r in ring.runs(p.seqs)] == [(TOP,), (0, 1)]


def test_pending_reports_the_lost_range() -> None:
    p = pending(10, 100, 64)
    assert p.gap == (11, 36) and p.gap_samples == 26  # 100 - 64 = 36 is the newest lost
    assert p.seqs == tuple(range(37, 101)) and not p.whole_ring
    # a gap across the wrap: 9 lost before it, 37 after (110 written, 64 kept)
    q = pending(SEQ_MODULUS - 10, 100, 64)
    assert q.gap == (SEQ_MODULUS - 9, 36) and q.gap_samples == 46


def test_first_contact_and_restart_read_the_whole_ring() -> None:
    first = pending(None, 3, 4)
    assert first == Pending((0, 1, 2, 3), whole_ring=True)
    restarted = pending(5000, 3, 4)  # the sequence went back: a device with a new ring
    assert restarted.whole_ring and restarted.gap is None and restarted.seqs == (0, 1, 2, 3)
    with pytest.raises(CodecError, match="not a uint32"):
        pending(1, SEQ_MODULUS, 4)


def _profile(tmp_path: Path, block: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        "id: p\nname: P\nsource: test\n"
        "registers:\n  - {name: e, address: 0, dtype: float32, kind: counter, uom: kWh}\n" + block,
        encoding="utf-8",
    )
    return path


def test_profile_block_is_validated(tmp_path: Path) -> None:
    ok = load_profile_file(_profile(tmp_path, "load_profile: {address: 10, depth: 8}\n"))
    assert ok.load_profile_span() == (10, 10 + 2 + 8 * 8)
    assert ok.span() == (0, 76)
    with pytest.raises(ConfigError, match="depth 48 must be a power of two"):
        load_profile_file(_profile(tmp_path, "load_profile: {address: 10, depth: 48}\n"))
    with pytest.raises(ConfigError, match="load_profile: address 0 overlaps register 'e'"):
        load_profile_file(_profile(tmp_path, "load_profile: {address: 0, depth: 8}\n"))
    with pytest.raises(ConfigError, match="beyond address 65535"):
        load_profile_file(_profile(tmp_path, "load_profile: {address: 65000, depth: 4096}\n"))


def test_every_bundled_profile_has_a_ring() -> None:
    for profile in bundled_profiles().values():
        assert profile.load_profile is not None and profile.load_profile.depth == 128, profile.id


def test_sequences_persist_and_survive_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "seq.json"
    store = SequenceStore(path)
    assert store.get("m1") is None
    store.set("m1", TOP)
    store.set("m2", 7)
    again = SequenceStore(path)
    assert (again.get("m1"), again.get("m2")) == (TOP, 7)
    path.write_text("{not json", encoding="utf-8")
    assert SequenceStore(path).get("m1") is None  # read as a first contact
    memory = SequenceStore(None)
    memory.set("m1", 3)
    assert memory.get("m1") == 3
