"""The report as an Excel workbook (openpyxl): one sheet per section of the report, plain
tables a verifier can filter and sum, and the monthly chart as an image."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Font

from reports import charts
from reports.tables import cell

SHEETS = (
    "Summary",
    "Boundary",
    "Sources",
    "Activity data",
    "Factors",
    "Emissions by gas",
    "Monthly",
    "Measured vs calculated",
    "Data quality",
    "Recalculations",
)


def _table(ws: Any, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    ws.append(list(columns))
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([cell(r.get(c)) for c in columns])


def write_excel(body: dict[str, Any], path: Path) -> None:
    """Write the workbook with the sheets in ``SHEETS``."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ent, em = body["entity"], body["emissions"]
    for k, v in (
        ("Report", "Annual greenhouse gas emission report"),
        ("Structure", body["standard"]),
        ("Enterprise", f"{ent['id']} {ent.get('name', '')}"),
        ("Industry", ent.get("industry", "")),
        ("Year", body["period"]["year"]),
        ("GWP set", body["settings"]["gwp_set"]),
        ("Revision", body.get("revision", "draft")),
        ("Total CO2e, calculated (t)", em["total_co2e_t"]),
        *((f"Scope {s} CO2e (t)", v) for s, v in sorted(em["by_scope"].items())),
        ("CEMS measured CO2 (t, not added)", body["measured_vs_calculated"]["measured_co2e_t"]),
        ("Energy use (tce)", body["energy"]["total_tce"]),
        ("Corrected total after recalculations (t)", body["corrected_total_co2e_t"]),
    ):
        ws.append([k, v])
    ws.column_dimensions["A"].width = 42
    img = Image(io.BytesIO(charts.monthly(body)))
    ws.add_image(img, "D2")

    _table(wb.create_sheet("Boundary"), body["boundary"]["points"],
           ["point", "carrier", "uom", "use", "unit", "level", "device"])  # fmt: skip
    _table(wb.create_sheet("Sources"), body["sources"],
           ["source", "category", "scope", "method", "factor_id", "co2e_t", "n_records"])  # fmt: skip
    _table(wb.create_sheet("Activity data"), body["activity_data"],
           ["point", "carrier", "uom", "quantity", "kgce", "n_intervals", "first_ms", "last_ms"])  # fmt: skip
    factor_rows = []
    for f in body["factors"]:
        for v in f["versions"] or [{}]:
            prov = v.get("provenance") or {}
            factor_rows.append({"factor_id": f["factor_id"], "version": v.get("version"),
                                "in_force": f["version_in_force"], "values": v.get("values"),
                                "units": v.get("units"), "source": prov.get("source"),
                                "clause": prov.get("clause"), "edition": prov.get("edition"),
                                "status": prov.get("status"), "valid_from": v.get("valid_from"),
                                "valid_to": v.get("valid_to"), "row_hash": v.get("row_hash"),
                                "note": f.get("note")})  # fmt: skip
    _table(wb.create_sheet("Factors"), factor_rows,
           ["factor_id", "version", "in_force", "values", "units", "source", "clause", "edition",
            "status", "valid_from", "valid_to", "row_hash", "note"])  # fmt: skip
    _table(wb.create_sheet("Emissions by gas"),
           [{"method_gas": k, "t": v} for k, v in em["by_gas"].items()], ["method_gas", "t"])  # fmt: skip
    _table(wb.create_sheet("Monthly"), em["monthly"],
           ["month", "scope1_co2e_t", "scope2_co2e_t", "measured_co2e_t"])  # fmt: skip
    _table(wb.create_sheet("Measured vs calculated"), body["measured_vs_calculated"]["stacks"],
           ["stack", "hours", "valid_hours", "substituted_hours", "co2_t"])  # fmt: skip
    _table(wb.create_sheet("Data quality"), body["data_quality"]["points"],
           ["point", "intervals", "coverage", "readings", "readings_not_good", "first_ms", "last_ms"])  # fmt: skip
    _table(wb.create_sheet("Recalculations"), body["recalculations"],
           ["recalc_id", "factor_id", "from_version", "to_version", "n_records", "original_co2e_t",
            "corrected_co2e_t", "actor", "at", "reason", "event_id"])  # fmt: skip
    wb.save(path)
