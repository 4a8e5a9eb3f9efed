"""Errors of the accounting package.

All are ``ConfigError`` (exit code 2): they come from what a user wrote (a carrier id, a unit, a
factor id). The message names the value and what would fit; callers that read a file (the
inventory loader, the park model) add the file and the entry in front of it.
"""

from __future__ import annotations

from nengtan.errors import ConfigError


class AccountingInputError(ConfigError, ValueError):
    """Base class: a value given to the accounting library does not make sense."""


class UnknownUnitError(AccountingInputError):
    """A unit-of-measure string that is not in ``units.yaml``."""


class UnknownCarrierError(AccountingInputError):
    """A carrier id that is not in ``carriers.yaml``."""


class UomMismatchError(AccountingInputError):
    """A unit of measure whose dimension does not fit the carrier (e.g. ``t`` of electricity)."""


class UnknownFactorError(AccountingInputError):
    """A factor id, process material or gas that is not in the factor library."""


class MethodError(AccountingInputError):
    """A use or method that does not apply to the carrier (e.g. exporting diesel)."""
