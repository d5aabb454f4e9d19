"""Reading import files: CSV in the encodings and delimiters spreadsheets write, XLSX with
the sheet's own row numbers, and the column mapping guessed from the headers."""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from erpgo_desktop.errors import ValidationError
from erpgo_desktop.imports import (
    IMPORT_KINDS,
    SheetRow,
    guess_mapping,
    missing_required,
    read_csv,
    read_file,
)


def test_csv_utf8_with_bom_and_semicolons_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    text = 'SKU;Name;Price\nA-1;"Säge; groß";12,50\n\n;;\nB-2;"Two\nlines";3\nC-3;Last;4\n'
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    sheet = read_file(path)
    assert sheet.headers == ("SKU", "Name", "Price")
    # Blank rows are skipped but counted; a quoted line break stays in its row.
    assert sheet.rows == (
        SheetRow(2, ("A-1", "Säge; groß", "12,50")),
        SheetRow(5, ("B-2", "Two\nlines", "3")),
        SheetRow(6, ("C-3", "Last", "4")),
    )


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("cp1252", ";"), ("utf-16", "\t"), ("utf-8", "|")],
)
def test_csv_encodings_and_delimiters(encoding: str, delimiter: str) -> None:
    text = delimiter.join(["SKU", "Name"]) + "\r\n" + delimiter.join(["X-1", "Café"]) + "\r\n"
    sheet = read_csv(text.encode(encoding))
    assert sheet.headers == ("SKU", "Name")
    assert sheet.rows == (SheetRow(2, ("X-1", "Café")),)


def test_an_empty_file_or_unknown_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="header"):
        read_csv(b"\n\n")
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(ValidationError, match="neither"):
        read_file(path)


def test_xlsx_values_as_text_with_the_sheets_row_numbers(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["SKU", "Price", "Track", "Since", None])
    sheet.append(["A-1", 19.99, True, datetime(2024, 3, 1)])
    sheet.append([])
    sheet.append(["B-2", 12.0, False, None])
    sheet["A6"] = "C-3"
    path = tmp_path / "products.xlsx"
    workbook.save(path)
    read = read_file(path)
    assert read.headers == ("SKU", "Price", "Track", "Since")
    assert [row.line for row in read.rows] == [2, 4, 6]
    assert read.rows[0].values[:4] == ("A-1", "19.99", "true", "2024-03-01")
    assert read.rows[1].values[:3] == ("B-2", "12", "false")
    assert read.rows[2].value(0) == "C-3" and read.rows[2].value(3) == ""


def test_a_broken_xlsx_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValidationError, match="cannot be read"):
        read_file(path)


def test_mapping_guess_ignores_case_spaces_and_knows_synonyms() -> None:
    headers = ["Article Number", "product_name", " CATEGORY ", "Unit Price", "EAN", "Notes"]
    mapping = guess_mapping("products", headers)
    assert mapping["sku"] == 0
    assert mapping["name"] == 1
    assert mapping["category"] == 2
    assert mapping["price"] == 3
    assert mapping["barcode"] == 4
    assert mapping["cost"] is None
    assert set(mapping) == {f.name for f in IMPORT_KINDS["products"]}
    assert missing_required("products", mapping) == ()


def test_exact_names_win_over_synonyms_and_each_column_feeds_one_field() -> None:
    # "Code" is a synonym of the SKU, but the SKU column names itself.
    mapping = guess_mapping("customers", ["E-Mail", "Code", "First Name", "Surname"])
    assert mapping == {
        "customer_code": 1,
        "first_name": 2,
        "last_name": 3,
        "email": 0,
        "company": None,
        "phone": None,
        "type": None,
        "status": None,
        "credit_limit": None,
        "tax_exempt": None,
        "notes": None,
        "billing_address1": None,
        "billing_address2": None,
        "billing_city": None,
        "billing_state": None,
        "billing_postal_code": None,
        "billing_country": None,
    }
    counts = guess_mapping("stock_counts", ["Code", "Location", "Qty"])
    assert counts == {"sku": 0, "warehouse": 1, "counted": 2, "note": None}
    partial = guess_mapping("stock_counts", ["SKU", "Qty"])
    assert [f.name for f in missing_required("stock_counts", partial)] == ["warehouse"]
