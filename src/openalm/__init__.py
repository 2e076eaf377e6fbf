"""OpenALM: open-source asset/liability management for commercial banks."""

from __future__ import annotations

from openalm.errors import (
    ConfigError,
    DataError,
    MarketDataError,
    ModelError,
    OpenALMError,
    OpenALMWarning,
    SchemaError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "MarketDataError",
    "ModelError",
    "OpenALMError",
    "OpenALMWarning",
    "SchemaError",
    "__version__",
]
