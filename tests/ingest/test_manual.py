"""Manual entry (手工填报): CSV and YAML, who entered it, and what is refused."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.intake import Intake
from ingest.manual import enter, parse_ts
from ingest.park.models import Park
from ingest.publisher import Publisher
from ingest.validate import Limits, Validator
from nengtan.errors import ConfigError

Sent = Callable[[], tuple[list[Any], list[Any]]]


@pytest.fixture
def intake(tiny_park: Park, publisher: Publisher) -> Intake:
    # golden timestamps below are fixed dates: allow them whatever today is
    limits = Limits(max_future_ms=100 * 365 * 86_400_000, max_past_ms=100 * 365 * 86_400_000)
    return Intake(Validator.for_park(tiny_park, limits), publisher)


def test_csv_is_published_as_one_batch_by_the_person(
    intake: Intake, sent: Sent, tmp_path: Path
) -> None:
    f = tmp_path / "diesel-2026-10.csv"
    f.write_text(
        "point,ts,value,uom,note\n"
        "p.manual,2026-10-31T16:00:00Z,12.5,t,October delivery notes\n"
        "p.manual,2026-11-20T16:00:00+08:00,3,t,\n",
        encoding="utf-8",
    )
    result = enter(f, "wang.li", intake)
    assert result.accepted == 2 and result.rejected == []
    batches, dlq = sent()
    assert dlq == []
    [batch] = batches
    assert batch["device"] == "manual:wang.li" and batch["_key"] == "manual:wang.li"
    # 2026-10-31T16:00Z = 1793462400 s; 2026-11-20T16:00+08:00 = 08:00Z = 1795161600 s
    assert batch["readings"] == [
        {"point": "p.manual", "ts": 1_793_462_400_000, "value": 12.5, "q": "good"},
        {"point": "p.manual", "ts": 1_795_161_600_000, "value": 3.0, "q": "good"},
    ]


def test_yaml_with_entered_by_and_bad_rows_to_dlq(
    intake: Intake, sent: Sent, tmp_path: Path
) -> None:
    f = tmp_path / "entry.yaml"
    f.write_text(
        "entered_by: zhang.san\n"
        "readings:\n"
        "  - {point: p.manual, ts: 2026-11-01T00:00:00Z, value: 1.0, uom: t}\n"
        "  - {point: p.kwh, ts: 2026-11-01T00:00:00Z, value: 5.0}\n"
        "  - {point: p.manual, ts: 2026-11-01T00:00:00Z, value: 2.0, uom: kg}\n",
        encoding="utf-8",
    )
    result = enter(f, None, intake)
    assert result.device == "manual:zhang.san" and result.accepted == 1
    assert len(result.rejected) == 2
    assert (
        "point 'p.kwh': belongs to 'gw1'; manual entry is only for points without a device"
        in (result.rejected[0])
    )
    assert "unit 'kg' does not match the point's unit 't'" in result.rejected[1]
    batches, dlq = sent()
    assert len(batches) == 1
    [letter] = dlq
    assert letter["source"] == "manual:entry.yaml:zhang.san"
    assert letter["reason"].startswith(
        "manual entry entry.yaml by zhang.san: 2 of 3 readings rejected"
    )
    assert base64.b64decode(letter["payload_b64"]) == f.read_bytes()


def test_dry_run_publishes_nothing(intake: Intake, sent: Sent, tmp_path: Path) -> None:
    f = tmp_path / "e.csv"
    f.write_text("point,ts,value\np.manual,1795161600000,1\n", encoding="utf-8")
    assert enter(f, "li", intake, dry_run=True).accepted == 1
    assert sent() == ([], [])


@pytest.mark.parametrize(
    ("name", "text", "who", "message"),
    [
        ("a.csv", "point,value\np.manual,1\n", "li", "CSV needs a header with point, ts, value"),
        (
            "a.csv",
            "point,ts,value\np.manual,2026-11-01T00:00:00,1\n",
            "li",
            "line 2: ts '2026-11-01T00:00:00' has no time zone",
        ),
        (
            "a.csv",
            "point,ts,value\np.manual,yesterday,1\n",
            "li",
            "line 2: ts 'yesterday' is neither epoch ms nor ISO 8601",
        ),
        (
            "a.csv",
            "point,ts,value\np.manual,1795161600000,lots\n",
            "li",
            "line 2: value 'lots' is not a number",
        ),
        (
            "a.csv",
            "point,ts,value\np.manual,1795161600000,1\n",
            None,
            "who entered these readings?",
        ),
        ("a.yaml", "readings: 3\n", "li", "expected a mapping with a 'readings' list"),
    ],
)
def test_file_errors_name_file_line_and_problem(
    intake: Intake, tmp_path: Path, name: str, text: str, who: str | None, message: str
) -> None:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")) as err:
        enter(f, who, intake)
    assert str(f) in str(err.value)


def test_parse_ts() -> None:
    assert parse_ts("1795161600000", "x") == 1_795_161_600_000
    assert parse_ts(5, "x") == 5
