"""Liquidity stress tests: hand-computed ladders, survival, stressed LCR, reverse stress, templates."""

from __future__ import annotations

import polars as pl
import pytest

from openalm.errors import ConfigError, DataError, SchemaError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.stress import (
    CbcClass,
    DowngradeOutflow,
    DrawdownRule,
    MarketClosure,
    RolloverRule,
    RunoffRule,
    StressScenario,
    StressSettings,
    load_stress_templates,
    reverse_stress,
    run_stress,
    run_stress_suite,
)

H = 40  # horizon of the hand-computed cases


def _daily(rows: list[tuple]) -> pl.DataFrame:
    cols = ["currency", "side", "instrument_type", "cp_class", "performing", "day", "principal", "interest"]
    return pl.DataFrame(
        [dict(zip(cols, r, strict=True)) for r in rows],
        schema={
            "currency": pl.String,
            "side": pl.String,
            "instrument_type": pl.String,
            "cp_class": pl.String,
            "performing": pl.Boolean,
            "day": pl.Int32,
            "principal": pl.Float64,
            "interest": pl.Float64,
        },
    )


def _cbc_classes() -> list[CbcClass]:
    return [
        CbcClass(code="l1", label_zh="一级", label_en="L1", hqla_level="level_1", haircut=0.0, first_day=1, last_day=1),
        CbcClass(
            code="l2a", label_zh="2A", label_en="L2A", hqla_level="level_2a", haircut=0.15, first_day=2, last_day=3
        ),
    ]


def _scenario(**kw: object) -> StressScenario:
    base: dict[str, object] = {
        "name": "hand",
        "label_zh": "手算",
        "label_en": "Hand",
        "runoff": [RunoffRule(code="all", rate=0.4)],
        "funding_rollover": [RolloverRule(code="all", rate=0.5)],
        "asset_rollover": [RolloverRule(code="all", rate=0.2)],
        "cbc": _cbc_classes(),
    }
    base.update(kw)
    return StressScenario.model_validate(base)


def _book() -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    frame = frame_from_records(
        [
            {
                "instrument_type": "deposit_demand",
                "side": "liability",
                "counterparty_type": "retail_individual",
                "balance": 1000.0,
            },
            {"instrument_type": "cash", "side": "asset", "balance": 100.0},
            {
                "instrument_type": "debt_security",
                "product_subtype": "local_government_bond",
                "side": "asset",
                "balance": 200.0,
                "maturity_days": 400,
            },
        ]
    )
    daily = _daily(
        [
            ("CNY", "liability", "deposit_term", "corporate", True, 5, 300.0, 2.0),
            ("CNY", "asset", "loan", "retail", True, 10, 50.0, 0.0),
            ("CNY", "asset", "loan", "retail", False, 3, 1000.0, 0.0),  # non-performing: no inflow
        ]
    )
    return frame, daily, pl.Series(["non_hqla", "level_1", "level_2a"])


def _all(result: object) -> pl.DataFrame:
    return result.ladder.filter(pl.col("currency") == "ALL").sort("day")  # type: ignore[attr-defined]


def test_hand_computed_ladder_and_survival() -> None:
    # By hand (H = 40): run-off 1000 x 40% evenly = 10/day; CBC day 1: cash 100, days 2-3: 200 x 0.85 / 2 = 85;
    # day 5: 300 x (1 - 0.5) + 2 = 152 out; day 10: 50 x (1 - 0.2) = 40 in. Cumulative with CBC:
    # 90, 165, 240, 230, 68, 58, 48, 38, 28, 58, 48, 38, 28, 18, 8, -2 -> survival day 16.
    frame, daily, levels = _book()
    res = run_stress(frame, daily, _scenario(), hqla_level=levels, horizon_days=H)
    lad = _all(res)
    assert lad.height == H
    assert lad["cbc"].to_list()[:4] == pytest.approx([100.0, 85.0, 85.0, 0.0])
    assert lad["runoff"].to_list() == pytest.approx([10.0] * H)
    assert lad["outflow"][4] == pytest.approx(152.0)
    assert lad["inflow"].sum() == pytest.approx(40.0) and lad["inflow"][9] == pytest.approx(40.0)
    expected = [90, 165, 240, 230, 68, 58, 48, 38, 28, 58, 48, 38, 28, 18, 8, -2]
    assert lad["cumulative_with_cbc"].to_list()[:16] == pytest.approx(expected)
    assert lad["cumulative_gap"][15] == pytest.approx(-2.0 - 270.0)
    assert res.survival_days == 16
    assert not res.survives_horizon
    # minimum at the horizon: 270 - 400 - 152 + 40 = -242 on day 40
    assert res.min_cumulative_with_cbc == pytest.approx(-242.0)
    assert res.day_of_min == H
    # per-currency CNY rows equal ALL here (fx 1)
    cny = res.ladder.filter(pl.col("currency") == "CNY").sort("day")
    assert cny["cumulative_with_cbc"].to_list() == pytest.approx(lad["cumulative_with_cbc"].to_list())


def test_stressed_lcr_definition() -> None:
    # CBC within 30 days = 270; stressed outflows = 30 x 10 + 152 = 452; inflows 40 (cap 0.75 x 452 not binding)
    # -> 270 / (452 - 40) = 0.655339...
    frame, daily, levels = _book()
    res = run_stress(frame, daily, _scenario(), hqla_level=levels, horizon_days=H)
    assert res.stressed_lcr == pytest.approx(270.0 / 412.0)
    # inflow cap: with 1000 of performing inflows the denominator is 25% of the outflows (452 x 0.25 = 113)
    big = pl.concat([daily, _daily([("CNY", "asset", "loan", "retail", True, 20, 1250.0, 0.0)])])
    res = run_stress(frame, big, _scenario(), hqla_level=levels, horizon_days=H)
    assert res.stressed_lcr == pytest.approx(270.0 / 113.0)


def test_contributions_drill_down() -> None:
    frame, daily, levels = _book()
    res = run_stress(frame, daily, _scenario(), hqla_level=levels, horizon_days=H)
    c = res.contributions.sort("row")
    assert c["mechanism"].to_list() == ["runoff", "cbc", "cbc"]
    assert c["code"].to_list() == ["all", "l1", "l2a"]
    # run-off 1000 x 0.4 = 400 over the horizon, 30/40 of it by day 30; the bond 200 x 0.85 = 170
    assert c["amount"].to_list() == pytest.approx([400.0, 100.0, 170.0])
    assert c["amount_30d"].to_list() == pytest.approx([300.0, 100.0, 170.0])
    # contributions add up to the ladder
    lad = _all(res)
    assert c.filter(pl.col("mechanism") == "runoff")["amount"].sum() == pytest.approx(lad["runoff"].sum())
    assert c.filter(pl.col("mechanism") == "cbc")["amount"].sum() == pytest.approx(lad["cbc"].sum())


def test_runoff_profile_front_loaded() -> None:
    # share_7d 0.35, share_30d 0.81, H 40, base 1000 x 0.1 = 100: days 1-7: 35/7 = 5; days 8-30: 46/23 = 2;
    # days 31-40: 19/10 = 1.9
    frame, daily, levels = _book()
    sc = _scenario(runoff=[RunoffRule(code="all", rate=0.1, share_7d=0.35, share_30d=0.81)])
    lad = _all(run_stress(frame, daily, sc, hqla_level=levels, horizon_days=H))
    assert lad["runoff"].to_list() == pytest.approx([5.0] * 7 + [2.0] * 23 + [1.9] * 10)


def test_drawdowns_by_facility_type_and_counterparty() -> None:
    # liquidity facility to a corporate 1000 at 30%, credit facility to a corporate 500 at 10%, both even
    # over 40 days: (300 + 50) / 40 = 8.75 per day; the facility received (liability) draws nothing.
    frame = frame_from_records(
        [
            {
                "instrument_type": "loan_commitment",
                "product_subtype": "liquidity_facility",
                "side": "asset",
                "on_balance_sheet": False,
                "counterparty_type": "non_financial_corporate",
                "undrawn_amount": 1000.0,
            },
            {
                "instrument_type": "loan_commitment",
                "product_subtype": "credit_facility",
                "side": "asset",
                "on_balance_sheet": False,
                "counterparty_type": "non_financial_corporate",
                "undrawn_amount": 500.0,
            },
            {
                "instrument_type": "loan_commitment",
                "side": "liability",
                "on_balance_sheet": False,
                "counterparty_type": "bank",
                "undrawn_amount": 9999.0,
            },
        ]
    )
    sc = _scenario(
        drawdown=[
            DrawdownRule(code="corp_liq", product_subtype="liquidity_facility", cp_class="corporate", rate=0.3),
            DrawdownRule(code="corp", cp_class="corporate", rate=0.1),
        ]
    )
    res = run_stress(frame, _daily([]), sc, horizon_days=H)
    lad = _all(res)
    assert lad["drawdown"].to_list() == pytest.approx([8.75] * H)
    assert res.contributions.sort("row")["code"].to_list() == ["corp_liq", "corp"]
    assert res.survival_days == 1


def test_market_closure_removes_cbc_in_window() -> None:
    # the L2A bond (85/day on days 2-3) is closed on days 1-4: nothing on days 2-3, 170 on day 5
    frame, daily, levels = _book()
    closed = _scenario(market_closures=[MarketClosure(code="c", cbc_class="l2a", from_day=1, to_day=4)])
    lad = _all(run_stress(frame, daily, closed, hqla_level=levels, horizon_days=H))
    assert lad["cbc"].to_list()[:6] == pytest.approx([100.0, 0.0, 0.0, 0.0, 170.0, 0.0])
    # cumulative on day 5: 100 - 50 - 152 + 170 = 68 (same as open once reopened); day 4: 100 - 40 = 60
    assert lad["cumulative_with_cbc"][3] == pytest.approx(60.0)
    # closed beyond the horizon: the bond's CBC is gone
    shut = _scenario(market_closures=[MarketClosure(code="c", instrument_type="debt_security", from_day=1, to_day=H)])
    res = run_stress(frame, daily, shut, hqla_level=levels, horizon_days=H)
    assert _all(res)["cbc"].sum() == pytest.approx(100.0)
    assert res.contributions.filter(pl.col("code") == "l2a")["amount"].item() == pytest.approx(0.0)
    # an open market elsewhere (listing_market) leaves it untouched
    other = _scenario(market_closures=[MarketClosure(code="c", listing_market="cn_exchange", from_day=1, to_day=H)])
    assert _all(run_stress(frame, daily, other, hqla_level=levels, horizon_days=H))["cbc"].sum() == pytest.approx(270.0)


def test_hqla_level_series_stays_aligned_when_rows_carry_no_amount() -> None:
    # row 1 has neither balance nor undrawn amount; the series' second value belongs to the cash row
    frame = frame_from_records(
        [
            {"instrument_type": "other_asset", "side": "asset", "balance": None},
            {"instrument_type": "debt_security", "side": "asset", "balance": 100.0},
        ]
    )
    res = run_stress(frame, _daily([]), _scenario(), hqla_level=pl.Series([None, "level_2a"]), horizon_days=H)
    assert _all(res)["cbc"].sum() == pytest.approx(85.0)


def test_encumbered_part_excluded_from_cbc() -> None:
    # bond balance 200, 150 pledged: (200 - 150) / 200 of the market value 200 = 50, x 0.85 = 42.5
    frame = frame_from_records(
        [{"instrument_type": "debt_security", "side": "asset", "balance": 200.0, "encumbered_amount": 150.0}]
    )
    res = run_stress(frame, _daily([]), _scenario(), hqla_level=pl.Series(["level_2a"]), horizon_days=H)
    assert _all(res)["cbc"].sum() == pytest.approx(42.5)


def test_downgrade_and_fx_conversion() -> None:
    # repo USD 100 (fx 7): downgrade share 10% -> USD 10 on day 2; fixed amount 20 CNY on day 2.
    # ALL = 10 x 7 + 20 = 90. USD daily outflow 10 on day 3 -> 70 in ALL.
    frame = frame_from_records(
        [
            {
                "instrument_type": "repo",
                "side": "liability",
                "currency": "USD",
                "fx_rc": 7.0,
                "balance": 100.0,
                "maturity_days": 200,
            },
        ]
    )
    daily = _daily([("USD", "liability", "repo", "bank", True, 3, 10.0, 0.0)])
    sc = _scenario(
        funding_rollover=[RolloverRule(code="all", rate=0.0)],
        downgrade=DowngradeOutflow(day=2, amount=20.0, share=0.1),
    )
    res = run_stress(frame, daily, sc, horizon_days=H)
    lad = _all(res)
    assert lad["downgrade"][1] == pytest.approx(90.0)
    assert lad["outflow"][2] == pytest.approx(70.0)
    usd = res.ladder.filter(pl.col("currency") == "USD").sort("day")
    assert usd["downgrade"][1] == pytest.approx(10.0)
    assert usd["cumulative_gap"][2] == pytest.approx(-20.0)


def test_callable_term_deposit_runoff_base() -> None:
    # retail term deposit 1000 due in 200 days, withdrawable early: base 1000 x 30% = 300 over 40 days.
    frame = frame_from_records(
        [
            {
                "instrument_type": "deposit_term",
                "side": "liability",
                "counterparty_type": "retail_individual",
                "balance": 1000.0,
                "early_withdrawal_allowed": True,
                "principal_due": {200: 1000.0},
            },
            {
                "instrument_type": "deposit_term",
                "side": "liability",
                "counterparty_type": "retail_individual",
                "balance": 500.0,
                "early_withdrawal_allowed": False,
                "principal_due": {200: 500.0},
            },
        ]
    )
    sc = _scenario(runoff=[RunoffRule(code="all", rate=0.3)])
    assert _all(run_stress(frame, _daily([]), sc, horizon_days=H))["runoff"].sum() == pytest.approx(300.0)
    off = _scenario(runoff=[RunoffRule(code="all", rate=0.3)], callable_runoff=False)
    assert _all(run_stress(frame, _daily([]), off, horizon_days=H))["runoff"].sum() == pytest.approx(0.0)


def test_most_specific_rule_wins_and_unmatched_is_conservative() -> None:
    frame = frame_from_records(
        [
            {
                "instrument_type": "deposit_demand",
                "side": "liability",
                "counterparty_type": "retail_individual",
                "balance": 100.0,
            },
            {"instrument_type": "deposit_demand", "side": "liability", "counterparty_type": "bank", "balance": 100.0},
            {"instrument_type": "other_liability", "side": "liability", "balance": 100.0},
        ]
    )
    sc = _scenario(
        runoff=[
            RunoffRule(code="deposits", instrument_type="deposit_demand", rate=0.2),
            RunoffRule(code="retail_deposits", instrument_type="deposit_demand", cp_class="retail", rate=0.1),
        ]
    )
    res = run_stress(frame, _daily([]), sc, horizon_days=H)
    c = res.contributions.sort("row")
    assert c["code"].to_list() == ["retail_deposits", "deposits", "unmatched"]
    assert c["amount"].to_list() == pytest.approx([10.0, 20.0, 100.0])
    codes = {a.code for a in res.assumptions}
    assert {"stress.runoff_unmatched", "stress.runoff_cp_class_unknown"} <= codes


def test_hqla_fallback_is_recorded() -> None:
    # no hqla_level series: the government bond is Level 1 by the templates' proxy, recorded as an assumption
    frame = frame_from_records(
        [{"instrument_type": "debt_security", "product_subtype": "government_bond", "side": "asset", "balance": 80.0}]
    )
    res = run_stress(frame, _daily([]), _scenario(), horizon_days=H)
    assert _all(res)["cbc"][0] == pytest.approx(80.0)
    rec = [a for a in res.assumptions if a.code == "stress.hqla_level_proxy"]
    assert len(rec) == 1 and rec[0].contracts == 1 and rec[0].amount_rc == pytest.approx(80.0)
    # an override on the position wins over the proxy and is not an assumption
    frame = frame.with_columns(pl.lit("level_2a").alias("hqla_level_override"))
    res = run_stress(frame, _daily([]), _scenario(), horizon_days=H)
    assert _all(res)["cbc"].sum() == pytest.approx(68.0)
    assert not [a for a in res.assumptions if a.code == "stress.hqla_level_proxy"]


def test_monotonicity_more_severe_never_survives_longer() -> None:
    frame, daily, levels = _book()
    survival = []
    for rate in (0.1, 0.2, 0.4, 0.6, 0.9):
        res = run_stress(
            frame, daily, _scenario(runoff=[RunoffRule(code="all", rate=rate)]), hqla_level=levels, horizon_days=H
        )
        survival.append(res.survival_days if res.survival_days is not None else H + 1)
    assert survival == sorted(survival, reverse=True)
    assert survival[0] > survival[-1]


def test_reverse_stress_crosses_target() -> None:
    # By hand: survival < 10 days iff 270 - 90 m - (300 x 0.5 m + 2) < 0 on day 9, i.e. m > 268 / 240.
    frame, daily, levels = _book()
    sc = _scenario()
    tol = 1e-5
    m = reverse_stress(frame, daily, sc, 10, hqla_level=levels, horizon_days=H, tolerance=tol)
    assert m is not None
    assert m == pytest.approx(268.0 / 240.0, abs=tol)
    eps = 2 * tol
    before = run_stress(
        frame, daily, sc.model_copy(update={"runoff_multiplier": m - eps}), hqla_level=levels, horizon_days=H
    )
    after = run_stress(
        frame, daily, sc.model_copy(update={"runoff_multiplier": m + eps}), hqla_level=levels, horizon_days=H
    )
    assert before.survival_days is None or before.survival_days >= 10
    assert after.survival_days is not None and after.survival_days < 10


def test_reverse_stress_none_when_full_runoff_survives_and_zero_when_contractual_fails() -> None:
    frame, daily, levels = _book()
    rich = pl.concat(
        [frame, frame_from_records([{"instrument_type": "cash", "side": "asset", "balance": 10_000.0}])]
    ).with_columns(pl.int_range(pl.len()).cast(pl.UInt32).alias("row"))
    lv = pl.Series(["non_hqla", "level_1", "level_2a", "level_1"])
    assert reverse_stress(rich, daily, _scenario(), 30, hqla_level=lv, horizon_days=H) is None
    broke = _daily([("CNY", "liability", "deposit_term", "corporate", True, 2, 0.0, 5000.0)])
    assert reverse_stress(frame, broke, _scenario(), 30, hqla_level=levels, horizon_days=H) == 0.0


def test_templates_load_and_are_ordered() -> None:
    t = load_stress_templates()
    assert list(t.scenarios) == ["mild", "moderate", "severe", "combined"]
    mild, moderate, severe = (t.scenarios[n] for n in ("mild", "moderate", "severe"))
    assert mild.severity < moderate.severity < severe.severity
    for a, b in ((mild, moderate), (moderate, severe)):
        for part in ("runoff", "drawdown"):
            ra = {r.code: r.rate for r in getattr(a, part)}
            rb = {r.code: r.rate for r in getattr(b, part)}
            assert ra.keys() == rb.keys()
            assert all(ra[k] <= rb[k] for k in ra), part
        for part in ("funding_rollover",):
            ra = {r.code: r.rate for r in getattr(a, part)}
            rb = {r.code: r.rate for r in getattr(b, part)}
            assert all(ra[k] >= rb[k] for k in ra), part
        ha = {c.code: (c.haircut, c.last_day) for c in a.cbc}
        hb = {c.code: (c.haircut, c.last_day) for c in b.cbc}
        assert all(ha[k][0] <= hb[k][0] and ha[k][1] <= hb[k][1] for k in ha)
        assert len(a.market_closures) <= len(b.market_closures)
    for s in t.scenarios.values():
        assert all(r.source for r in [*s.runoff, *s.funding_rollover, *s.asset_rollover, *s.drawdown, *s.cbc])


def test_templates_give_shorter_survival_when_more_severe() -> None:
    frame = frame_from_records(
        [
            {
                "instrument_type": "deposit_demand",
                "side": "liability",
                "counterparty_type": "retail_individual",
                "balance": 5000.0,
            },
            {
                "instrument_type": "deposit_demand",
                "side": "liability",
                "counterparty_type": "non_financial_corporate",
                "balance": 2000.0,
            },
            {"instrument_type": "cash", "side": "asset", "balance": 300.0},
            {"instrument_type": "debt_security", "product_subtype": "ncd", "side": "asset", "balance": 400.0},
            {
                "instrument_type": "debt_security",
                "product_subtype": "government_bond",
                "side": "asset",
                "balance": 200.0,
            },
        ]
    )
    daily = _daily([("CNY", "liability", "interbank_lending", "bank", True, d, 30.0, 0.5) for d in range(1, 91, 3)])
    suite = run_stress_suite(frame, daily, StressSettings(scenarios=["mild", "moderate", "severe"]))
    surv = suite.tables["liquidity_survival"]
    days = [d if d is not None else 91 for d in surv["survival_days"].to_list()]
    assert days == sorted(days, reverse=True) and days[0] > days[-1]
    mult = surv["reverse_multiplier"].to_list()
    assert all(x is not None for x in mult) and mult == sorted(mult, reverse=True)
    assert surv.columns == [
        "scenario",
        "label_zh",
        "label_en",
        "survival_days",
        "survives_horizon",
        "stressed_lcr",
        "min_cumulative_with_cbc",
        "day_of_min",
        "reverse_multiplier",
    ]


def test_suite_tables_and_settings() -> None:
    frame, daily, levels = _book()
    inline = _scenario().model_dump()
    settings = StressSettings.model_validate({"scenarios": ["mild", inline], "horizon_days": 40, "currencies": ["*"]})
    suite = run_stress_suite(frame, daily, settings, hqla_level=levels)
    stress = suite.tables["liquidity_stress"]
    assert stress.columns[:3] == ["scenario", "day", "currency"]
    assert stress.height == 2 * 2 * 40  # 2 scenarios x (CNY, ALL) x 40 days
    row = suite.tables["liquidity_survival"].filter(pl.col("scenario") == "hand").row(0, named=True)
    assert row["survival_days"] == 16 and row["survives_horizon"] is False and row["day_of_min"] == 40
    # target 30 days: worst day 29: 270 + 40 - 2 - (29 x 10 + 150) m < 0  <=>  m > 308 / 440 = 0.7
    assert row["reverse_multiplier"] == pytest.approx(0.7, abs=1e-4)
    with pytest.raises(ConfigError, match="unknown template"):
        run_stress_suite(frame, daily, StressSettings(scenarios=["nope"]))
    with pytest.raises(ValueError, match="extra"):
        StressSettings.model_validate({"horizon": 90})
    with pytest.raises(ValueError, match="reverse_target_days"):
        StressSettings(horizon_days=40, reverse_target_days=60)


def test_bad_inputs_name_row_column_value() -> None:
    frame, daily, levels = _book()
    bad = daily.with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(-5.0).otherwise(pl.col("principal")).alias("principal")
    )
    with pytest.raises(DataError, match=r"row 2.*'principal'.*-5\.0"):
        run_stress(frame, bad, _scenario(), hqla_level=levels, horizon_days=H)
    with pytest.raises(DataError, match="cp_class"):
        run_stress(frame, daily.with_columns(pl.lit("martian").alias("cp_class")), _scenario(), horizon_days=H)
    with pytest.raises(SchemaError, match="day"):
        run_stress(frame, daily.drop("day"), _scenario(), horizon_days=H)
    with pytest.raises(DataError, match="one per frame row"):
        run_stress(frame, daily, _scenario(), hqla_level=pl.Series(["level_1"]), horizon_days=H)
    with pytest.raises(DataError, match="level_3"):
        run_stress(frame, daily, _scenario(), hqla_level=pl.Series(["level_3", None, None]), horizon_days=H)
    with pytest.raises(ValueError, match="product_subtype"):
        RolloverRule(code="x", product_subtype="ncd", rate=0.5)
    with pytest.raises(ValueError, match="share_7d"):
        RunoffRule(code="x", rate=0.1, share_7d=0.5, share_30d=0.2)
