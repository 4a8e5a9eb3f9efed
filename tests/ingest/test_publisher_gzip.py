"""The adapters' gzip level (kafka-python has no setting for it; ``use_fast_gzip`` rebinds
the codec its record builders call)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import codec  # type: ignore[import-untyped]
from kafka.record import default_records  # type: ignore[import-untyped]

from ingest.intake import encode_batch
from ingest.publisher import use_fast_gzip

PAYLOAD = encode_batch(
    "gw-1",
    7,
    1_795_253_400_000,
    [{"point": f"e1.p{i:05d}", "ts": 1_795_253_400_000, "value": i * 0.25, "q": "good"}
     for i in range(100)],
)  # fmt: skip


@pytest.fixture
def restore_codec() -> Iterator[None]:
    before = default_records.gzip_encode
    yield
    default_records.gzip_encode = before


def _xfl(gz: bytes) -> int:
    """The gzip header's XFL byte: 2 = best compression (level 9), 4 = fastest (level 1)."""
    return gz[8]


def test_record_batches_are_gzip_level_1_and_read_back(restore_codec: None) -> None:
    default_records.gzip_encode = codec.gzip_encode
    assert _xfl(default_records.gzip_encode(PAYLOAD)) == 2  # kafka-python's own default: 9
    use_fast_gzip()
    assert _xfl(default_records.gzip_encode(PAYLOAD)) == 4
    builder = default_records.DefaultRecordBatchBuilder(
        magic=2, compression_type=default_records.DefaultRecordBase.CODEC_GZIP,
        is_transactional=False, producer_id=-1, producer_epoch=-1, base_sequence=-1,
        batch_size=1 << 20,
    )  # fmt: skip
    for i in range(20):
        builder.append(i, timestamp=1_795_253_400_000, key=b"gw-1", value=PAYLOAD, headers=[])
    data = bytes(builder.build())
    assert len(data) < 20 * len(PAYLOAD) / 5  # compressed
    batch = default_records.DefaultRecordBatch(data)
    assert [r.value for r in batch] == [PAYLOAD] * 20


def test_the_stream_workers_client_reads_level_1_gzip() -> None:
    from aiokafka import codec as aiocodec

    assert aiocodec.gzip_decode(codec.gzip_encode(PAYLOAD, compresslevel=1)) == PAYLOAD
