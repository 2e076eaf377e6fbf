"""Index fixings: latest on or before a date, vectorised look-up, numba packed look-up."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from openalm.errors import MarketDataError
from openalm.market import Fixings
from openalm.market._kernel import latest_fixing_packed
from openalm.market.fixings import NO_DATE


def day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def fixings() -> Fixings:
    return Fixings.from_table(
        pa.table(
            {
                "index_code": ["LPR1Y", "SHIBOR3M", "LPR1Y", "LPR1Y", "SHIBOR3M"],
                "fixing_date": [
                    dt.date(2024, 2, 20),
                    dt.date(2024, 1, 2),
                    dt.date(2023, 12, 20),
                    dt.date(2024, 1, 22),
                    dt.date(2024, 1, 3),
                ],
                "value": [0.0345, 0.0255, 0.0345, 0.0345, 0.0254],
            }
        )
    )


def test_latest() -> None:
    f = fixings()
    assert f.index_codes == ("LPR1Y", "SHIBOR3M")
    assert f.latest("LPR1Y", dt.date(2024, 1, 21)) == (dt.date(2023, 12, 20), 0.0345)
    assert f.latest("LPR1Y", dt.date(2024, 1, 22)) == (dt.date(2024, 1, 22), 0.0345)
    assert f.latest("SHIBOR3M", day(dt.date(2024, 6, 1))) == (dt.date(2024, 1, 3), 0.0254)
    assert f.latest("SHIBOR3M", dt.date(2024, 1, 1)) is None
    assert f.latest("UNKNOWN", dt.date(2024, 1, 1)) is None


def test_lookup_vectorised_and_packed_agree() -> None:
    f = fixings()
    codes = np.array(["LPR1Y", "SHIBOR3M", "LPR1Y", "NOPE", "SHIBOR3M"], dtype=object)
    days = np.array(
        [
            day(dt.date(2024, 3, 1)),
            day(dt.date(2024, 1, 2)),
            day(dt.date(2023, 1, 1)),
            0,
            day(dt.date(2024, 1, 5)),
        ]
    )
    got_days, got_values = f.lookup(codes, days)
    assert got_days.dtype == np.int32
    assert got_days.tolist() == [
        day(dt.date(2024, 2, 20)),
        day(dt.date(2024, 1, 2)),
        NO_DATE,
        NO_DATE,
        day(dt.date(2024, 1, 3)),
    ]
    assert np.isnan(got_values[2]) and np.isnan(got_values[3])
    assert got_values[[0, 1, 4]].tolist() == [0.0345, 0.0255, 0.0254]
    names, offsets, pdays, pvalues = f.packed()
    for code, d, want_day, want_value in zip(codes, days, got_days, got_values, strict=True):
        idx = f.index_position(code)
        if idx < 0:
            continue
        fd, fv = latest_fixing_packed(offsets, pdays, pvalues, idx, int(d))
        assert fd == want_day
        assert (np.isnan(fv) and np.isnan(want_value)) or fv == want_value
    assert names == f.index_codes


def test_errors() -> None:
    with pytest.raises(MarketDataError) as info:
        Fixings.from_table(
            {
                "index_code": ["LPR1Y", "LPR1Y", None, "LPR1Y"],
                "fixing_date": ["2024-01-22", "2024-01-22", "2024-01-23", "22/02/2024"],
                "value": [0.0345, 0.0350, 0.03, "x"],
            }
        )
    text = str(info.value)
    assert "row 2, column 'fixing_date'" in text and "first on row 1" in text
    assert "row 3, column 'index_code'" in text
    assert "row 4, column 'fixing_date', value '22/02/2024'" in text
    assert "row 4, column 'value', value 'x'" in text


def test_immutable_and_empty() -> None:
    f = fixings()
    with pytest.raises(ValueError):
        f.values[0] = 1.0
    e = Fixings.empty()
    assert e.latest("LPR1Y", 0) is None
    d, v = e.lookup(["LPR1Y"], [0])
    assert d.tolist() == [NO_DATE] and np.isnan(v[0])
