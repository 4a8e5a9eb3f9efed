"""The report as PDF (reportlab): numbered sections in the order of GB/T 32150 with tables and
charts.

Text with Chinese characters (document names of factor sources) is set in a CJK TrueType font
embedded (subset) in the PDF, so the file reads the same everywhere, verifiers' archives
included: the font file named by ``NENGTAN_REPORT_CJK_FONT``, else the first of ``CJK_FONT_FILES``
present (Debian's WenQuanYi fonts, installed by ``scripts/setup``). Without one, the Adobe CID font
STSong-Light is referenced instead: nothing embedded, and viewers without Adobe's CJK pack show
boxes."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from nengtan.errors import ConfigError
from reports import charts

CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
_FALLBACK_CJK_FONT = "STSong-Light"
_cjk_font_name: str | None = None


def cjk_font() -> str:
    """The registered name of the font Chinese text is set in (see the module docstring)."""
    global _cjk_font_name
    if _cjk_font_name is not None:
        return _cjk_font_name
    wanted = os.environ.get("NENGTAN_REPORT_CJK_FONT")
    if wanted and not Path(wanted).is_file():
        raise ConfigError(f"NENGTAN_REPORT_CJK_FONT={wanted}: no such font file")
    candidates = [wanted] if wanted else [f for f in CJK_FONT_FILES if Path(f).is_file()]
    if candidates:
        pdfmetrics.registerFont(TTFont("NengtanCJK", candidates[0], subfontIndex=0))
        _cjk_font_name = "NengtanCJK"
    else:
        pdfmetrics.registerFont(UnicodeCIDFont(_FALLBACK_CJK_FONT))
        _cjk_font_name = _FALLBACK_CJK_FONT
    return _cjk_font_name


def _styles() -> dict[str, ParagraphStyle]:
    cjk_font()
    base = getSampleStyleSheet()
    return {
        "title": base["Title"],
        "h": base["Heading2"],
        "p": base["BodyText"],
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontSize=7, leading=8.5),
    }


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.1f}"
    return "" if value is None else str(value)


_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def _para(value: Any, style: ParagraphStyle) -> Paragraph:
    s = escape(_text(value).translate(_SUBSCRIPTS))
    if any(ord(ch) > 0x2E7F for ch in s):
        s = f'<font name="{cjk_font()}">{s}</font>'
    return Paragraph(s, style)


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str], style: ParagraphStyle,
           widths: Sequence[float] | None = None) -> Table:  # fmt: skip
    data = [[_para(h, style) for h in header]] + [[_para(c, style) for c in r] for r in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde4ee")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))  # fmt: skip
    return t


def _img(png: bytes, width_mm: float = 170) -> Image:
    img = Image(io.BytesIO(png))
    ratio = img.imageHeight / img.imageWidth
    img.drawWidth = width_mm * mm
    img.drawHeight = width_mm * mm * ratio
    return img


def write_pdf(body: dict[str, Any], path: Path, verification: dict[str, Any] | None = None) -> None:
    """Render the report body (and, when given, the verification summary) to ``path``."""
    st = _styles()
    ent, em, per = body["entity"], body["emissions"], body["period"]
    story: list[Any] = [
        Paragraph(f"Annual greenhouse gas emission report {per['year']}", st["title"]),
        _para(f"{per['year']} 年度温室气体排放报告", st["title"]),
        _para(f"{ent['id']} {ent.get('name', '')} — structure of {body['standard']}; revision "
              f"{body.get('revision', 'draft')}; generated "
              f"{datetime.fromtimestamp(body['generated_ms'] / 1000, UTC):%Y-%m-%d %H:%M} UTC", st["p"]),
        Spacer(1, 4 * mm),
        Paragraph("1 Reporting entity", st["h"]),
        _table([[ent["id"], ent.get("name", ""), ent.get("industry", ""), ent.get("region", ""),
                 ent.get("park", "")]], ["id", "name", "industry", "region", "park"], st["cell"]),
        Paragraph("2 Reporting period and boundary", st["h"]),
        _para(f"Calendar year {per['year']} ({per['time_zone']}). {body['boundary']['description']}. "
              f"Units: {', '.join(u['id'] for u in body['boundary']['units']) or 'not given'}. "
              f"CEMS stacks: {', '.join(body['boundary']['stacks']) or 'none'}.", st["p"]),
        _table([[p["point"], p["carrier"], p["uom"], p["use"], p["unit"], p["level"]]
                for p in body["boundary"]["points"]],
               ["point", "carrier", "uom", "use", "unit", "level"], st["cell"]),
        Paragraph("3 Emission sources", st["h"]),
        _table([[s["source"], s["category"], s["scope"], s["method"], s["factor_id"], s["n_records"]]
                for s in body["sources"]],
               ["source", "category", "scope", "method", "factor", "records"], st["cell"]),
        Paragraph("4 Activity data", st["h"]),
        _table([[a["point"], a["carrier"], a["quantity"], a["uom"], a["kgce"] / 1000.0]
                for a in body["activity_data"]],
               ["point", "carrier", "quantity", "uom", "tce"], st["cell"]),
        _img(charts.energy(body)),
        Paragraph("5 Emission factors and their sources", st["h"]),
    ]
    frows = []
    for f in body["factors"]:
        vs = f["versions"]
        if not vs:
            frows.append([f["factor_id"], "", "", f.get("note", ""), ""])
        for v in vs:
            prov = v.get("provenance") or {}
            frows.append([f["factor_id"], v["version"], v["values"],
                          f"{prov.get('source', '')} {prov.get('clause') or ''}", prov.get("status", "")])  # fmt: skip
    story += [
        _table(frows, ["factor", "version", "values", "source", "status"], st["cell"],
               [45 * mm, 14 * mm, 35 * mm, 60 * mm, 20 * mm]),
        _para(f"GWP set: {body['settings']['gwp_set']}; grid factor series "
              f"{body['settings']['grid_series']} ({body['settings']['grid_variant']}).", st["p"]),
        Paragraph("6 Emissions", st["h"]),
        _table([["Total (calculated)", em["total_co2e_t"]],
                *([f"Scope {k}", v] for k, v in sorted(em["by_scope"].items())),
                *([f"Category {k}", v] for k, v in sorted(em["by_category"].items())),
                *([f"Gas {k}", v] for k, v in sorted(em["by_gas"].items()))],
               ["item", "t CO2e"], st["cell"], [90 * mm, 50 * mm]),
        _img(charts.monthly(body)),
        _table([[s["source"], s["scope"], s["method"], s["co2e_t"]] for s in body["sources"]],
               ["source", "scope", "method", "t CO2e"], st["cell"]),
        _img(charts.sources(body)),
        Paragraph("7 Measured versus calculated", st["h"]),
        _para(f"{body['measured_vs_calculated']['note']}. Measured: "
              f"{_text(body['measured_vs_calculated']['measured_co2e_t'])} t; calculated fuel "
              f"combustion: {_text(body['measured_vs_calculated']['calculated_fuel_combustion_co2e_t'])} t.",
              st["p"]),
        _table([[c["stack"], c["hours"], c["valid_hours"], c["substituted_hours"], c["co2_t"]]
                for c in body["measured_vs_calculated"]["stacks"]],
               ["stack", "hours", "valid", "substituted", "CO2 t"], st["cell"]),
        Paragraph("8 Data quality", st["h"]),
        _para(f"{body['data_quality']['data_source_priority']}. Emission records sealed in the "
              f"evidence ledger: {body['data_quality']['emission_records_sealed']} of "
              f"{body['data_quality']['emission_records']}.", st["p"]),
        _table([[q["point"], q["intervals"], f"{q['coverage']:.1%}", q["readings"], q["readings_not_good"]]
                for q in body["data_quality"]["points"]],
               ["point", "minutes", "coverage", "readings", "not good"], st["cell"]),
        Paragraph("9 Recalculations and revisions", st["h"]),
        _table([[r["factor_id"], f"v{r['from_version']}→v{r['to_version']}", r["original_co2e_t"],
                 r["corrected_co2e_t"], r["actor"], r["reason"]] for r in body["recalculations"]],
               ["factor", "versions", "original t", "corrected t", "by", "why"], st["cell"]),
        _para(f"Corrected total after recalculations: {_text(body['corrected_total_co2e_t'])} t CO2e. "
              "Issued revisions are frozen; a correction is a new revision.", st["p"]),
    ]
    if verification is not None:
        story += [
            Paragraph("10 Evidence verification", st["h"]),
            _para(f"Result: {'OK' if verification['ok'] else 'FAILED'}; checked "
                  + ", ".join(f"{k} {v}" for k, v in verification["counts"].items())
                  + (f"; first broken link: {verification['first_broken_link']}"
                     if verification["first_broken_link"] else ""), st["p"]),
        ]
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                      topMargin=16 * mm, bottomMargin=16 * mm,
                      title=f"GHG report {ent['id']} {per['year']}").build(story)  # fmt: skip
