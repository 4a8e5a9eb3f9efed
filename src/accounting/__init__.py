"""Pure accounting domain: units, GB/T 2589 energy conversion, the emission-factor library with
provenance, calculation methods, inventories, intensity, decoupling and STIRPAT. No I/O besides
reading this package's own versioned data files.

Entry points: ``accounting.units`` (convert, check_uom), ``accounting.carriers`` (get_carrier),
``accounting.factors`` (default_library), ``accounting.resolve`` (resolve), ``accounting.vector``
(build_table, for the stream processors), ``accounting.cems`` (measured method) and
``accounting.inventory`` / ``accounting.loader`` (inventories). See ``docs/accounting.md``.
"""

from accounting.carriers import get_carrier
from accounting.settings import AccountingSettings
from accounting.units import check_uom, convert

__all__ = ["AccountingSettings", "check_uom", "convert", "get_carrier"]
