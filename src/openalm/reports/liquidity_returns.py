"""The liquidity regulatory returns as Excel workbooks laid out like the 1104 forms, plus CSV.

Writers of G21 流动性期限缺口统计表, G22 流动性比例监测表, G23 最大十家存款客户情况表,
G24 最大百家金融机构同业融入情况表 and G25 流动性覆盖率和净稳定资金比例情况表 (sheets G25_I and
G25_II). Each writer takes the result frames of the liquidity measures and writes one workbook:

* a title row (form number and name), a line with the as-of date, the unit and the currency view;
* a header row with bilingual column names from the label catalogue (``lang`` zh or en) and, for
  G21, the column letters A-K under it;
* one row per form line: row code, label (indented by level), amounts with number formats.

Amounts are divided by ``unit`` (default 10,000: 万元 with two decimals, regulatory.md 0.2; use
``unit=1`` for units); ratios and factors are written as decimals with a percent format and are
never divided. The cells hold values (no formulas), so every figure ties back to the input frame:
``cell = frame figure / unit``. Every sheet is also written as CSV (``<sheet>.csv`` beside the
workbook, the same figures as the sheet, machine-readable column keys). Files are written
atomically (:func:`openalm.reports.writers.atomic_write`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from openalm.errors import ConfigError
from openalm.i18n import Language, label, labels
from openalm.reports.writers import atomic_write

__all__ = [
    "RETURN_INPUTS",
    "write_g21",
    "write_g22",
    "write_g23",
    "write_g24",
    "write_g25",
    "write_liquidity_returns",
]

#: Keys of the ``tables`` mapping of :func:`write_liquidity_returns` and what each one feeds.
RETURN_INPUTS: dict[str, str] = {
    "g21_ladder": "G21 (ladder of openalm.measures.liquidity.g21.g21_lines)",
    "ratios": "G21 part II (indicator, value, limit, status, label_zh, label_en)",
    "g22_lines": "G22 (line, label_zh, label_en, currency_column, amount, contracts)",
    "g22_ratios": "G22 indicators (same columns as ratios)",
    "lcr_lines": "G25_I (LCR lines)",
    "nsfr_lines": "G25_II (NSFR lines)",
    "top_depositors": "G23 (rank, name / code, amount columns)",
    "top_fi_funding": "G24 (rank, name / code, amount columns)",
}

_G21_COLUMN_LABELS = {
    "A": "bucket.g21.next_day",
    "B": "bucket.g21.2d_7d",
    "C": "bucket.g21.8d_30d",
    "D": "bucket.g21.31d_90d",
    "E": "bucket.g21.91d_1y",
    "F": "bucket.g21.1y_5y",
    "G": "bucket.g21.5y_10y",
    "H": "bucket.g21.over_10y",
    "I": "bucket.undated",
    "J": "bucket.overdue",
    "K": "returns.col.total",
}
_G21_COLUMNS = tuple(_G21_COLUMN_LABELS)
_NSFR_MATURITIES = ("lt_6m", "6m_1y", "ge_1y", "none")
_LCR_ORDER = {"hqla": 0, "cap_adjustment": 1, "outflow": 2, "inflow": 3, "net_outflow": 4, "ratio": 5}
_PERCENT_HINTS = ("share", "ratio", "pct", "percent", "factor", "rate")

_FORMATS = {
    "amount": "#,##0.00",
    "percent": "0.00%",
    "int": "0",
}


@dataclass(frozen=True)
class _Sheet:
    """One sheet: header lines and the figures as written (amounts already divided by the unit).

    ``kinds`` gives each table column's kind: ``text``, ``amount``, ``percent`` or ``int``.
    Hidden helper columns start with ``_``: ``_depth`` indents the ``item`` column, ``_row_kind``
    = ``percent`` writes the row's ``amount`` columns as percentages.
    """

    name: str
    title: str
    lines: tuple[str, ...]
    table: pl.DataFrame
    headers: tuple[str, ...]
    kinds: tuple[str, ...]
    letters: tuple[str, ...] | None = None

    @property
    def visible(self) -> list[str]:
        return [c for c in self.table.columns if not c.startswith("_")]


def _lang(lang: str) -> Language:
    if lang not in ("zh", "en"):
        raise ConfigError(f"report language {lang!r}: expected zh or en")
    return "zh" if lang == "zh" else "en"


def _unit_text(unit: float, lang: Language) -> str:
    if unit == 10000:
        name = label("returns.unit.10000", lang)
    elif unit == 1:
        name = label("returns.unit.1", lang)
    else:
        name = label("returns.unit.other", lang, unit=f"{unit:,g}")
    return label("returns.unit", lang, unit=name)


def _head(lang: Language, as_of: dt.date | str | None, unit: float, view: str | None = None) -> tuple[str, ...]:
    parts = []
    if as_of is not None:
        parts.append(label("returns.as_of", lang, date=str(as_of)))
    parts.append(_unit_text(unit, lang))
    if view is not None:
        parts.append(label("returns.view", lang, view=view))
    return ("    ".join(parts),)


def _view_name(view: str, lang: Language) -> str:
    key = f"returns.view.{view}"
    if key in labels():
        return label(key, lang)
    return f"{label('returns.view.domestic', lang)} ({view})" if view == "CNY" else view


def _col_label(name: str, lang: Language) -> str:
    key = f"returns.col.{name}"
    return label(key, lang) if key in labels() else name


def _check_unit(unit: float) -> float:
    if not isinstance(unit, int | float) or isinstance(unit, bool) or not unit > 0:
        raise ConfigError(f"report unit {unit!r}: expected a positive number (10000 = 万元, 1 = units)")
    return float(unit)


def _require(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"{what}: the frame lacks columns {missing}; it has {frame.columns}")


def _label_col(lang: Language) -> str:
    return "label_zh" if lang == "zh" else "label_en"


# ----------------------------------------------------------------------------------------- writing


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _write_xlsx(path: Path, sheets: Sequence[_Sheet]) -> None:
    def write(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp))
        title_f = wb.add_format({"bold": True, "font_size": 14})
        head_f = wb.add_format({"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", "border": 1})
        letter_f = wb.add_format({"align": "center", "border": 1, "font_color": "#555555"})
        text_f = wb.add_format({"border": 1})
        indent_f = {d: wb.add_format({"border": 1, "indent": d}) for d in range(6)}
        num_f = {k: wb.add_format({"num_format": v, "border": 1}) for k, v in _FORMATS.items()}
        for sheet in sheets:
            ws = wb.add_worksheet(sheet.name)
            cols = sheet.visible
            ws.write_string(0, 0, sheet.title, title_f)
            for k, text in enumerate(sheet.lines, start=1):
                ws.write_string(k, 0, text)
            header_row = len(sheet.lines) + 2
            for j, text in enumerate(sheet.headers):
                ws.write_string(header_row, j, text, head_f)
            first = header_row + 1
            if sheet.letters is not None:
                for j, text in enumerate(sheet.letters):
                    ws.write_string(first, j, text, letter_f)
                first += 1
            for j, (name, kind) in enumerate(zip(cols, sheet.kinds, strict=True)):
                width = 46 if name == "item" else (10 if name == "line" else (10 if kind == "int" else 16))
                ws.set_column(j, j, width)
            depth = sheet.table["_depth"].to_list() if "_depth" in sheet.table.columns else None
            row_kind = sheet.table["_row_kind"].to_list() if "_row_kind" in sheet.table.columns else None
            for i, rec in enumerate(sheet.table.select(cols).iter_rows()):
                r = first + i
                for j, (value, kind) in enumerate(zip(rec, sheet.kinds, strict=True)):
                    if kind == "text":
                        fmt = indent_f[min(int(depth[i] or 0), 5)] if (depth and cols[j] == "item") else text_f
                        if _is_blank(value):
                            ws.write_blank(r, j, None, fmt)
                        else:
                            ws.write_string(r, j, str(value), fmt)
                        continue
                    if kind == "amount" and row_kind is not None and row_kind[i] == "percent":
                        kind = "percent"
                    fmt = num_f[kind]
                    if _is_blank(value):
                        ws.write_blank(r, j, None, fmt)
                    elif not math.isfinite(float(value)):
                        # e.g. a ratio without a denominator (no net outflows): the cell says so
                        ws.write_string(
                            r, j, "∞" if float(value) > 0 else ("-∞" if float(value) < 0 else "n/a"), text_f
                        )
                    else:
                        ws.write_number(r, j, float(value), fmt)
            ws.freeze_panes(first, 2 if "item" in cols else 1)
        wb.close()

    atomic_write(path, write)


def _csv_path(path: Path, sheet: str) -> Path:
    name = sheet if sheet.upper().startswith(path.stem.upper()) else f"{path.stem}_{sheet}"
    return path.with_name(f"{name}.csv")


def _emit(path: str | Path, sheets: Sequence[_Sheet], csv: bool) -> dict[str, Path]:
    """Write the workbook (and one CSV per sheet); ``{"xlsx": path, <sheet>: csv path, ...}``."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ConfigError(f"workbook path {target}: expected a .xlsx file name")
    _write_xlsx(target, sheets)
    out = {"xlsx": target}
    if csv:
        for sheet in sheets:
            dest = _csv_path(target, sheet.name)
            table = sheet.table.select(sheet.visible)
            atomic_write(dest, lambda tmp, t=table: t.write_csv(tmp))
            out[sheet.name] = dest
    return out


# ----------------------------------------------------------------------------------------- G21


def _g21_sheets(
    ladder: pl.DataFrame, ratios: pl.DataFrame | None, lang: Language, as_of: dt.date | str | None, unit: float
) -> list[_Sheet]:
    _require(ladder, ["currency", "line", "label_zh", "label_en", *_G21_COLUMNS], "G21 ladder")
    headers = (
        label("returns.col.line", lang),
        label("returns.col.item", lang),
        *(label(_G21_COLUMN_LABELS[c], lang) for c in _G21_COLUMNS),
    )
    letters = ("", "", *_G21_COLUMNS)
    sheets = []
    views = list(dict.fromkeys(ladder["currency"].to_list()))
    for view in views:
        part = ladder.filter(pl.col("currency") == view)
        depth = pl.col("depth") if "depth" in part.columns else pl.lit(0)
        table = part.select(
            pl.col("line"),
            pl.col(_label_col(lang)).alias("item"),
            *(pl.col(c) / unit for c in _G21_COLUMNS),
            depth.alias("_depth"),
        )
        sheets.append(
            _Sheet(
                name=f"G21_{view}",
                title=label("returns.g21.title", lang),
                lines=_head(lang, as_of, unit, _view_name(view, lang)),
                table=table,
                headers=headers,
                kinds=("text", "text", *(["amount"] * len(_G21_COLUMNS))),
                letters=letters,
            )
        )
    if ratios is not None and ratios.height:
        sheets.append(_ratio_sheet("G21_II", label("returns.g21.part2", lang), ratios, lang, as_of, unit))
    return sheets


def _ratio_sheet(
    name: str, title: str, ratios: pl.DataFrame, lang: Language, as_of: dt.date | str | None, unit: float
) -> _Sheet:
    """Indicators: label, then whichever of currency_column, numerator, denominator, value,
    limit, status the frame has (amounts / unit, ratios as percentages)."""
    _require(ratios, ["indicator", "value"], "ratios")
    lab = _label_col(lang)
    item = pl.coalesce(pl.col(lab), pl.col("indicator")) if lab in ratios.columns else pl.col("indicator")
    exprs: list[pl.Expr] = [pl.col("indicator").alias("line"), item.alias("item")]
    kinds = ["text", "text"]
    headers = [label("returns.col.indicator", lang), label("returns.col.item", lang)]
    for col, kind in (
        ("currency_column", "text"),
        ("numerator", "amount"),
        ("denominator", "amount"),
        ("value", "percent"),
        ("limit", "percent"),
        ("status", "text"),
    ):
        if col not in ratios.columns:
            continue
        if col == "status":
            known = {s: label(f"returns.status.{s}", lang) for s in ("pass", "fail", "breach", "warning", "ok")}
            exprs.append(pl.col("status").cast(pl.String).replace(known).alias("status"))
        elif kind == "amount":
            exprs.append((pl.col(col).cast(pl.Float64) / unit).alias(col))
        elif kind == "percent":
            exprs.append(pl.col(col).cast(pl.Float64).alias(col))
        else:
            exprs.append(pl.col(col).cast(pl.String).alias(col))
        kinds.append(kind)
        headers.append(_col_label(col, lang))
    return _Sheet(
        name=name,
        title=title,
        lines=_head(lang, as_of, unit),
        table=ratios.select(exprs),
        headers=tuple(headers),
        kinds=tuple(kinds),
    )


def write_g21(
    path: str | Path,
    g21_ladder: pl.DataFrame,
    ratios: pl.DataFrame | None = None,
    lang: str = "zh",
    *,
    as_of: dt.date | str | None = None,
    unit: float = 10000,
    csv: bool = True,
) -> Path:
    """Write G21 流动性期限缺口统计表: one sheet per currency view (``G21_CNY``, ``G21_FX``,
    ``G21_ALL``) with rows 1-6 and columns A-K, and the indicators (part II) on ``G21_II``.

    Parameters
    ----------
    path:
        The ``.xlsx`` file; the CSVs ``G21_<view>.csv`` / ``G21_II.csv`` go beside it.
    g21_ladder:
        The ladder of :func:`openalm.measures.liquidity.g21.g21_lines` (``currency, line,
        label_zh, label_en, depth, A..K``), amounts in the reporting currency.
    ratios:
        Optional indicators (``indicator, value`` and any of ``label_zh, label_en, limit, status,
        currency_column, numerator, denominator``); values are decimals.
    lang:
        ``zh`` or ``en`` (labels and headers).
    as_of, unit:
        The date printed in the header; the amount unit (10000 = 万元).
    csv:
        Also write every sheet as CSV.
    """
    language = _lang(lang)
    sheets = _g21_sheets(g21_ladder, ratios, language, as_of, _check_unit(unit))
    return _emit(path, sheets, csv)["xlsx"]


# ----------------------------------------------------------------------------------------- G22


def _merged_label(labels_: Sequence[str]) -> str:
    """One label for form lines that several categories share (``"... - bonds"``, ``"... - funds"``)."""
    uniq = list(dict.fromkeys(labels_))
    if len(uniq) == 1:
        return uniq[0]
    heads = {s.split(" - ")[0].strip() for s in uniq}
    return heads.pop() if len(heads) == 1 else " / ".join(uniq)


def _g22_sheets(
    g22_lines: pl.DataFrame,
    ratio_rows: pl.DataFrame | None,
    lang: Language,
    as_of: dt.date | str | None,
    unit: float,
) -> list[_Sheet]:
    _require(g22_lines, ["line", "label_zh", "label_en", "currency_column", "amount"], "G22 lines")
    lab = _label_col(lang)
    is_ratio = (pl.col("code") == "ratio") if "code" in g22_lines.columns else (pl.col("line") == "3")
    work = g22_lines.with_columns(is_ratio.fill_null(False).alias("_ratio"))
    order = list(dict.fromkeys(work["line"].to_list()))
    rows = []
    for line in order:
        part = work.filter(pl.col("line") == line)
        ratio = bool(part["_ratio"].any())
        values: dict[str, float | None] = {}
        for cc in ("A", "B", "C"):
            sel = part.filter(pl.col("currency_column") == cc)["amount"]
            if sel.len() == 0:
                values[cc] = None
            elif ratio:
                values[cc] = sel[0]
            else:
                values[cc] = float(sel.sum()) / unit
        rows.append(
            {
                "line": line,
                "item": _merged_label(part[lab].to_list()),
                **values,
                "_depth": 0 if "." not in str(line) else 1,
                "_row_kind": "percent" if ratio else "amount",
            }
        )
    table = pl.DataFrame(
        rows,
        schema={
            "line": pl.String,
            "item": pl.String,
            "A": pl.Float64,
            "B": pl.Float64,
            "C": pl.Float64,
            "_depth": pl.Int32,
            "_row_kind": pl.String,
        },
        orient="row",
    )
    headers = (
        label("returns.col.line", lang),
        label("returns.col.item", lang),
        label("returns.view.domestic", lang),
        label("returns.view.FX", lang),
        label("returns.view.ALL", lang),
    )
    sheets = [
        _Sheet(
            name="G22",
            title=label("returns.g22.title", lang),
            lines=_head(lang, as_of, unit),
            table=table,
            headers=headers,
            kinds=("text", "text", "amount", "amount", "amount"),
            letters=("", "", "A", "B", "C"),
        )
    ]
    if ratio_rows is not None and ratio_rows.height:
        sheets.append(_ratio_sheet("G22_II", label("returns.g22.part2", lang), ratio_rows, lang, as_of, unit))
    return sheets


def write_g22(
    path: str | Path,
    g22_lines: pl.DataFrame,
    ratio_rows: pl.DataFrame | None = None,
    lang: str = "zh",
    *,
    as_of: dt.date | str | None = None,
    unit: float = 10000,
    csv: bool = True,
) -> Path:
    """Write G22 流动性比例监测表: lines 1.1-3 in columns A 人民币, B 外币折人民币, C 本外币合计.

    ``g22_lines`` has ``line, label_zh, label_en, currency_column, amount`` (the ``lines`` of
    :func:`openalm.measures.liquidity.cn_ratios.liquidity_ratio`); categories that share a line
    (1.8: bonds and equities/funds) are summed on one row. The ratio row (``code = ratio``, else
    line 3) is written as a percentage. ``ratio_rows`` (indicators: monthly average, minimum ...)
    go to sheet ``G22_II``.
    """
    language = _lang(lang)
    sheets = _g22_sheets(g22_lines, ratio_rows, language, as_of, _check_unit(unit))
    return _emit(path, sheets, csv)["xlsx"]


# ----------------------------------------------------------------------------------------- G25


def _lcr_sheet(lcr: pl.DataFrame, lang: Language, as_of: dt.date | str | None, unit: float, currency: str) -> _Sheet:
    _require(lcr, ["currency", "component", "line", "label_zh", "label_en", "amount", "weighted_amount"], "LCR lines")
    part = _pick_currency(lcr, currency, "LCR lines")
    lab = _label_col(lang)
    ratio = pl.col("component") == "ratio"
    factor = pl.col("factor") if "factor" in part.columns else pl.lit(None, dtype=pl.Float64)
    table = (
        part.with_columns(
            pl.col("component").replace_strict(_LCR_ORDER, default=9, return_dtype=pl.Int32).alias("_o"),
            pl.int_range(pl.len()).alias("_i"),
        )
        .sort("_o", "_i")
        .select(
            pl.col("line"),
            pl.col(lab).alias("item"),
            pl.when(ratio).then(None).otherwise(pl.col("amount") / unit).alias("amount"),
            pl.when(ratio).then(None).otherwise(factor).cast(pl.Float64).alias("factor"),
            pl.when(ratio)
            .then(pl.col("weighted_amount"))
            .otherwise(pl.col("weighted_amount") / unit)
            .alias("weighted_amount"),
            pl.col("line").str.count_matches(r"\.").fill_null(0).cast(pl.Int32).alias("_depth"),
            pl.when(ratio).then(pl.lit("percent")).otherwise(pl.lit("amount")).alias("_row_kind"),
        )
    )
    return _Sheet(
        name="G25_I",
        title=label("returns.g25_i.title", lang),
        lines=_head(lang, as_of, unit, _view_name(currency, lang)),
        table=table,
        headers=(
            label("returns.col.line", lang),
            label("returns.col.item", lang),
            label("returns.col.amount", lang),
            label("returns.col.factor", lang),
            label("returns.col.weighted_amount", lang),
        ),
        kinds=("text", "text", "amount", "percent", "amount"),
    )


def _pick_currency(frame: pl.DataFrame, currency: str, what: str) -> pl.DataFrame:
    part = frame.filter(pl.col("currency") == currency)
    if part.height == 0:
        known = sorted(set(frame["currency"].drop_nulls().to_list()))
        raise ConfigError(f"{what}: no rows for currency {currency!r}; the frame has {known}")
    return part


def _nsfr_sheet(nsfr: pl.DataFrame, lang: Language, as_of: dt.date | str | None, unit: float, currency: str) -> _Sheet:
    _require(
        nsfr,
        ["currency", "component", "category", "line", "label_zh", "label_en", "maturity", "amount", "weighted_amount"],
        "NSFR lines",
    )
    part = _pick_currency(nsfr, currency, "NSFR lines")
    lab = _label_col(lang)
    part = part.with_columns(pl.int_range(pl.len()).alias("_i"))
    keys = ["component", "category", "line", lab]
    first = part.group_by(keys, maintain_order=True).agg(pl.col("_i").min().alias("_first"))
    detail = part.filter((pl.col("component") != "ratio") & (pl.col("category") != "total"))
    by_mat = detail.group_by([*keys, "maturity"]).agg(pl.col("amount").sum())
    comp_mat = detail.group_by("component", "maturity").agg(pl.col("amount").sum())
    rows = []
    for rec in first.sort("_first").iter_rows(named=True):
        comp, cat = rec["component"], rec["category"]
        sel = part.filter(
            (pl.col("component") == comp)
            & (pl.col("category") == cat)
            & (pl.col("line").eq_missing(rec["line"]))
            & (pl.col(lab).eq_missing(rec[lab]))
        )
        weighted = float(sel["weighted_amount"].fill_null(0.0).sum())
        mats: dict[str, float | None] = {}
        if comp == "ratio":
            mats = dict.fromkeys(_NSFR_MATURITIES)
            total: float | None = None
            weighted_value: float | None = sel["weighted_amount"][0]
        else:
            source = (
                comp_mat.filter(pl.col("component") == comp)
                if cat == "total"
                else by_mat.filter(
                    (pl.col("component") == comp)
                    & (pl.col("category") == cat)
                    & (pl.col("line").eq_missing(rec["line"]))
                    & (pl.col(lab).eq_missing(rec[lab]))
                )
            )
            got = dict(zip(source["maturity"].to_list(), source["amount"].to_list(), strict=True))
            mats = {m: (got[m] / unit if m in got else None) for m in _NSFR_MATURITIES}
            total = float(sel["amount"].fill_null(0.0).sum()) / unit
            weighted_value = weighted / unit
        rows.append(
            {
                "line": rec["line"],
                "item": rec[lab],
                **mats,
                "amount_total": total,
                "weighted_amount": weighted_value,
                "_depth": 0 if rec["line"] is None else str(rec["line"]).count("."),
                "_row_kind": "percent" if comp == "ratio" else "amount",
            }
        )
    schema = {
        "line": pl.String,
        "item": pl.String,
        **{m: pl.Float64 for m in _NSFR_MATURITIES},
        "amount_total": pl.Float64,
        "weighted_amount": pl.Float64,
        "_depth": pl.Int32,
        "_row_kind": pl.String,
    }
    return _Sheet(
        name="G25_II",
        title=label("returns.g25_ii.title", lang),
        lines=_head(lang, as_of, unit, _view_name(currency, lang)),
        table=pl.DataFrame(rows, schema=schema, orient="row"),
        headers=(
            label("returns.col.line", lang),
            label("returns.col.item", lang),
            *(label(f"returns.nsfr.{m}", lang) for m in _NSFR_MATURITIES),
            label("returns.col.amount_total", lang),
            label("returns.col.weighted_amount", lang),
        ),
        kinds=("text", "text", *(["amount"] * (len(_NSFR_MATURITIES) + 2))),
    )


def write_g25(
    path: str | Path,
    lcr_lines: pl.DataFrame | None,
    nsfr_lines: pl.DataFrame | None,
    lang: str = "zh",
    *,
    as_of: dt.date | str | None = None,
    unit: float = 10000,
    currency: str = "ALL",
    csv: bool = True,
) -> Path:
    """Write G25 流动性覆盖率和净稳定资金比例情况表: sheet G25_I (LCR) and sheet G25_II (NSFR).

    G25_I: one row per LCR line of ``currency`` (default ``ALL``, every currency in the reporting
    currency) in component order (HQLA, cap adjustments, outflows, inflows, net outflows, ratio):
    amount before factors, factor, weighted amount; the ratio row carries the LCR (decimal, shown
    as a percentage) in the weighted column. G25_II: one row per NSFR line with the amounts by
    residual maturity (< 6 months, 6-12 months, >= 1 year, none), their total and the weighted
    amount; total rows break down by the maturities of their component's lines; the ratio row
    carries the NSFR. Either input may be None (its sheet is left out), not both.
    """
    language = _lang(lang)
    unit = _check_unit(unit)
    if lcr_lines is None and nsfr_lines is None:
        raise ConfigError("write_g25: neither LCR nor NSFR lines given")
    sheets = []
    if lcr_lines is not None:
        sheets.append(_lcr_sheet(lcr_lines, language, as_of, unit, currency))
    if nsfr_lines is not None:
        sheets.append(_nsfr_sheet(nsfr_lines, language, as_of, unit, currency))
    return _emit(path, sheets, csv)["xlsx"]


# ----------------------------------------------------------------------------------------- G23 / G24


def _listing_sheet(
    name: str, title: str, frame: pl.DataFrame, lang: Language, as_of: dt.date | str | None, unit: float
) -> _Sheet:
    """A ranked list written column by column: integers as they are, shares / ratios as
    percentages, other numbers as amounts / unit, everything else as text."""
    exprs: list[pl.Expr] = []
    kinds: list[str] = []
    for col, dtype in frame.schema.items():
        if dtype.is_integer():
            exprs.append(pl.col(col).cast(pl.Int64))
            kinds.append("int")
        elif dtype.is_numeric():
            if any(h in col.lower() for h in _PERCENT_HINTS):
                exprs.append(pl.col(col).cast(pl.Float64))
                kinds.append("percent")
            else:
                exprs.append(pl.col(col).cast(pl.Float64) / unit)
                kinds.append("amount")
        else:
            exprs.append(pl.col(col).cast(pl.String))
            kinds.append("text")
    return _Sheet(
        name=name,
        title=title,
        lines=_head(lang, as_of, unit),
        table=frame.select(exprs),
        headers=tuple(_col_label(c, lang) for c in frame.columns),
        kinds=tuple(kinds),
    )


def write_g23(
    path: str | Path,
    top_depositors: pl.DataFrame,
    lang: str = "zh",
    *,
    as_of: dt.date | str | None = None,
    unit: float = 10000,
    csv: bool = True,
) -> Path:
    """Write G23 最大十家存款客户情况表 from a ranked frame (rank, name / code, amounts, shares).

    Columns are written in the frame's order with headers from the label catalogue
    (``returns.col.<name>``) or the column name; shares and ratios (names containing share, ratio,
    pct, rate) as percentages, other numbers divided by ``unit``.
    """
    language = _lang(lang)
    unit = _check_unit(unit)
    sheet = _listing_sheet("G23", label("returns.g23.title", language), top_depositors, language, as_of, unit)
    return _emit(path, [sheet], csv)["xlsx"]


def write_g24(
    path: str | Path,
    top_fi_funding: pl.DataFrame,
    lang: str = "zh",
    *,
    as_of: dt.date | str | None = None,
    unit: float = 10000,
    csv: bool = True,
) -> Path:
    """Write G24 最大百家金融机构同业融入情况表 from a ranked frame (same rules as :func:`write_g23`)."""
    language = _lang(lang)
    unit = _check_unit(unit)
    sheet = _listing_sheet("G24", label("returns.g24.title", language), top_fi_funding, language, as_of, unit)
    return _emit(path, [sheet], csv)["xlsx"]


# ----------------------------------------------------------------------------------------- all


def write_liquidity_returns(
    out_dir: str | Path,
    tables: Mapping[str, pl.DataFrame | None],
    lang: str = "zh",
    *,
    as_of: dt.date | str | None = None,
    unit: float = 10000,
) -> dict[str, Path]:
    """Write every return the inputs allow into ``out_dir`` (``G21.xlsx`` ... and the CSVs).

    ``tables`` is keyed as :data:`RETURN_INPUTS` (absent or None entries are skipped; an unknown
    key is an error). Returns ``{form: workbook path}`` plus ``{"<form>:<sheet>": csv path}``
    for every sheet, e.g. ``"G21"`` and ``"G21:G21_ALL"``.
    """
    unknown = sorted(set(tables) - set(RETURN_INPUTS))
    if unknown:
        raise ConfigError(
            f"write_liquidity_returns: unknown inputs {unknown}; expected keys from {list(RETURN_INPUTS)}"
        )
    language = _lang(lang)
    unit = _check_unit(unit)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)

    def get(key: str) -> pl.DataFrame | None:
        return tables.get(key)

    jobs: list[tuple[str, list[_Sheet]]] = []
    ladder = get("g21_ladder")
    if ladder is not None:
        jobs.append(("G21", _g21_sheets(ladder, get("ratios"), language, as_of, unit)))
    g22 = get("g22_lines")
    if g22 is not None:
        jobs.append(("G22", _g22_sheets(g22, get("g22_ratios"), language, as_of, unit)))
    top_dep = get("top_depositors")
    if top_dep is not None:
        jobs.append(
            ("G23", [_listing_sheet("G23", label("returns.g23.title", language), top_dep, language, as_of, unit)])
        )
    top_fi = get("top_fi_funding")
    if top_fi is not None:
        jobs.append(
            ("G24", [_listing_sheet("G24", label("returns.g24.title", language), top_fi, language, as_of, unit)])
        )
    lcr, nsfr = get("lcr_lines"), get("nsfr_lines")
    g25: list[_Sheet] = []
    if lcr is not None:
        g25.append(_lcr_sheet(lcr, language, as_of, unit, "ALL"))
    if nsfr is not None:
        g25.append(_nsfr_sheet(nsfr, language, as_of, unit, "ALL"))
    if g25:
        jobs.append(("G25", g25))
    out: dict[str, Path] = {}
    for form, sheets in jobs:
        written = _emit(folder / f"{form}.xlsx", sheets, csv=True)
        out[form] = written.pop("xlsx")
        out.update({f"{form}:{sheet}": p for sheet, p in written.items()})
    return out
