"""Accounting settings: which factor versions and methods a calculation uses.

A report states the settings it ran with (``AccountingSettings.model_dump()``), so the same
activity data always gives the same, explainable numbers. Defaults are documented per field and
in ``docs/accounting.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GwpSet = Literal["SAR", "AR4", "AR5", "AR6"]
GridSeries = Literal["carbon_market", "statistical"]
GridVariant = Literal["location", "excl_market_nonfossil", "fossil"]


class AccountingSettings(BaseModel):
    """Choices between factor versions and methods; every field has a documented default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gwp_set: GwpSet = Field(
        "AR5", description="GWP100 set for non-CO2 gases (SAR, AR4, AR5, AR6)"
    )
    fuel_sets: tuple[str, ...] = Field(
        ("setA", "stoich", "ipcc2006"),
        description="fuel-parameter sets in order of preference (fuels.yaml 'sets')",
    )
    grid_series: GridSeries = Field(
        "statistical",
        description="statistical: MEE/NBS national and regional factors; carbon_market: the "
        "national factor published for carbon-market reporting",
    )
    grid_variant: GridVariant = Field(
        "location", description="location-based, excluding market-traded non-fossil, or fossil"
    )
    grid_year: int | None = Field(
        None, description="factor year; None: the activity's year (latest published not after it)"
    )
    grid_region: str | None = Field(
        None,
        description="force a grid region or province for every activity; None: the "
        "enterprise's own region/province (national when unknown)",
    )
    electricity_method: Literal["location", "market"] = Field(
        "location",
        description="market: green-certificate electricity at 0 and the rest at the "
        "'excluding market-traded non-fossil' residual factor",
    )
    electricity_kgce_method: Literal["equivalent", "equal_value"] = Field(
        "equivalent",
        description="equivalent (当量值, 0.1229 kgce/kWh) or equal value (等价值, the year's "
        "thermal-power supply coal rate)",
    )
    equal_value_coal_rate_kgce_per_kwh: float | None = Field(
        None, gt=0,
        description="coal rate for the equal-value method; None: the coal_rate series "
        "(electricity.yaml) for the activity year",
    )
    heat_factor_id: str = Field("heat.default.mee", description="purchased/exported heat factor")
    kgce_versions: dict[str, str] = Field(
        default_factory=dict,
        description="carrier -> standard-coal coefficient id, where not the first version "
        "(e.g. {'water': 'kgce.water.gbt2589-2020'})",
    )
