"""Load-profile ring ("frozen data"): the register layout of a meter's recent samples and the
sequence arithmetic that lets a poller hand over every sample exactly once per run.

Layout (``table``, from ``address``; every number in the device's word and byte order)::

    address + 0, 1          header: sequence number of the latest sample (uint32)
    address + 2 + k × size  slot k (k = 0 .. depth-1) of ``size`` registers:
        + 0, 1              sequence number (uint32)
        + 2 .. 5            device time of the sample, epoch ms UTC (uint64)
        + 6 ..              the profile's registers, in profile order, each in its encoding

Sequence numbers count samples from 1 and wrap from 2^32 − 1 to 0. Sample ``s`` lives in slot
``s mod depth`` (``depth`` is a power of two, so the slot order stays continuous across the
wrap). A slot whose sequence is not the one expected there holds an older or newer sample
(overwritten while it was being read) or nothing (all zero words: device time 0): either way it
is not the wanted sample. The meter writes a sample and then the header, so every sequence up
to the header's is in its slot while the ring still holds it.

A poller remembers the last sequence it handed over (``last``) and reads ``pending(last,
latest, depth)``: the ``(latest − last) mod 2^32`` newer samples, or — when more than ``depth``
were written since — the ``depth`` the ring still holds, reporting the lost range as a gap. A
difference of 2^31 or more means the sequence went backwards (a device that restarted with an
empty ring): like a first contact, the whole ring is read and empty slots skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.modbus.codec import CodecError, Encoding, Order, decode, decode_raw, encode

SEQ_MODULUS = 2**32
HEADER_REGISTERS = 2
HEAD_REGISTERS = 6  # sequence (2) + device time (4) at the start of every sample


@dataclass(frozen=True, slots=True)
class Sample:
    """One load-profile sample: its sequence, device time and values in field order."""

    seq: int
    ts_ms: int
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Run:
    """One read request over consecutive slots: address, register count, the sequences in it."""

    address: int
    count: int
    seqs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Pending:
    """What to read after ``last``: sequences in order, a lost range, and why."""

    seqs: tuple[int, ...]
    gap: tuple[int, int] | None = None  # first and last lost sequence (inclusive, may wrap)
    whole_ring: bool = False  # first contact or sequence restart: empty slots are expected

    @property
    def gap_samples(self) -> int:
        if self.gap is None:
            return 0
        return (self.gap[1] - self.gap[0]) % SEQ_MODULUS + 1


def pending(last: int | None, latest: int, depth: int) -> Pending:
    """The sequences to read when the header says ``latest`` (see the module docstring)."""
    if not 0 <= latest < SEQ_MODULUS:
        raise CodecError(f"sequence {latest} is not a uint32")
    if last is None:
        return Pending(_back(latest, depth), whole_ring=True)
    ahead = (latest - last) % SEQ_MODULUS
    if ahead == 0:
        return Pending(())
    if ahead <= depth:
        return Pending(_back(latest, ahead))
    if ahead < SEQ_MODULUS // 2:
        gap = ((last + 1) % SEQ_MODULUS, (latest - depth) % SEQ_MODULUS)
        return Pending(_back(latest, depth), gap=gap)
    return Pending(_back(latest, depth), whole_ring=True)


def _back(latest: int, n: int) -> tuple[int, ...]:
    """The ``n`` sequences ending with ``latest``, oldest first (modulo 2^32)."""
    return tuple((latest - n + 1 + i) % SEQ_MODULUS for i in range(n))


@dataclass(frozen=True, slots=True)
class RingLayout:
    """Where and how one device's ring sits in its registers."""

    address: int
    depth: int
    fields: tuple[Encoding, ...]  # the profile's registers, in profile order
    table: str = "holding"
    word_order: Order = "big"
    byte_order: Order = "big"
    _size: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.depth < 1 or self.depth & (self.depth - 1):
            raise CodecError(f"ring depth {self.depth} is not a power of two")
        object.__setattr__(self, "_size", HEAD_REGISTERS + sum(f.count for f in self.fields))

    @property
    def seq_encoding(self) -> Encoding:
        return Encoding("uint32", self.word_order, self.byte_order)

    @property
    def ts_encoding(self) -> Encoding:
        return Encoding("uint64", self.word_order, self.byte_order)

    @property
    def sample_size(self) -> int:
        """Registers per slot."""
        return self._size

    @property
    def end(self) -> int:
        """One past the ring's last register."""
        return self.address + HEADER_REGISTERS + self.depth * self.sample_size

    def slot_address(self, seq: int) -> int:
        """First register of the slot holding sequence ``seq``."""
        return self.address + HEADER_REGISTERS + (seq % self.depth) * self.sample_size

    # -- header and samples ---------------------------------------------------------------
    def encode_header(self, latest: int) -> list[int]:
        return encode(latest, self.seq_encoding)

    def decode_header(self, words: Sequence[int]) -> int:
        return int(decode_raw(words[:HEADER_REGISTERS], self.seq_encoding))

    def encode_sample(self, seq: int, ts_ms: int, field_words: Sequence[int]) -> list[int]:
        """A slot's words: ``field_words`` are the profile's registers as the device shows them."""
        if len(field_words) != self.sample_size - HEAD_REGISTERS:
            raise CodecError(
                f"a sample carries {self.sample_size - HEAD_REGISTERS} field registers, "
                f"got {len(field_words)}"
            )
        head = encode(seq % SEQ_MODULUS, self.seq_encoding) + encode(ts_ms, self.ts_encoding)
        return head + list(field_words)

    def encode_values(self, seq: int, ts_ms: int, values: Sequence[float]) -> list[int]:
        """A slot's words from physical values, one per field."""
        if len(values) != len(self.fields):
            raise CodecError(f"a sample has {len(self.fields)} values, got {len(values)}")
        words: list[int] = []
        for value, enc in zip(values, self.fields, strict=True):
            words += encode(value, enc)
        return self.encode_sample(seq, ts_ms, words)

    def decode_sample(self, words: Sequence[int]) -> Sample:
        """The sample in one slot's words (an empty slot decodes to sequence 0, time 0)."""
        if len(words) != self.sample_size:
            raise CodecError(f"a sample is {self.sample_size} registers, got {len(words)}")
        seq = int(decode_raw(words[0:2], self.seq_encoding))
        ts_ms = int(decode_raw(words[2:6], self.ts_encoding))
        values = []
        at = HEAD_REGISTERS
        for enc in self.fields:
            values.append(decode(words[at : at + enc.count], enc))
            at += enc.count
        return Sample(seq, ts_ms, tuple(values))

    # -- reading ----------------------------------------------------------------------------
    def runs(self, seqs: Sequence[int], max_registers: int = 125) -> list[Run]:
        """Read requests covering the slots of ``seqs`` (in order): consecutive slots merge
        while a request stays within ``max_registers``; the ring's end splits a run."""
        per_request = max_registers // self.sample_size
        if per_request < 1:
            raise CodecError(
                f"a sample of {self.sample_size} registers does not fit {max_registers} "
                f"registers per request"
            )
        out: list[Run] = []
        chunk: list[int] = []
        for seq in seqs:
            if chunk and (
                len(chunk) == per_request or seq % self.depth != chunk[-1] % self.depth + 1
            ):
                out.append(self._run(chunk))
                chunk = []
            chunk.append(seq)
        if chunk:
            out.append(self._run(chunk))
        return out

    def _run(self, seqs: list[int]) -> Run:
        return Run(self.slot_address(seqs[0]), len(seqs) * self.sample_size, tuple(seqs))

    def split(self, run: Run, words: Sequence[int]) -> list[Sample]:
        """The samples in a run's response, in the run's order."""
        if len(words) < run.count:
            raise CodecError(
                f"ring read at {run.address}: asked for {run.count} registers, got {len(words)}"
            )
        size = self.sample_size
        return [self.decode_sample(words[i * size : (i + 1) * size]) for i in range(len(run.seqs))]
