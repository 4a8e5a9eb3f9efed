"""The code table (versioned data with provenance) and the JSON form."""

from __future__ import annotations

import pytest

from adapters.mqtt.hj212 import Hj212Error, Hj212Message, load_codes
from adapters.mqtt.hj212.codes import parse_codes
from adapters.mqtt.hj212.jsonform import dumps, loads
from nengtan.errors import ConfigError


def test_bundled_table_has_the_cems_species() -> None:
    table = load_codes()
    assert table.version
    expected = {
        "a21026": "so2",
        "a21002": "nox",
        "a34013": "pm",
        "a19001": "o2",
        "a00000": "flow",
        "a01012": "temp",
        "a01013": "pressure",
        "a01014": "moisture",
        "a05001": "co2",
        "a21005": "co",
    }
    for code, species in expected.items():
        assert table.by_code[code].species == species
        assert table.by_species[species].code == code
    assert table.by_code["a21026"].name_zh == "二氧化硫"
    assert {c.status for c in table.by_code.values()} <= {"confirmed", "unconfirmed"}


def test_flag_quality() -> None:
    table = load_codes()
    assert table.quality("N") == "good"
    assert table.quality("T") == "uncertain"
    assert table.quality("M") == "bad"
    assert table.quality("?") == "bad"
    assert table.quality(None) == "good"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("codes: 3", "expected a mapping with a 'codes' list"),
        ("codes: [{code: a1}]", "codes[0]: missing key 'status'"),
        (
            "codes: [{code: a1, name_zh: x, name_en: x, uom_standard: x, status: maybe}]",
            "codes[0]: status 'maybe'",
        ),
        (
            "codes: [{code: a1, name_zh: x, name_en: x, uom_standard: x, status: confirmed},"
            " {code: a1, name_zh: x, name_en: x, uom_standard: x, status: confirmed}]",
            "codes[1]: code a1 appears twice",
        ),
    ],
)
def test_bad_table_errors_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_codes(text, "my.yaml")


def test_json_form_round_trip() -> None:
    msg = Hj212Message(
        st="31",
        cn="2051",
        mn="MN1",
        qn="1",
        pw="p",
        flag=4,
        data_time="20261121173000",
        values={"a21026": {"Avg": "35.2", "Flag": "N"}},
    )
    payload = dumps(msg)
    assert b'"CP":{"a21026":{"Avg":35.2,"Flag":"N"}}' in payload
    assert loads(payload) == msg


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"ST":"31","CN":"2051","CP":{}}', "missing field MN"),
        (b'{"ST":"31","CN":"2051","MN":"x","CP":{"a1":3}}', "CP.a1 must be an object"),
        (b'{"ST":"31","CN":"2051","MN":"x","CP":{"a1":{"Avg":null}}}', "CP.a1.Avg must be"),
        (b'{"ST":"31","CN":"2051","MN":"x","CP":{"a1":{"Avg":NaN}}}', "finite"),
    ],
)
def test_json_form_errors(payload: bytes, message: str) -> None:
    with pytest.raises(Hj212Error, match=message):
        loads(payload)


def test_every_park_cems_species_has_a_code() -> None:
    from ingest.park.vocabulary import cems_species

    table = load_codes()
    missing = sorted(set(cems_species()) - set(table.by_species))
    assert missing == []
