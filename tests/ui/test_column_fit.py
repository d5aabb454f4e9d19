"""How ColumnFitter shares a table's width (ui/column_fit.py), on a plain model."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from erpgo_desktop.ui.column_fit import ColumnFitter, Fit, share_room

SKU = "LONG-SKU-" + "X" * 91


def test_sharing_gives_short_texts_all_they_need_and_cuts_the_longest_alike() -> None:
    assert share_room([100, 200], [50, 50], 400) == [100, 200]  # room for all
    assert share_room([100, 300, 500], [50, 50, 50], 600) == [100, 250, 250]
    assert share_room([100, 300], [80, 120], 100) == [80, 120]  # never below the floors


def _view(qtbot: QtBot, rows: list[list[str]], fits: list[Fit], width: int) -> QTableView:
    model = QStandardItemModel(0, len(fits))
    model.setHorizontalHeaderLabels(["SKU", "Name", "Price"][: len(fits)])
    for row in rows:
        model.appendRow([QStandardItem(text) for text in row])
    view = QTableView()
    view.setModel(model)
    view.fitter = ColumnFitter(view, fits)  # type: ignore[attr-defined]
    qtbot.addWidget(view)
    view.resize(width, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_whole_columns_show_every_value_and_the_stretch_column_takes_the_rest(
    qtbot: QtBot,
) -> None:
    view = _view(
        qtbot,
        [["A-1", "Hammer", "12.50"], [SKU, "Saw", "1,234,567.00"]],
        [Fit.WHOLE, Fit.STRETCH, Fit.WHOLE],
        1200,
    )
    fitter = view.fitter  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: view.columnWidth(0) >= fitter.needed_width(0))
    for column in (0, 2):
        index = view.model().index(1, column)
        assert view.columnWidth(column) - 1 >= view.sizeHintForIndex(index).width()
    # The name takes what is left of the viewport.
    total = sum(view.columnWidth(column) for column in range(3))
    qtbot.waitUntil(lambda: sum(view.columnWidth(c) for c in range(3)) == view.viewport().width())
    assert total <= view.viewport().width()


def test_a_narrow_table_scrolls_rather_than_cut_a_code(qtbot: QtBot) -> None:
    view = _view(
        qtbot, [[SKU, "Saw with a long name", "1.00"]], [Fit.WHOLE, Fit.TEXT, Fit.WHOLE], 300
    )
    fitter = view.fitter  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: view.columnWidth(0) >= fitter.needed_width(0))
    assert view.columnWidth(0) > view.viewport().width()  # whole, and the view scrolls
    # The text column keeps at least its header or ten characters.
    assert view.columnWidth(1) >= view.horizontalHeader().sectionSizeHint(1)


def test_new_rows_widen_a_whole_column(qtbot: QtBot) -> None:
    view = _view(qtbot, [["A-1", "Hammer", "1.00"]], [Fit.WHOLE, Fit.STRETCH, Fit.WHOLE], 1000)
    before = view.columnWidth(0)
    model = view.model()
    assert isinstance(model, QStandardItemModel)
    model.appendRow([QStandardItem(SKU), QStandardItem("Saw"), QStandardItem("2.00")])
    qtbot.waitUntil(lambda: view.columnWidth(0) > before)
    index = model.index(1, 0)
    assert view.columnWidth(0) - 1 >= view.sizeHintForIndex(index).width()


def test_a_width_the_person_drags_is_kept_until_a_double_click_on_the_divider(
    qtbot: QtBot,
) -> None:
    view = _view(qtbot, [[SKU, "Saw", "1.00"]], [Fit.WHOLE, Fit.STRETCH, Fit.WHOLE], 1400)
    fitter = view.fitter  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: view.columnWidth(0) >= fitter.needed_width(0))
    header = view.horizontalHeader()
    divider = QPoint(header.sectionViewportPosition(0) + header.sectionSize(0) - 1, 5)
    QTest.mousePress(header.viewport(), Qt.MouseButton.LeftButton, pos=divider)
    QTest.mouseMove(header.viewport(), divider - QPoint(200, 0))
    QTest.mouseRelease(header.viewport(), Qt.MouseButton.LeftButton, pos=divider - QPoint(200, 0))
    dragged = view.columnWidth(0)
    assert dragged < fitter.needed_width(0)
    assert fitter.user_widths() == {0: dragged}
    fitter.fit()
    assert view.columnWidth(0) == dragged  # kept, though the SKU needs more

    fitter.forget_width(0)
    qtbot.waitUntil(lambda: view.columnWidth(0) >= fitter.needed_width(0))
