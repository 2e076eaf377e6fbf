"""ISO 4217 currency codes and their minor-unit exponents (positions.md 2.1 and 2.3).

The list is ISO 4217's active codes (list one, 2025 edition), plus ``CNH`` (offshore renminbi,
a market convention positions.md accepts) and the precious metals and SDR, which have no minor
unit. FIRE and other sources send amounts in minor units: divide by ``10 ** minor_units(ccy)``.

Examples
--------
>>> minor_units("JPY"), minor_units("KWD"), minor_units("CNY")
(0, 3, 2)
>>> is_currency("RMB")
False
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = ["CURRENCIES", "MINOR_UNITS", "is_currency", "minor_units"]

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD "
    "CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
    "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD "
    "TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL CNH"
)
#: Codes without a minor unit (precious metals, SDR): amounts are never in minor units.
_NONE = "XAU XAG XPT XPD XDR"

MINOR_UNITS: Final = MappingProxyType(
    {
        **dict.fromkeys(_TWO.split(), 2),
        **dict.fromkeys(_ZERO.split(), 0),
        **dict.fromkeys(_THREE.split(), 3),
        **dict.fromkeys(_FOUR.split(), 4),
        **dict.fromkeys(_NONE.split(), 0),
    }
)
#: Every accepted currency code.
CURRENCIES: Final = frozenset(MINOR_UNITS)


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code (or CNH)."""
    return code in CURRENCIES


def minor_units(code: str) -> int:
    """Minor-unit exponent of a currency (KeyError for an unknown code)."""
    return MINOR_UNITS[code]
