"""Charts of a report body as PNG bytes (matplotlib, headless Agg backend): where a reader
wants a picture — emissions by month and scope, the largest sources, energy by carrier."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def monthly(body: dict[str, Any]) -> bytes:
    """Stacked bars of calculated scope 1 and 2 CO₂e per month; CEMS-measured as a line."""
    rows = body["emissions"]["monthly"]
    s1 = [r["scope1_co2e_t"] for r in rows]
    s2 = [r["scope2_co2e_t"] for r in rows]
    measured = [r["measured_co2e_t"] for r in rows]
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    ax.bar(MONTHS, s1, label="Scope 1 (calculated)", color="#4c72b0")
    ax.bar(MONTHS, s2, bottom=s1, label="Scope 2 (calculated)", color="#dd8452")
    if any(measured):
        ax.plot(MONTHS, measured, "k.-", label="CEMS measured CO2 (not added)")
    ax.set_ylabel("t CO2e")
    ax.set_title(f"Emissions by month, {body['period']['year']}")
    ax.legend(fontsize=7)
    return _png(fig)


def sources(body: dict[str, Any], top: int = 12) -> bytes:
    """Horizontal bars of the largest calculated sources."""
    calc = sorted((s for s in body["sources"] if s["method"] == "calculated"),
                  key=lambda s: s["co2e_t"], reverse=True)[:top]  # fmt: skip
    fig, ax = plt.subplots(figsize=(7.0, 0.35 * max(3, len(calc)) + 0.8))
    ax.barh([s["source"] for s in reversed(calc)], [s["co2e_t"] for s in reversed(calc)],
            color="#55a868")  # fmt: skip
    ax.set_xlabel("t CO2e")
    ax.set_title("Largest emission sources (calculated)")
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def energy(body: dict[str, Any]) -> bytes:
    """Bars of energy use in tce by carrier."""
    by: dict[str, float] = defaultdict(float)
    for a in body["activity_data"]:
        by[a["carrier"]] += a["kgce"] / 1000.0
    fig, ax = plt.subplots(figsize=(7.0, 2.8))
    ax.bar(list(by), list(by.values()), color="#8172b3")
    ax.set_ylabel("tce")
    ax.set_title("Energy use by carrier (GB/T 2589 standard coal)")
    ax.tick_params(axis="x", labelsize=7)
    return _png(fig)
