"""Printing from the order window: Ctrl+P prints the confirmation (here through the print
dialog to a PDF file, as a person choosing "Print to File" would), and the Actions menu
has Print…, Preview and Save as PDF of the confirmation, the packing slip and the pick
list. Every file written ends with the message naming it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtPrintSupport import QPrintDialog, QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QLineEdit
from pytestqt.qtbot import QtBot

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.ui import files
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.printing import DocumentKind
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, world

__all__ = ["world"]  # the module-scoped fixture

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def services(world: World, runner: TaskRunner) -> Iterator[Services]:
    yield build_services(world.engine)
    assert runner.wait(10_000)


def open_order(
    qtbot: QtBot, services: Services, runner: TaskRunner, acting: CurrentUser, order_id: uuid.UUID
) -> OrderDialog:
    dialog = OrderDialog(services, runner, acting, order_id)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.row is not None and not dialog.loading)
    return dialog


def pdf_text(path: Path) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages)


def test_ctrl_p_prints_the_confirmation_and_says_where_the_file_went(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner, tmp_path: Path
) -> None:
    product = world.product("12.50", stock={world.main: 5})
    order = world.pending([(product, 3)])
    dialog = open_order(qtbot, services, runner, world.sales, order.id)
    printing = dialog.document_actions.print[DocumentKind.CONFIRMATION]
    assert printing.shortcut() == QKeySequence(QKeySequence.StandardKey.Print)
    assert printing.isVisible() and printing.isEnabled()

    focus = QApplication.focusWidget()
    assert focus is not None and focus.window() is dialog
    with qtbot.waitSignal(dialog.documents.print_dialog_opened, timeout=10_000) as opened:
        qtbot.keyClick(focus, Qt.Key.Key_P, CTRL)
    print_dialog = opened.args[0]
    assert isinstance(print_dialog, QPrintDialog)
    qtbot.waitUntil(print_dialog.isVisible)
    # Qt's own print dialog (no printer here): "Print to File (PDF)", and a file name.
    printers = print_dialog.findChild(QComboBox, "printers")
    assert printers is not None and "Print to File (PDF)" in printers.currentText()
    target = tmp_path / "printed.pdf"
    name = print_dialog.findChild(QLineEdit, "filename")
    assert name is not None
    name.setText(str(target))
    with qtbot.waitSignal(dialog.documents.pdf_saved, timeout=10_000) as saved:
        print_dialog.accept()
    assert saved.args == [str(target)]
    text = pdf_text(target)
    assert "Order confirmation" in text and order.order_number in text
    assert "Total" in text and "12.50" in text

    message = dialog.documents.saved_message
    assert message is not None and message.isVisible()
    assert target.name in message.text() and order.order_number in message.text()
    assert message.open_button.text() == "&Open"
    assert message.folder_button.text() == "Show in &folder"
    message.close_button.click()


class SaveDialog:
    """QFileDialog.getSaveFileName answered with a file; records where it opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, answer: Path) -> None:
        self.started_in: list[str] = []
        self.answer = answer
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._answer)

    def _answer(self, *args: Any) -> tuple[str, str]:
        self.started_in.append(args[2])
        return str(self.answer), args[3]


def test_the_actions_menu_previews_and_saves_each_document(
    qtbot: QtBot,
    world: World,
    services: Services,
    runner: TaskRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    product = world.product("4.00", stock={world.main: 9})
    order = world.confirmed([(product, 2)])
    dialog = open_order(qtbot, services, runner, world.clerk, order.id)
    documents = dialog.document_actions
    menu = dialog.more_menu
    assert dialog.more_button.isVisible()
    # All three documents, each to print, preview and save, in the Actions menu.
    texts = [action.text() for action in menu.actions()]
    for kind in DocumentKind:
        assert documents.print[kind] in menu.actions()
        for action in (documents.print[kind], documents.preview[kind], documents.pdf[kind]):
            assert action.isEnabled(), action.text()
    assert "Pre&view" in texts and "Sav&e as PDF" in texts
    assert not documents.print[DocumentKind.PICK_LIST].icon().isNull()

    with qtbot.waitSignal(dialog.documents.preview_opened, timeout=10_000) as opened:
        documents.preview[DocumentKind.PACKING_SLIP].trigger()
    preview = opened.args[0]
    assert isinstance(preview, QPrintPreviewDialog)
    assert preview.windowTitle() == f"Packing slip {order.order_number}"
    preview.close()

    start = files.start_folder()
    target = tmp_path / "saved" / "pick.pdf"
    target.parent.mkdir()
    dialogs = SaveDialog(monkeypatch, target)
    with qtbot.waitSignal(dialog.documents.pdf_saved, timeout=10_000):
        documents.pdf[DocumentKind.PICK_LIST].trigger()
    assert dialogs.started_in == [str(start / f"pick-list-{order.order_number}.pdf")]
    text = pdf_text(target)
    assert "Pick list" in text and order.order_number in text
    message = dialog.documents.saved_message
    assert message is not None and "pick.pdf" in message.text()
    message.close_button.click()
    # The next file dialog opens where this file went.
    with qtbot.waitSignal(dialog.documents.pdf_saved, timeout=10_000):
        documents.pdf[DocumentKind.CONFIRMATION].trigger()
    assert dialogs.started_in[1] == str(target.parent / f"confirmation-{order.order_number}.pdf")
    dialog.documents.saved_message.close_button.click()  # type: ignore[union-attr]


def test_printing_what_was_just_typed_saves_it_first(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product("7.00", stock={world.main: 4})
    order = world.pending([(product, 1)])
    dialog = open_order(qtbot, services, runner, world.manager, order.id)
    priorities = dialog.priority
    priorities.setCurrentIndex((priorities.currentIndex() + 1) % priorities.count())
    wanted = priorities.currentData()
    assert dialog.dirty

    with qtbot.waitSignal(dialog.documents.preview_opened, timeout=10_000) as opened:
        dialog.document_actions.preview[DocumentKind.CONFIRMATION].trigger()
    opened.args[0].close()
    assert not dialog.dirty
    assert services.orders.get_order(world.manager, order.id).priority == wanted


def test_a_new_order_has_nothing_to_print_yet(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    dialog = OrderDialog(services, runner, world.sales)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.document_actions.print[DocumentKind.CONFIRMATION].isEnabled()
    assert not dialog.document_actions.pdf_menu.menuAction().isEnabled()
