"""IRRBB standardised interest rate shocks (BCBS d368 Annex 2; China 1104 G33).

Shock sizes are data: dated, versioned parameter sets shipped as YAML files in
``openalm/rules/irrbb/`` (:meth:`ShockSet.load`) or supplied by the user
(:meth:`ShockSet.from_yaml`). :func:`basel_shock` turns a currency's sizes into the
:class:`~openalm.market.curves.Shock` of one of the six standard scenarios (regulatory.md 3.1),
with ``S_short(t) = exp(-t/x)``, ``S_long(t) = 1 - exp(-t/x)``, ``x = 4``:

=============  =======================================================  ==============================
scenario       shock at t                                               ``Shock(parallel, short, long)``
=============  =======================================================  ==============================
parallel_up    ``+Rp``                                                  ``(Rp, 0, 0)``
parallel_down  ``-Rp``                                                  ``(-Rp, 0, 0)``
steepener      ``-0.65 Rs S_short(t) + 0.9 Rl S_long(t)``               ``(0, -0.65 Rs, 0.9 Rl)``
flattener      ``+0.8 Rs S_short(t) - 0.6 Rl S_long(t)``                ``(0, 0.8 Rs, -0.6 Rl)``
short_up       ``+Rs S_short(t)``                                       ``(0, Rs, 0)``
short_down     ``-Rs S_short(t)``                                       ``(0, -Rs, 0)``
=============  =======================================================  ==============================

The set's floor of the currency (China: 0% for CNY, 币种为人民币的不考虑负利率情况) applies to the
shocked rate of every scenario except ``base``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from openalm.errors import ConfigError
from openalm.market.curves import Shock
from openalm.rules import irrbb as _irrbb_files

__all__ = [
    "RULE_SET_SHOCKS",
    "SCENARIOS",
    "ShockSet",
    "ShockSizes",
    "basel_shock",
    "basel_shocks",
]

#: The standard scenario names, in reporting order (interfaces.md).
SCENARIOS: tuple[str, ...] = (
    "base",
    "parallel_up",
    "parallel_down",
    "steepener",
    "flattener",
    "short_up",
    "short_down",
)

#: Shipped shock set used by each ``rule_set`` of the config.
RULE_SET_SHOCKS: Mapping[str, str] = MappingProxyType({"china": "cn_g33_2024", "basel": "bcbs_d368_2016"})

_TOP_KEYS = ("id", "version", "effective_from", "source", "unit", "x", "floors", "currencies")
_REQUIRED = ("id", "version", "effective_from", "source", "x", "floors", "currencies")
_SIZE_KEYS = ("parallel", "short", "long")


@dataclass(frozen=True, slots=True)
class ShockSizes:
    """Shock sizes of one currency in basis points, with the source they come from."""

    parallel: float
    short: float
    long: float
    source: str = ""


@dataclass(frozen=True, slots=True)
class ShockSet:
    """A dated, versioned set of IRRBB shock sizes by currency.

    Attributes
    ----------
    id, version, effective_from, source:
        Identity and provenance of the set.
    x:
        Decay parameter of the short/long shapes, years (4 in d368).
    floors:
        Floor of the shocked zero rate per currency, decimal (China: ``{"CNY": 0.0}``).
    sizes:
        :class:`ShockSizes` (bp) per ISO currency code.
    origin:
        Where the set was read from (shipped name or file path).
    """

    id: str
    version: str
    effective_from: dt.date
    source: str
    x: float
    floors: Mapping[str, float]
    sizes: Mapping[str, ShockSizes]
    origin: str = ""

    # -- loading --------------------------------------------------------------------------------

    @staticmethod
    def shipped() -> tuple[str, ...]:
        """Names of the sets shipped in ``openalm/rules/irrbb`` (file stems)."""
        return _irrbb_files.shipped_names()

    @classmethod
    def load(cls, name: str) -> ShockSet:
        """Load a shipped set by file stem or ``id`` (``"bcbs_d368_2016"``, ``"cn_g33_2024"``) or by
        rule set (``"basel"``, ``"china"``, see :data:`RULE_SET_SHOCKS`)."""
        stem = RULE_SET_SHOCKS.get(name, name)
        try:
            text = _irrbb_files.read_text(stem)
        except FileNotFoundError:
            raise ConfigError(
                f"unknown IRRBB shock set {name!r}; shipped sets: {list(cls.shipped())}, "
                f"rule sets: {sorted(RULE_SET_SHOCKS)}; or give a YAML file path (ShockSet.from_yaml)"
            ) from None
        return cls.from_text(text, origin=f"openalm/rules/irrbb/{stem}.yaml")

    @classmethod
    def from_yaml(cls, path: str | Path) -> ShockSet:
        """Load a user-supplied set from a YAML file of the same layout as the shipped ones."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot read IRRBB shock set file {str(p)!r}: {err}") from err
        return cls.from_text(text, origin=str(p))

    @classmethod
    def from_text(cls, text: str, *, origin: str = "<text>") -> ShockSet:
        """Parse and validate the YAML text of a shock set."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{origin}: not valid YAML: {err}") from err
        return cls.from_dict(data, origin=origin)

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "<dict>") -> ShockSet:
        """Validate a parsed shock set; every problem is reported in one :class:`ConfigError`."""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise ConfigError(f"{origin}: a shock set must be a mapping with keys {list(_REQUIRED)}")
        for key in data:
            if key not in _TOP_KEYS:
                problems.append(f"unknown key {key!r} (allowed: {list(_TOP_KEYS)})")
        for key in _REQUIRED:
            if key not in data:
                problems.append(f"missing key {key!r}")
        unit = data.get("unit", "bp")
        if unit != "bp":
            problems.append(f"unit must be 'bp' (shock sizes in basis points); got {unit!r}")

        set_id = _text(data, "id", problems)
        version = _text(data, "version", problems)
        source = _text(data, "source", problems)
        effective = _date(data, problems)
        x = _number(data.get("x", 4.0), "x", problems)
        if x is not None and x <= 0:
            problems.append(f"x must be > 0 (years); got {x!r}")

        floors: dict[str, float] = {}
        raw_floors = data.get("floors") or {}
        if not isinstance(raw_floors, Mapping):
            problems.append(f"floors must be a mapping currency -> decimal rate; got {raw_floors!r}")
            raw_floors = {}
        for ccy, value in raw_floors.items():
            code = _currency(ccy, "floors", problems)
            fl = _number(value, f"floors.{ccy}", problems)
            if fl is not None and abs(fl) >= 1.0:
                problems.append(
                    f"floors.{ccy} = {value!r} looks like basis points or percent; floors are decimal "
                    "rates (0.0 = 0%, -0.005 = -50 bp)"
                )
            elif code is not None and fl is not None:
                floors[code] = fl

        sizes: dict[str, ShockSizes] = {}
        raw_ccys = data.get("currencies")
        if "currencies" in data and (not isinstance(raw_ccys, Mapping) or not raw_ccys):
            problems.append("currencies must be a non-empty mapping CCY -> {parallel, short, long}")
            raw_ccys = {}
        for ccy, entry in (raw_ccys or {}).items():
            code = _currency(ccy, "currencies", problems)
            parsed = _sizes(ccy, entry, problems)
            if code is not None and parsed is not None:
                sizes[code] = parsed

        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise ConfigError(f"invalid IRRBB shock set {origin}: {len(problems)} problem(s):\n{listing}")
        assert set_id is not None and version is not None and source is not None
        assert effective is not None and x is not None
        return cls(
            id=set_id,
            version=version,
            effective_from=effective,
            source=source,
            x=x,
            floors=MappingProxyType(floors),
            sizes=MappingProxyType(sizes),
            origin=origin,
        )

    # -- queries --------------------------------------------------------------------------------

    @property
    def currencies(self) -> tuple[str, ...]:
        """Currencies with shock sizes, in file order."""
        return tuple(self.sizes)

    def sizes_of(self, currency: str) -> ShockSizes:
        """Shock sizes (bp) of ``currency``; :class:`ConfigError` naming the set when absent."""
        try:
            return self.sizes[currency]
        except KeyError:
            raise ConfigError(
                f"IRRBB shock set {self.id!r} ({self.origin}) has no shock sizes for currency "
                f"{currency!r}; it covers {sorted(self.sizes)}. Supply the sizes in the config "
                f"(parallel, short, long in bp) or use another set"
            ) from None

    def floor(self, currency: str) -> float | None:
        """Floor of the shocked zero rate of ``currency`` (decimal), or None."""
        return self.floors.get(currency)

    def with_sizes(
        self,
        sizes: Mapping[str, Mapping[str, float]],
        floors: Mapping[str, float | None] | None = None,
    ) -> ShockSet:
        """A new set with sizes (bp) added or replaced per currency, and floors changed
        (``None`` removes a floor). The version gets a ``+override`` suffix."""
        new_sizes = dict(self.sizes)
        problems: list[str] = []
        for ccy, entry in sizes.items():
            parsed = _sizes(ccy, {**entry, "source": "config override"}, problems)
            code = _currency(ccy, "sizes", problems)
            if parsed is not None and code is not None:
                new_sizes[code] = parsed
        new_floors = dict(self.floors)
        for ccy, value in (floors or {}).items():
            if value is None:
                new_floors.pop(ccy, None)
                continue
            fl = _number(value, f"floors.{ccy}", problems)
            if fl is not None:
                new_floors[ccy] = fl
        if problems:
            raise ConfigError(f"invalid shock size override for set {self.id!r}: " + "; ".join(problems))
        return replace(
            self,
            version=self.version if self.version.endswith("+override") else self.version + "+override",
            sizes=MappingProxyType(new_sizes),
            floors=MappingProxyType(new_floors),
        )


def basel_shock(shock_set: ShockSet, currency: str, scenario: str) -> Shock:
    """The :class:`Shock` of a standard scenario for ``currency`` (regulatory.md 3.1).

    Sizes ``Rp, Rs, Rl`` come from ``shock_set`` in bp (converted to decimals); ``x`` and the
    currency's floor from the set. ``base`` is the zero shock without floor.

    Examples
    --------
    >>> s = basel_shock(ShockSet.load("bcbs_d368_2016"), "CNY", "steepener")
    >>> (s.parallel, s.short, s.long)
    (0.0, -0.0195, 0.0135)
    """
    if scenario not in SCENARIOS:
        raise ConfigError(
            f"unknown standard IRRBB scenario {scenario!r}; expected one of {list(SCENARIOS)} "
            "(user-defined scenarios are built as Shock objects)"
        )
    if scenario == "base":
        return Shock.none()
    sz = shock_set.sizes_of(currency)
    rp, rs, rl = sz.parallel / 10_000.0, sz.short / 10_000.0, sz.long / 10_000.0
    params = {
        "parallel_up": (rp, 0.0, 0.0),
        "parallel_down": (-rp, 0.0, 0.0),
        "steepener": (0.0, -0.65 * rs, 0.9 * rl),
        "flattener": (0.0, 0.8 * rs, -0.6 * rl),
        "short_up": (0.0, rs, 0.0),
        "short_down": (0.0, -rs, 0.0),
    }[scenario]
    return Shock(*params, x=shock_set.x, floor=shock_set.floor(currency))


def basel_shocks(shock_set: ShockSet, currency: str) -> dict[str, Shock]:
    """All :data:`SCENARIOS` for ``currency``: ``{scenario: Shock}`` in reporting order."""
    return {name: basel_shock(shock_set, currency, name) for name in SCENARIOS}


# -- validation helpers ---------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, problems: list[str]) -> str | None:
    if key not in data:
        return None  # reported as missing
    value = data[key]
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float) or str(value).strip() == "":
        problems.append(f"{key} must be a non-empty text; got {value!r}")
        return None
    return str(value).strip()


def _date(data: Mapping[str, Any], problems: list[str]) -> dt.date | None:
    if "effective_from" not in data:
        return None  # reported as missing
    value = data["effective_from"]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"effective_from must be a date YYYY-MM-DD; got {value!r}")
        return None


def _number(value: Any, key: str, problems: list[str]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{key} must be a finite number; got {value!r}")
        return None
    return float(value)


def _currency(code: Any, key: str, problems: list[str]) -> str | None:
    if not isinstance(code, str) or len(code) != 3 or not code.isalpha() or not code.isupper():
        problems.append(f"{key}: {code!r} is not an ISO currency code (three capital letters, e.g. CNY)")
        return None
    return code


def _sizes(ccy: Any, entry: Any, problems: list[str]) -> ShockSizes | None:
    if not isinstance(entry, Mapping):
        problems.append(f"currencies.{ccy} must be a mapping {{parallel, short, long}} in bp; got {entry!r}")
        return None
    n_before = len(problems)
    for key in entry:
        if key not in (*_SIZE_KEYS, "source"):
            problems.append(f"currencies.{ccy}: unknown key {key!r} (allowed: parallel, short, long, source)")
    values: dict[str, float] = {}
    for key in _SIZE_KEYS:
        if key not in entry:
            problems.append(f"currencies.{ccy}: missing {key!r} (bp)")
            continue
        v = _number(entry[key], f"currencies.{ccy}.{key}", problems)
        if v is None:
            continue
        if v < 0:
            problems.append(
                f"currencies.{ccy}.{key} = {v!r}: shock sizes are magnitudes (>= 0 bp); the scenario gives the sign"
            )
        elif 0 < v < 1:
            problems.append(
                f"currencies.{ccy}.{key} = {v!r} looks like a decimal rate; sizes are in basis points (250 = 2.5%)"
            )
        values[key] = v
    src = entry.get("source", "")
    if len(problems) > n_before:
        return None
    return ShockSizes(values["parallel"], values["short"], values["long"], str(src or ""))
