"""export.py: CSV and XLSX written row by row, read back equal; typed XLSX cells; progress;
a cancelled or failed export leaves no file (and an existing one as it was)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from erpgo_desktop.export import (
    PROGRESS_EVERY,
    ExportCancelled,
    export_rows,
    format_for,
)

HEADERS = ("SKU", "Name", "On hand", "Value", "Day", "Moved at", "Active", "Note")
WHEN = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
ROWS: list[tuple[Any, ...]] = [
    ("00123", "Bohrmaschine — Grün", 1_234, Decimal("1234.50"), date(2024, 1, 31), WHEN, True,
     None),
    ("A,B", 'Say "hi"\nnext line', -5, Decimal("-0.10"), date(2023, 12, 1), WHEN, False, "€ 5"),
]  # fmt: skip


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert export_rows(path, HEADERS, ROWS) == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the mark Excel needs for UTF-8
    local = f"{WHEN.astimezone():%Y-%m-%d %H:%M:%S}"
    assert read_csv(path) == [
        list(HEADERS),
        ["00123", "Bohrmaschine — Grün", "1234", "1234.50", "2024-01-31", local, "Yes", ""],
        ["A,B", 'Say "hi"\nnext line', "-5", "-0.10", "2023-12-01", local, "No", "€ 5"],
    ]


def test_xlsx_round_trip_keeps_types(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    assert export_rows(path, HEADERS, ROWS, sheet_title="Stock: all [MAIN]") == 2
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    assert sheet.title == "Stock  all  MAIN"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == list(HEADERS)
    naive_local = WHEN.astimezone().replace(tzinfo=None)
    first, second = values[1], values[2]
    assert first[:3] == ["00123", "Bohrmaschine — Grün", 1234]  # a SKU stays text
    assert Decimal(str(first[3])) == Decimal("1234.50")
    assert first[4] == datetime(2024, 1, 31)
    assert first[5] == naive_local
    assert first[6:] == [True, None]
    assert second[:3] == ["A,B", 'Say "hi"\nnext line', -5]
    assert Decimal(str(second[3])) == Decimal("-0.10") and second[7] == "€ 5"
    cells = next(iter(sheet.iter_rows(min_row=2, max_row=2)))
    assert cells[3].number_format == "#,##0.00"
    assert cells[4].is_date and cells[5].is_date


def many(count: int) -> Iterator[tuple[int, str]]:
    for number in range(count):
        yield number, f"row {number}"


@pytest.mark.parametrize("name", ["big.csv", "big.xlsx"])
def test_progress_and_a_large_export(tmp_path: Path, name: str) -> None:
    reported: list[int] = []
    path = tmp_path / name
    assert export_rows(path, ("N", "Text"), many(5_000), progress=reported.append) == 5_000
    assert reported == sorted(reported) and reported[-1] == 5_000
    assert len(reported) >= 5_000 // PROGRESS_EVERY
    if format_for(path) == "csv":
        assert len(read_csv(path)) == 5_001
    else:
        sheet = load_workbook(path, read_only=True).active
        assert sheet is not None
        assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 5_001


@pytest.mark.parametrize("name", ["cancelled.csv", "cancelled.xlsx"])
def test_a_cancelled_export_leaves_no_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    seen: list[int] = []

    def cancel_after_some() -> bool:
        return bool(seen) and seen[-1] >= 1_000

    with pytest.raises(ExportCancelled):
        export_rows(path, ("N", "Text"), many(100_000), progress=seen.append,
                    cancelled=cancel_after_some)  # fmt: skip
    assert seen and seen[-1] < 100_000
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary


def test_a_failed_export_keeps_the_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("the old export", encoding="utf-8")

    def broken() -> Iterator[tuple[str]]:
        yield ("fine",)
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        export_rows(path, ("A",), broken())
    assert path.read_text(encoding="utf-8") == "the old export"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_format_from_the_extension() -> None:
    assert format_for("a.XLSX") == "xlsx"
    assert format_for("a.csv") == "csv" and format_for("a.txt") == "csv"
