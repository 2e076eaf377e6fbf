"""CSV text encodings: UTF-8 (BOM or not), GBK and GB18030, detection and decoding errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from _snapshot_builders import DEPOSIT, LOAN

from openalm.data import loaders, read_table
from openalm.data.loaders import read_raw_csv
from openalm.data.mapping import TableMapping
from openalm.errors import ConfigError, DataError

#: A small extract with Chinese column names and values (all in GBK's repertoire).
EXTRACT = '借据号,机构名称,余额,五级分类\nL001,北京分行营业部,1000.00,01\nL002,上海分行,"2,000.50",02\n'


def _write(path: Path, text: str, encoding: str, bom: bytes = b"") -> Path:
    path.write_bytes(bom + text.encode(encoding))
    return path


def _positions_csv(rows: list[dict[str, str]]) -> str:
    cols = list(rows[0])
    return "\n".join([",".join(cols), *(",".join(r[c] for c in cols) for r in rows)]) + "\n"


# --------------------------------------------------------------------------------------------
# the same text in every encoding loads identically
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "declared", "reported"),
    [
        ("utf-8", b"", "auto", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "auto", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8", "utf-8"),
        ("gbk", b"", "auto", "gb18030"),
        ("gbk", b"", "gbk", "gbk"),
        ("gb18030", b"", "auto", "gb18030"),
        ("gb18030", b"", "gb18030", "gb18030"),
    ],
)
def test_raw_csv_is_identical_in_every_encoding(
    tmp_path: Path, encoding: str, bom: bytes, declared: str, reported: str
) -> None:
    path = _write(tmp_path / "extract.csv", EXTRACT, encoding, bom)
    table, rows = read_raw_csv(path, encoding=declared)
    assert table.column_names == ["借据号", "机构名称", "余额", "五级分类"]
    assert table.to_pydict() == {
        "借据号": ["L001", "L002"],
        "机构名称": ["北京分行营业部", "上海分行"],
        "余额": ["1000.00", "2,000.50"],
        "五级分类": ["01", "02"],
    }
    assert rows.tolist() == [1, 2]
    assert table.schema.metadata == {b"encoding": reported.encode()}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_positions_in_chinese_encodings_parse_like_utf8(tmp_path: Path, encoding: str) -> None:
    rows = [{**LOAN, "branch_id": "北京分行", "source_system": "核心系统"}, {**DEPOSIT, "branch_id": "上海分行"}]
    text = _positions_csv(rows)
    (tmp_path / "utf8").mkdir()
    (tmp_path / "other").mkdir()
    reference = read_table(_write(tmp_path / "utf8" / "positions.csv", text, "utf-8"), "positions")
    parsed = read_table(_write(tmp_path / "other" / "positions.csv", text, encoding), "positions")
    assert parsed.data.equals(reference.data)
    assert parsed.data.column("branch_id").to_pylist() == ["北京分行", "上海分行"]
    assert parsed.problems == []
    assert reference.encoding == "utf-8" and reference.notes == []
    assert parsed.encoding == "gb18030"
    assert parsed.notes == ["positions.csv: decoded as GB18030 (not valid UTF-8)"]


def test_gb18030_four_byte_characters(tmp_path: Path) -> None:
    # U+20BB7 is outside GBK: four bytes in GB18030
    text = "名称\n𠮷野家\n"
    path = _write(tmp_path / "x.csv", text, "gb18030")
    table, _ = read_raw_csv(path)
    assert table.column("名称").to_pylist() == ["𠮷野家"]
    with pytest.raises(DataError, match=r"not GBK text as declared.*declare encoding 'gb18030'") as info:
        read_raw_csv(path, encoding="gbk")
    assert "line 2 (byte offset 5)" in str(info.value)  # "名称\n" is 5 GBK bytes


def test_other_delimiter_and_encoding_aliases(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", EXTRACT.replace(",", "|").replace('"2|000.50"', "2000.50"), "gbk")
    table, _ = read_raw_csv(path, encoding="CP936", delimiter="|")
    assert table.column("余额").to_pylist() == ["1000.00", "2000.50"]
    assert table.schema.metadata == {b"encoding": b"gbk"}


# --------------------------------------------------------------------------------------------
# errors: line, byte offset, likely encoding
# --------------------------------------------------------------------------------------------


def test_declared_utf8_for_a_gbk_file_names_line_offset_and_suggests_gb18030(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "a,b\nx,1\n中,2\n", "gbk")  # 中 = D6 D0 at byte 8, line 3
    with pytest.raises(DataError) as info:
        read_raw_csv(path, encoding="utf-8")
    err = info.value
    assert err.file == str(path)
    assert err.value == "d6"  # D6 starts a UTF-8 sequence that D0 cannot continue
    message = str(err)
    assert "is not UTF-8 text as declared" in message
    assert "0xD6 at line 3 (byte offset 8): invalid continuation byte" in message
    assert "declare encoding 'gb18030' or 'auto'" in message


def test_declared_gbk_for_a_utf8_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", EXTRACT, "utf-8")
    with pytest.raises(DataError, match="the file is valid UTF-8: declare encoding 'utf-8' or 'auto'") as info:
        read_raw_csv(path, encoding="gbk")
    assert "line 1 (byte offset" in str(info.value)


def test_declared_gbk_for_a_utf8_file_that_happens_to_decode_gets_a_note(tmp_path: Path) -> None:
    # the UTF-8 bytes of 丁一 are also valid GBK (涓佷竴): decoding succeeds, with a warning note
    path = _write(tmp_path / "positions.csv", _positions_csv([{**LOAN, "branch_id": "丁一"}]), "utf-8")
    parsed = read_table(path, "positions", encoding="gbk")
    assert parsed.data.column("branch_id").to_pylist() == ["涓佷竴"]
    assert parsed.notes[0] == "positions.csv: decoded as GBK (declared)"
    assert "also valid UTF-8" in parsed.notes[1]


def test_utf8_bom_with_a_declared_chinese_encoding_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", EXTRACT, "utf-8", b"\xef\xbb\xbf")
    with pytest.raises(DataError, match="UTF-8 byte-order mark but encoding 'gb18030' was declared"):
        read_raw_csv(path, encoding="gb18030")


def test_truncated_multibyte_character_at_the_end(tmp_path: Path) -> None:
    content = "a,b\nx,中\n".encode("gbk") + b"y,\xd6"  # the file ends inside a character
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    offset = len(content) - 1
    with pytest.raises(DataError) as info:
        read_raw_csv(path)
    message = str(info.value)
    assert message.startswith(f"file {path}, value 'd6': is neither UTF-8")
    assert f"nor GB18030 text (byte(s) 0xD6 at line 3 (byte offset {offset}): incomplete multibyte sequence)" in message
    assert info.value.value == "d6"
    with pytest.raises(DataError, match=rf"is not GBK text as declared: .*line 3 \(byte offset {offset}\)"):
        read_raw_csv(path, encoding="gbk")


def test_undecodable_in_both_mid_file(tmp_path: Path) -> None:
    content = "a,b\n中,1\n".encode("gbk") + b"x,\xff\xff\nz,3\n"
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"nor GB18030 text \(byte\(s\) 0xFF at line 3 \(byte offset 11\)"):
        read_raw_csv(path)


def test_utf16_file_gets_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", EXTRACT, "utf-16")
    with pytest.raises(DataError, match="UTF-16 byte-order mark"):
        read_raw_csv(path)


def test_error_position_is_exact_across_decoding_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tiny blocks: the file is decoded in many pieces, each cut at a line end
    monkeypatch.setattr(loaders, "_DECODE_BLOCK", 7)
    lines = ["a,b", *(f"{i},行{i}" for i in range(40))]
    good = "\n".join(lines) + "\n"
    path = tmp_path / "x.csv"
    path.write_bytes(good.encode("gbk") + b"z,\x81\n")
    offset = len(good.encode("gbk")) + 2
    with pytest.raises(DataError, match=rf"0x81 at line 42 \(byte offset {offset}\)"):
        read_raw_csv(path, encoding="gb18030")
    path.write_bytes(good.encode("gbk"))
    table, rows = read_raw_csv(path)
    assert table.column("b").to_pylist() == [f"行{i}" for i in range(40)]
    assert rows[-1] == 40


def test_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", EXTRACT, "utf-8")
    with pytest.raises(ConfigError, match="unknown CSV encoding 'big5'"):
        read_raw_csv(path, encoding="big5")
    with pytest.raises(ConfigError, match="delimiter"):
        read_raw_csv(path, delimiter=";;")


def test_read_table_encoding_against_the_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path / "positions.csv", _positions_csv([{**LOAN, "branch_id": "北京分行"}]), "gbk")
    mapping = TableMapping(encoding="gbk")
    parsed = read_table(path, "positions", mapping=mapping)
    assert parsed.encoding == "gbk"
    assert parsed.data.column("branch_id").to_pylist() == ["北京分行"]
    with pytest.raises(ConfigError, match="contradicts the mapping's encoding 'gbk'"):
        read_table(path, "positions", mapping=mapping, encoding="utf-8")


def test_parquet_has_no_encoding(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "positions.parquet"
    pq.write_table(pa.table({k: [v] for k, v in LOAN.items()}), path)
    assert read_table(path, "positions").encoding is None
