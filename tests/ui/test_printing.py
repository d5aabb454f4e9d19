"""Printed documents of a real order, written to PDF through DocumentActions and read back
with pypdf: the company, the order, every line's SKU and quantity, and the totals."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import PermissionDeniedError
from erpgo_desktop.services.documents import (
    DocumentHeader,
    DocumentService,
    OrderConfirmation,
    PricedLine,
)
from erpgo_desktop.ui.printing import DocumentActions, DocumentKind, print_to_pdf
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_documents import COMPANY, DocumentOrder, document_order
from tests.services.test_orders_support import World, world
from tests.ui.conftest import FailureLog

__all__ = ["world"]  # the module-scoped fixture


@pytest.fixture
def documents(world: World, runner: TaskRunner) -> DocumentService:
    return DocumentService(make_session_factory(world.engine), COMPANY)


@pytest.fixture
def seeded(world: World) -> DocumentOrder:
    return document_order(world)


def pdf_pages(path: Path) -> list[str]:
    """Each page's text, whitespace made single spaces."""
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


def save(
    qtbot: QtBot, actions: DocumentActions, kind: DocumentKind, order_id: uuid.UUID, path: Path
) -> str:
    with qtbot.waitSignal(actions.pdf_saved, timeout=10_000) as saved:
        actions.save_pdf(kind, order_id, path)
    assert saved.args == [str(path)]
    text = " ".join(pdf_pages(path))
    for expected in (COMPANY.name, *COMPANY.address_lines, "Page 1 of 1"):
        assert expected in text
    return text


@pytest.fixture
def actions(
    world: World, documents: DocumentService, runner: TaskRunner, unhandled_failures: FailureLog
) -> DocumentActions:
    """Actions of a warehouse clerk; a failure lands in the list the runner fixture checks."""
    return DocumentActions(documents, runner, world.clerk, on_failure=unhandled_failures.append)


def test_the_confirmation_pdf_holds_the_lines_and_the_totals(
    qtbot: QtBot, actions: DocumentActions, seeded: DocumentOrder, tmp_path: Path
) -> None:
    text = save(qtbot, actions, DocumentKind.CONFIRMATION, seeded.order.id, tmp_path / "c.pdf")
    order = seeded.order
    assert "Order confirmation" in text and order.order_number in text
    for line in order.lines:
        # One row: SKU, name, quantity, unit price, ..., amount.
        row = re.search(
            rf"{re.escape(line.sku)} {re.escape(line.name)} {line.quantity} "
            rf"{line.unit_price:,.2f} .*?{line.final_price:,.2f}",
            text,
        )
        assert row, f"no row for {line.sku} in {text!r}"
    totals = (
        f"Subtotal {order.subtotal:,.2f} Discount -{order.discount_amount:,.2f} "
        f"Tax {order.tax_amount:,.2f} Shipping {order.shipping_amount:,.2f} "
        f"Total USD {order.total_amount:,.2f}"
    )
    assert totals in text
    assert "Deliver to the loading dock." in text and "Never printed." not in text


def test_the_packing_slip_pdf_holds_the_quantities_and_no_prices(
    qtbot: QtBot, actions: DocumentActions, seeded: DocumentOrder, tmp_path: Path
) -> None:
    text = save(qtbot, actions, DocumentKind.PACKING_SLIP, seeded.order.id, tmp_path / "p.pdf")
    assert "Packing slip" in text and seeded.order.order_number in text
    for line in seeded.order.lines:
        # SKU, name, ordered, shipped, to ship.
        assert f"{line.sku} {line.name} {line.quantity} 0 {line.quantity}" in text
        assert f"{line.unit_price:,.2f}" not in text
    assert "Total weight" in text and "Packed by" in text


def test_the_pick_list_pdf_walks_each_warehouse_in_shelf_order(
    qtbot: QtBot, actions: DocumentActions, seeded: DocumentOrder, tmp_path: Path
) -> None:
    text = save(qtbot, actions, DocumentKind.PICK_LIST, seeded.order.id, tmp_path / "k.pdf")
    assert "Pick list" in text and seeded.order.order_number in text
    s = seeded.skus
    east_at, main_at = text.index("Warehouse EAST"), text.index("Warehouse MAIN")
    rest_at = text.index("Not kept in stock")
    assert east_at < main_at < rest_at
    east, main = text[east_at:main_at], text[main_at:rest_at]

    def picks(section: str) -> list[tuple[str, int]]:
        return [(sku, int(q)) for sku, q in re.findall(r"☐ (\S+) Item \S+ (\d+)", section)]

    assert picks(east) == [(s["c1"], 6), (s["d5"], 3)]
    assert picks(main) == [(s["a2"], 4), (s["b9"], 2), (s["b10"], 3), (s["d5"], 2)]
    assert picks(text[rest_at:]) == [(s["svc"], 1)]
    assert "(9 items)" in east and "(11 items)" in main


def test_a_long_document_numbers_its_pages(tmp_path: Path) -> None:
    header = DocumentHeader(
        company=COMPANY, order_id=uuid.uuid4(), order_number="2026-000042",
        order_date=datetime.now().astimezone(), status="CONFIRMED", customer_name="Ada",
        customer_code=None, shipping_address=("A",), billing_address=("B",),
        shipping_method="STANDARD", required_date=None, notes=(),
        printed_at=datetime.now().astimezone(),
    )  # fmt: skip
    price = Decimal("1.00")
    lines = tuple(
        PricedLine(f"SKU-{n:03}", f"Item {n}", n, price, Decimal(0), Decimal(0), n * price)
        for n in range(1, 151)
    )
    total = sum((line.amount for line in lines), Decimal(0))
    zero = Decimal("0.00")
    document = OrderConfirmation(
        header, "USD", "PENDING", lines, total, zero, zero, zero, zero, total, zero, total
    )
    print_to_pdf(document, tmp_path / "long.pdf")
    pages = pdf_pages(tmp_path / "long.pdf")
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert "Order confirmation · order 2026-000042" in page
        assert page.endswith(f"Page {number} of {len(pages)}"), page[-80:]
    text = " ".join(pages)
    assert all(f"SKU-{n:03}" in text for n in range(1, 151))
    assert f"Total USD {total:,.2f}" in pages[-1]

    unpaid = replace(document, paid=Decimal("10.00"), balance_due=total - 10)
    print_to_pdf(unpaid, tmp_path / "paid.pdf")
    assert f"Balance due USD {total - 10:,.2f}" in " ".join(pdf_pages(tmp_path / "paid.pdf"))


def test_the_preview_opens_without_blocking_and_paints_the_pages(
    qtbot: QtBot,
    world: World,
    documents: DocumentService,
    runner: TaskRunner,
    seeded: DocumentOrder,
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = DocumentActions(documents, runner, world.clerk, parent)
    with qtbot.waitSignal(actions.preview_opened, timeout=10_000) as opened:
        actions.preview(DocumentKind.PICK_LIST, seeded.order.id)
    dialog = opened.args[0]
    assert isinstance(dialog, QPrintPreviewDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert not actions.busy
    assert dialog.windowTitle() == f"Pick list {seeded.order.order_number}"
    dialog.close()


def test_a_refusal_reaches_the_failure_handler(
    qtbot: QtBot,
    world: World,
    documents: DocumentService,
    runner: TaskRunner,
    seeded: DocumentOrder,
    tmp_path: Path,
) -> None:
    nobody = replace(world.clerk, permissions=frozenset(), roles=())
    failures: list[BaseException] = []
    actions = DocumentActions(documents, runner, nobody, on_failure=failures.append)
    assert not actions.allowed
    with qtbot.waitSignal(actions.failed, timeout=10_000):
        actions.save_pdf(DocumentKind.CONFIRMATION, seeded.order.id, tmp_path / "no.pdf")
    assert len(failures) == 1 and isinstance(failures[0], PermissionDeniedError)
    assert not (tmp_path / "no.pdf").exists()
    assert not actions.busy


def test_the_print_menu(
    qtbot: QtBot,
    world: World,
    documents: DocumentService,
    runner: TaskRunner,
    seeded: DocumentOrder,
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = DocumentActions(documents, runner, world.clerk, parent)
    menu = QMenu(parent)
    current: list[tuple[uuid.UUID, str] | None] = [None]
    submenu = actions.add_print_menu(menu, lambda: current[0])
    assert submenu.title() == "&Print" and submenu.isEnabled()
    labels = [a.text() for a in submenu.actions()]
    assert labels == [
        "Pr&int order confirmation…", "Print packin&g slip…", "Print pic&k list…",
        "Pre&view", "Sav&e as PDF",
    ]  # fmt: skip
    section = actions.print_section
    assert section is not None
    assert [a.text() for a in section.preview_menu.actions()] == [
        "Order &confirmation", "&Packing slip", "Pic&k list",
    ]  # fmt: skip

    preview = section.preview[DocumentKind.PICK_LIST]
    preview.trigger()  # no order chosen: nothing happens
    QApplication.processEvents()  # the action runs once the menu is done with the event
    assert not actions.busy
    current[0] = (seeded.order.id, seeded.order.order_number)
    with qtbot.waitSignal(actions.preview_opened, timeout=10_000) as opened:
        preview.trigger()
    assert opened.args[0].windowTitle().startswith("Pick list")
    opened.args[0].close()

    nobody = replace(world.clerk, permissions=frozenset(), roles=())
    refused = DocumentActions(documents, runner, nobody, parent)
    assert not refused.add_print_menu(QMenu(parent), lambda: current[0]).isEnabled()
