"""The import dialog: a file is read and mapped, Check lists every bad line, Import is
possible only after a clean check of the same file and columns, and writes the rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.importing import ImportResult
from erpgo_desktop.ui.import_dialog import ImportDialog
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, make_world
from tests.ui.seed import insert_category

WAIT = 20_000


@pytest.fixture
def world(engine: Engine) -> World:
    insert_category(engine, "Tools")
    return make_world(engine)


@pytest.fixture
def services(engine: Engine, runner: TaskRunner) -> Services:
    return build_services(engine)


def open_dialog(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World, kind: str = "products"
) -> ImportDialog:
    dialog = ImportDialog(services, runner, world.manager, kind)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def load(qtbot: QtBot, dialog: ImportDialog, path: Path) -> None:
    with qtbot.waitSignal(dialog.file_loaded, timeout=WAIT):
        dialog.load_file(path)


def run(qtbot: QtBot, dialog: ImportDialog, button_name: str) -> ImportResult:
    with qtbot.waitSignal(dialog.finished_run, timeout=WAIT) as done:
        getattr(dialog, button_name).click()
    result = done.args[0]
    assert isinstance(result, ImportResult)
    return result


def product_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM products")).scalar_one())


def test_check_lists_every_bad_line_and_import_stays_off(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    world: World,
    engine: Engine,
    tmp_path: Path,
) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "Item code;Product name;Category;Unit price\n"
        "A-1;Saw;Tools;20.00\n"
        "A-2;Drill;Tools;0\n"
        "A-3;Plane;Garden;5\n"
    )
    dialog = open_dialog(qtbot, services, runner, world)
    assert not dialog.check_button.isEnabled() and not dialog.import_button.isEnabled()
    load(qtbot, dialog, path)
    assert dialog.mapping() == {**dict.fromkeys(dialog.mapping()), **{
        "sku": 0, "name": 1, "category": 2, "price": 3}}  # fmt: skip
    assert dialog.preview.rowCount() == 3
    header = dialog.preview.verticalHeaderItem(0)
    assert header is not None and header.text() == "2"
    assert not dialog.import_button.isEnabled()

    result = run(qtbot, dialog, "check_button")
    assert [e.line for e in result.errors] == [3, 4]
    assert dialog.error_lines() == [
        "Line 3, Price: The price must be more than 0.",
        "Line 4, Category: There is no category named 'Garden'; create it first.",
    ]
    assert not dialog.import_button.isEnabled()
    assert "nothing was written" in dialog.summary.text()
    assert product_count(engine) == 0


def test_import_after_a_clean_check_of_the_same_mapping(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    world: World,
    engine: Engine,
    tmp_path: Path,
) -> None:
    path = tmp_path / "products.csv"
    path.write_text("SKU,Name,Category,Price,Cost\nA-1,Saw,Tools,20.00,8\nA-2,Drill,Tools,30,\n")
    dialog = open_dialog(qtbot, services, runner, world)
    load(qtbot, dialog, path)
    assert run(qtbot, dialog, "check_button") == ImportResult(2, 0, 0, (), dry_run=True)
    assert dialog.import_button.isEnabled() and dialog.import_button.isDefault()
    assert dialog.import_button.hasFocus()

    # Another column for the cost: what was checked is no longer what would be imported.
    dialog.set_column("cost", None)
    assert not dialog.import_button.isEnabled()
    dialog.set_column("cost", 4)
    assert not dialog.import_button.isEnabled()
    assert run(qtbot, dialog, "check_button").ok

    with qtbot.waitSignal(dialog.imported, timeout=WAIT) as imported:
        QTest.keyClick(dialog.import_button, Qt.Key.Key_Space)
    assert imported.args[0] == ImportResult(2, 0, 0)
    assert product_count(engine) == 2
    assert "added 2" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()  # a second import needs a new check


def test_stock_counts_from_xlsx_and_a_missing_required_column(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    world: World,
    engine: Engine,
    tmp_path: Path,
) -> None:
    from openpyxl import Workbook

    product = world.product()
    with engine.connect() as connection:
        sku = connection.execute(
            text("SELECT sku FROM products WHERE id = :p"), {"p": product}
        ).scalar_one()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["SKU", "Location", "Counted"])
    sheet.append([sku, "MAIN", 12])
    path = tmp_path / "counts.xlsx"
    workbook.save(path)

    dialog = open_dialog(qtbot, services, runner, world, "stock_counts")
    assert dialog.update_existing.isHidden()
    load(qtbot, dialog, path)
    dialog.set_column("warehouse", None)
    dialog.check_button.click()
    assert dialog.mapping_error.isVisible()
    assert "Warehouse code" in dialog.mapping_error.text()
    dialog.set_column("warehouse", 1)
    assert run(qtbot, dialog, "check_button") == ImportResult(0, 1, 0, (), dry_run=True)
    assert run(qtbot, dialog, "import_button") == ImportResult(0, 1, 0)
    assert world.stock(product, world.main) == (12, 0)


def test_an_unreadable_file_shows_its_message(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a workbook")
    dialog = open_dialog(qtbot, services, runner, world)
    load(qtbot, dialog, path)
    assert dialog.file_error.isVisible()
    assert "cannot be read" in dialog.file_error.text()
    assert not dialog.check_button.isEnabled()
