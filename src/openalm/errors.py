"""Exception and warning hierarchy of OpenALM.

Every error the package raises on purpose derives from :class:`OpenALMError`. Messages say what was
found, what was expected and how to fix it; data errors name the file, row, column and value.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "MarketDataError",
    "ModelError",
    "OpenALMError",
    "OpenALMWarning",
    "ReconciliationError",
    "SchemaError",
]


class OpenALMError(Exception):
    """Root of every error OpenALM raises on purpose."""


class ConfigError(OpenALMError):
    """The configuration file or a setting is invalid."""


class DataError(OpenALMError):
    """Input data cannot be used.

    Parameters
    ----------
    message:
        What is wrong and what was expected.
    file, row, column, value:
        Where the problem is (``row`` is the 1-based data row, header excluded).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class SchemaError(DataError):
    """A table lacks a required column or a column has the wrong type."""


class MarketDataError(DataError):
    """Curves, FX rates or fixings are missing or inconsistent."""


class ReconciliationError(OpenALMError):
    """Positions do not reconcile to the general ledger."""


class ModelError(OpenALMError):
    """A model or engine computation cannot proceed (e.g. a contract the engine cannot project)."""


class OpenALMWarning(UserWarning):
    """Warnings OpenALM emits (also recorded in the run manifest)."""
