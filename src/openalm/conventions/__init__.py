"""OpenALM conventions: dates as day numbers, tenors, day counts, calendars, business days.

Dates inside the engine are ``int32`` day numbers (days since 1970-01-01, numpy's
``datetime64[D]`` integer); a missing date is :data:`NO_DATE`. Conventions are ``IntEnum`` codes
parsed from text only at the edge (:meth:`DayCount.parse`, :meth:`Tenor.parse`,
:meth:`BusinessDayConvention.parse`, :meth:`Calendar.from_code`). The scalar functions
(``add_months``, ``year_fraction``, ``adjust_day``...) are numba-compiled and callable from other
``@njit`` code; the rest work on whole arrays.
"""

from __future__ import annotations

from openalm.conventions.business_day import (
    BusinessDayConvention,
    adjust_day,
    advance_day,
    business_day_count,
    is_business_day_at,
    next_business_day,
    parse_business_day_conventions,
    previous_business_day,
)
from openalm.conventions.calendars import CALENDAR_CODES, Calendar, adjust
from openalm.conventions.dates import (
    NO_DATE,
    add_days,
    add_months,
    add_months_array,
    add_tenor,
    civil_from_days,
    days_from_civil,
    days_in_month,
    from_day,
    from_days,
    is_leap,
    is_month_end,
    to_day,
    to_days,
    weekday,
)
from openalm.conventions.daycount import DayCount, parse_day_counts, year_fraction, year_fractions
from openalm.conventions.tenor import MISSING_UNIT, Tenor, TenorUnit, frequency_from_fire, parse_tenors

__all__ = [
    "CALENDAR_CODES",
    "MISSING_UNIT",
    "NO_DATE",
    "BusinessDayConvention",
    "Calendar",
    "DayCount",
    "Tenor",
    "TenorUnit",
    "add_days",
    "add_months",
    "add_months_array",
    "add_tenor",
    "adjust",
    "adjust_day",
    "advance_day",
    "business_day_count",
    "civil_from_days",
    "days_from_civil",
    "days_in_month",
    "frequency_from_fire",
    "from_day",
    "from_days",
    "is_business_day_at",
    "is_leap",
    "is_month_end",
    "next_business_day",
    "parse_business_day_conventions",
    "parse_day_counts",
    "parse_tenors",
    "previous_business_day",
    "to_day",
    "to_days",
    "weekday",
    "year_fraction",
    "year_fractions",
]
