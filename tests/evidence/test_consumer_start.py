"""Where the sealer starts reading each partition (a stub consumer: positions only)."""

from __future__ import annotations

from typing import Any

from kafka import TopicPartition

from evidence.consumer import SealStats, start_at


class Positions:
    """The two calls ``start_at`` makes, recorded."""

    def __init__(self, first: dict[TopicPartition, int]) -> None:
        self.first, self.at = first, {}  # type: ignore[var-annotated]

    def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.first[tp] for tp in tps}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.at[tp] = offset


def test_new_partitions_start_at_the_first_record_still_there_and_gaps_are_counted() -> None:
    t = [TopicPartition("nt.readings.v1", p) for p in range(3)]
    consumer: Any = Positions({t[0]: 0, t[1]: 500, t[2]: 900})
    stats = SealStats()
    # partition 0: resumes at 120; 1: never seen, its first 500 records deleted -> 500, not 0
    # (a seek to 0 would be reset to the end); 2: the ledger wants 700 but 700..899 are gone
    start_at(consumer, t, {0: 120, 2: 700}, stats)
    assert consumer.at == {t[0]: 120, t[1]: 500, t[2]: 900}
    assert stats.lost_to_retention == 200
