"""Supply-chain submissions: validated like other inputs, every row with an evidence record."""

from __future__ import annotations

import hashlib

from management.supply import parse_csv, supplier_factor, validate_rows

CSV = (
    b"supplier,enterprise,material,period,kind,quantity,uom,kgco2e_per_unit,basis\n"
    b"steelco,sunrise,tinplate,2026-01,material,40,t,2150,EPD 2025-17\n"
    b"steelco,sunrise,tinplate,2026-13,material,40,t,2150,EPD 2025-17\n"
    b"gasco,acme,natural_gas,2026,energy,,Nm3,0.31,supplier LCA\n"
    b"gasco,acme,natural_gas,2026,energy,,kg,0.31,supplier LCA\n"
    b"x,nowhere,tinplate,2026,material,1,t,1,y\n"
    b"steelco,sunrise,tinplate,2026-01,material,40,t,-5,EPD\n"
)


def test_csv_rows_validated_and_evidenced() -> None:
    out = parse_csv(CSV, submitter="steelco-portal", received_ms=1_767_225_600_000,
                    enterprises={"acme", "hengli", "sunrise"})
    assert [ev.row for _, ev in out.accepted] == [2, 4]
    reasons = {ev.row: ev.reason for _, ev in out.rejected}
    assert set(reasons) == {3, 5, 6, 7}
    assert "month 13" in str(reasons[3])
    assert "kg" in str(reasons[5])   # a mass does not fit a gas volume carrier
    assert "nowhere" in str(reasons[6])
    assert "kgco2e_per_unit" in str(reasons[7])
    digest = hashlib.sha256(CSV).hexdigest()
    evs = [ev for _, ev in out.accepted] + [ev for _, ev in out.rejected]
    assert all(ev.payload_sha256 == digest and ev.channel == "csv" for ev in evs)
    assert len({ev.evidence_id for ev in evs}) == 6   # one record per row, none dropped


def test_bad_header_is_one_rejected_record() -> None:
    out = parse_csv(b"supplier,material\nx,y\n", submitter="s", received_ms=0)
    assert not out.accepted and len(out.rejected) == 1
    assert "missing column" in str(out.rejected[0][1].reason)


def test_api_rows_and_precedence_by_period() -> None:
    rows = [
        {"supplier": "steelco", "enterprise": "sunrise", "material": "tinplate",
         "period": "2026", "uom": "t", "kgco2e_per_unit": 2200, "basis": "annual EPD"},
        {"supplier": "steelco", "enterprise": "sunrise", "material": "tinplate",
         "period": "2026-01", "uom": "t", "kgco2e_per_unit": 2150, "basis": "batch 17"},
        {"supplier": "steelco", "enterprise": "sunrise", "material": "tinplate",
         "period": "2026-02", "uom": "t", "kgco2e_per_unit": 9999, "basis": "batch 18",
         "unexpected": 1},
    ]
    out = validate_rows(rows, channel="api", submitter="steelco", payload=b"{}",
                        received_ms=0)
    assert len(out.accepted) == 2 and len(out.rejected) == 1
    subs = [s for s, _ in out.accepted]
    assert supplier_factor(subs, "sunrise", "tinplate", "2026-01").basis == "batch 17"
    assert supplier_factor(subs, "sunrise", "tinplate", "2026-03").basis == "annual EPD"
    assert supplier_factor(subs, "sunrise", "tinplate", "2025-12") is None
