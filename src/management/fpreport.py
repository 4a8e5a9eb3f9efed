"""The footprint report: a product's cradle-to-gate footprint as a Markdown document that states
its method, boundary, declared unit, every line's factor and source, the green-certificate
adjustment and the figures whose provenance is unconfirmed (GB/T 24067 asks for transparency)."""

from __future__ import annotations

from accounting.settings import AccountingSettings
from management.footprint import Footprint


def _fmt(x: float, digits: int = 4) -> str:
    return f"{x:,.{digits}f}"


def render_markdown(fp: Footprint, settings: AccountingSettings | None = None) -> str:
    """The report text (deterministic for the same footprint)."""
    settings = settings or AccountingSettings()
    g = fp.green
    lines = [
        f"# Product carbon footprint: {fp.product} ({fp.enterprise}), {fp.period}",
        "",
        "Method: GB/T 24067, cradle to gate. Declared unit: "
        f"{fp.declared_unit}. Output of the period: {_fmt(fp.output, 3)} ({fp.output_basis}).",
        f"GWP set of the accounting settings: {settings.gwp_set}.",
        "",
        f"**Footprint: {_fmt(fp.kgco2e)} kgCO2e per {fp.declared_unit}** "
        f"(grid electricity only: {_fmt(fp.grid_only_kgco2e)}; difference "
        f"{_fmt(fp.green_delta_kgco2e)}).",
        "",
        "| kind | item | quantity | uom | kgCO2e/unit | kgCO2e | basis |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for ln in fp.lines:
        lines.append(f"| {ln.kind} | {ln.item} | {_fmt(ln.quantity)} | {ln.uom} | "
                     f"{_fmt(ln.kgco2e_per_unit, 6)} | {_fmt(ln.kgco2e)} | {ln.basis} |")
    lines += ["", "## Green-electricity certificates", ""]
    if g.certificates_mwh:
        lines.append(
            f"{_fmt(g.certificates_mwh, 3)} MWh ({g.technology}) against "
            f"{_fmt(g.purchased_mwh, 3)} MWh purchased: share g = {_fmt(g.share, 6)}. Purchased "
            f"electricity at (1 − g) × {g.ef_grid_kg_per_kwh} ({g.grid_factor_id}) + g × "
            f"{g.ef_green_kg_per_kwh} ({g.green_factor_id}) kgCO2e/kWh; "
            "difference to grid only = − e_el × g × (EF_grid − EF_tech).")
    else:
        lines.append(f"None for this period; purchased electricity at {g.ef_grid_kg_per_kwh} "
                     f"kgCO2e/kWh ({g.grid_factor_id}).")
    unconfirmed = [ln.item for ln in fp.lines if ln.status == "unconfirmed"]
    lines += ["", "## Data quality", ""]
    lines.append("Supplier-provided figures: " + (", ".join(
        ln.item for ln in fp.lines if ln.status == "supplier") or "none") + ".")
    lines.append("Unconfirmed library figures: " + (", ".join(unconfirmed) or "none") + ".")
    lines += [f"Note: {n}." for n in fp.notes]
    return "\n".join(lines) + "\n"
