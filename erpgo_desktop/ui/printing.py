"""Printing an order's documents: order confirmation, packing slip and pick list.

The content comes from `services.documents.DocumentService`, fetched off the GUI thread;
here it is laid out as HTML in a QTextDocument (company block, title, order and
addresses, a table of lines, totals) and painted page by page onto a QPrinter with a
footer naming the order and "Page n of m". The same painting serves the print preview,
the print dialog and PDF files.

`DocumentActions` is what a window wires up: `preview`, `print_document` and `save_pdf`
for an order id; `add_document_actions` puts Print… (Ctrl+P: the confirmation), Preview
and Save as PDF of each document into a menu (the order dialog's Actions menu), and
`add_print_menu` makes a Print submenu of them (the main window's Sales menu).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QObject, QRectF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QFont,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPainter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QMenu, QWidget

from erpgo_desktop.config import CompanyInfo
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.errors import ErpError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.documents import (
    DocumentHeader,
    DocumentService,
    OrderConfirmation,
    PackingLine,
    PackingSlip,
    PickLine,
    PickList,
)
from erpgo_desktop.ui import files, icons
from erpgo_desktop.ui.tasks import FailureHandler, TaskRunner, show_failure

__all__ = [
    "Document",
    "DocumentActions",
    "DocumentKind",
    "DocumentMenu",
    "document_html",
    "fetch_document",
    "paint_document",
    "print_to_pdf",
    "text_document",
]

Document = OrderConfirmation | PackingSlip | PickList


class DocumentKind(enum.Enum):
    CONFIRMATION = "Order confirmation"
    PACKING_SLIP = "Packing slip"
    PICK_LIST = "Pick list"

    @property
    def title(self) -> str:
        return self.value

    @property
    def file_stem(self) -> str:
        return self.name.lower().replace("_", "-")


def fetch_document(
    documents: DocumentService, acting: CurrentUser, kind: DocumentKind, order_id: uuid.UUID
) -> Document:
    """The document's content from the database: for a worker thread."""
    if kind is DocumentKind.CONFIRMATION:
        return documents.order_confirmation(acting, order_id)
    if kind is DocumentKind.PACKING_SLIP:
        return documents.packing_slip(acting, order_id)
    return documents.pick_list(acting, order_id)


def kind_of(document: Document) -> DocumentKind:
    if isinstance(document, OrderConfirmation):
        return DocumentKind.CONFIRMATION
    if isinstance(document, PackingSlip):
        return DocumentKind.PACKING_SLIP
    return DocumentKind.PICK_LIST


# --- HTML ---------------------------------------------------------------------------------

#: Qt's rich text knows a subset of CSS 2.1: enough for cell padding, borders and colours.
_STYLE = """
body { color: #111; }
h1 { font-size: 15pt; margin: 0; }
.company { font-size: 12pt; font-weight: bold; }
.muted { color: #555; }
.label { color: #555; font-size: 7.5pt; }
table.lines { border-collapse: collapse; }
table.lines th { background-color: #e6e6e6; font-weight: bold; padding: 3px 5px;
                 border-bottom: 1px solid #888; }
table.lines td { padding: 3px 5px; border-bottom: 1px solid #d0d0d0; }
table.totals td { padding: 2px 5px; }
td.num, th.num { text-align: right; }
tr.grand td { font-weight: bold; border-top: 1px solid #111; }
h2 { font-size: 11pt; margin-top: 10px; margin-bottom: 3px; }
"""


_SIGNATURE = (
    '<p style="margin-top: 28px;">{who} ______________________ &nbsp;&nbsp;&nbsp; '
    "Date ______________ &nbsp;&nbsp;&nbsp; Checked ______________________</p>"
)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _count(value: int) -> str:
    return f"{value:,}"


def _date(value: datetime | None) -> str:
    return "" if value is None else f"{value.astimezone():%Y-%m-%d}"


def _lines_html(lines: Iterable[str]) -> str:
    return "<br>".join(escape(line) for line in lines)


def _company_html(company: CompanyInfo) -> str:
    if not company.name and not company.address_lines:
        return ""
    contact = " · ".join(
        text for text in (f"Phone {company.phone}" if company.phone else None, company.email)
        if text
    )  # fmt: skip
    lines = [*company.address_lines, contact, f"Tax ID {company.tax_id}" if company.tax_id else ""]
    return (
        f'<div class="company">{escape(company.name)}</div>'
        f'<div class="muted">{_lines_html(line for line in lines if line)}</div>'
    )


def _head_html(title: str, header: DocumentHeader, facts: Sequence[tuple[str, str]]) -> str:
    """Company on the left, title and the order's facts on the right, then the addresses."""
    fact_rows = "".join(
        f'<tr><td class="label">{escape(label)}</td><td>{escape(value)}</td></tr>'
        for label, value in facts
        if value
    )
    customer = header.customer_name + (f" ({header.customer_code})" if header.customer_code else "")
    return f"""
<table width="100%" cellspacing="0" cellpadding="0"><tr>
  <td width="55%" valign="top">{_company_html(header.company)}</td>
  <td width="45%" valign="top" align="right">
    <h1>{escape(title)}</h1>
    <table cellspacing="0" cellpadding="1" align="right">
      <tr><td class="label">Order</td><td><b>{escape(header.order_number)}</b></td></tr>
      <tr><td class="label">Order date</td><td>{_date(header.order_date)}</td></tr>
      {fact_rows}
    </table>
  </td>
</tr></table>
<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 14px;"><tr>
  <td width="34%" valign="top"><span class="label">CUSTOMER</span><br>{escape(customer)}</td>
  <td width="33%" valign="top"><span class="label">SHIP TO</span><br>
    {_lines_html(header.shipping_address)}</td>
  <td width="33%" valign="top"><span class="label">BILL TO</span><br>
    {_lines_html(header.billing_address)}</td>
</tr></table>
<p style="margin-top: 0; margin-bottom: 0; font-size: 9pt;">&nbsp;</p>
"""


def _notes_html(header: DocumentHeader) -> str:
    if not header.notes:
        return ""
    return f'<p><span class="label">NOTES</span><br>{_lines_html(header.notes)}</p>'


def _table_html(columns: Sequence[tuple[str, bool, int]], rows: Iterable[Sequence[str]]) -> str:
    """A table of lines; `columns` are (heading, is a number: right-aligned, width in %)."""
    head = "".join(
        f'<th width="{width}%" class="{"num" if numeric else "text"}" '
        f'align="{"right" if numeric else "left"}">{escape(heading)}</th>'
        for heading, numeric, width in columns
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num" align="right">{escape(cell)}</td>'
            if numeric
            else f"<td>{escape(cell)}</td>"
            for cell, (_, numeric, _) in zip(row, columns, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        '<table class="lines" width="100%" cellspacing="0" cellpadding="3">'
        f"<thead><tr>{head}</tr></thead>{body}</table>"
    )


def _totals_html(rows: Sequence[tuple[str, str, bool]]) -> str:
    """Label and amount pairs under the lines, right-aligned; the bold ones last."""
    body = "".join(
        f'<tr class="{"grand" if bold else ""}"><td align="right">'
        + (f"<b>{escape(label)}</b>" if bold else escape(label))
        + '</td><td class="num" align="right">'
        + (f"<b>{escape(value)}</b>" if bold else escape(value))
        + "</td></tr>"
        for label, value, bold in rows
    )
    return (
        f'<p></p><table class="totals" align="right" cellspacing="0" cellpadding="2">{body}</table>'
    )


def _confirmation_html(doc: OrderConfirmation) -> str:
    header = doc.header
    facts = [
        ("Status", code_label(header.status)),
        ("Required by", _date(header.required_date)),
        ("Shipping", code_label(header.shipping_method)),
        ("Currency", doc.currency),
    ]
    table = _table_html(
        [("SKU", False, 15), ("Description", False, 35), ("Qty", True, 7),
         ("Unit price", True, 11), ("Discount", True, 10), ("Tax", True, 9),
         ("Amount", True, 13)],
        (
            (line.sku, line.name, _count(line.quantity), _money(line.unit_price),
             _money(line.discount) if line.discount else "", _money(line.tax),
             _money(line.amount))
            for line in doc.lines
        ),
    )  # fmt: skip
    totals: list[tuple[str, str, bool]] = [("Subtotal", _money(doc.subtotal), False)]
    if doc.discount:
        totals.append(("Discount", f"-{_money(doc.discount)}", False))
    totals += [
        ("Tax", _money(doc.tax), False),
        ("Shipping", _money(doc.shipping), False),
        (f"Total {doc.currency}", _money(doc.total), True),
    ]
    if doc.paid:
        totals += [("Paid", f"-{_money(doc.paid)}", False)]
        totals += [(f"Balance due {doc.currency}", _money(doc.balance_due), True)]
    return (
        _head_html("Order confirmation", header, facts)
        + table
        + _totals_html(totals)
        + _notes_html(header)
        + '<p class="muted">Thank you for your order.</p>'
    )


def _packing_slip_html(doc: PackingSlip) -> str:
    header = doc.header
    facts = [
        ("Shipping", code_label(header.shipping_method)),
        ("Carrier", doc.carrier or ""),
        ("Tracking", doc.tracking_number or ""),
        ("Shipped", _date(doc.shipped_at)),
    ]
    # The description takes the backorder column's width when there is none.
    described = 40 if doc.has_backorders else 52
    columns = [("SKU", False, 18), ("Description", False, described), ("Ordered", True, 10),
               ("Shipped", True, 10), ("To ship", True, 10)]  # fmt: skip
    if doc.has_backorders:
        columns.append(("Backordered", True, 12))

    def row(line: PackingLine) -> list[str]:
        cells = [line.sku, line.name, _count(line.ordered), _count(line.shipped),
                 _count(line.to_ship)]  # fmt: skip
        if doc.has_backorders:
            cells.append(_count(line.backordered))
        return cells

    table = _table_html(columns, (row(line) for line in doc.lines))
    totals = [("Total weight", f"{doc.total_weight:,.3f} kg", False)]
    return (
        _head_html("Packing slip", header, facts)
        + table
        + _totals_html(totals)
        + _notes_html(header)
        + _SIGNATURE.format(who="Packed by")
    )


def _pick_table(lines: Sequence[PickLine]) -> str:
    return _table_html(
        [("✓", False, 4), ("SKU", False, 22), ("Description", False, 62), ("Pick", True, 12)],
        (("☐", line.sku, line.name, _count(line.quantity)) for line in lines),
    )


def _pick_list_html(doc: PickList) -> str:
    header = doc.header
    facts = [
        ("Status", code_label(header.status)),
        ("Required by", _date(header.required_date)),
        ("Shipping", code_label(header.shipping_method)),
    ]
    parts = [_head_html("Pick list", header, facts)]
    if not doc.groups:
        parts.append("<p><b>Nothing is reserved in a warehouse for this order.</b></p>")
    for group in doc.groups:
        name = group.warehouse_code
        if group.warehouse_name != group.warehouse_code:
            name = f"{name} — {group.warehouse_name}"
        parts.append(
            f"<h2>Warehouse {escape(name)}"
            f' <span class="muted">({_count(group.total_quantity)} items)</span></h2>'
        )
        parts.append(_pick_table(group.lines))
    if doc.not_stocked:
        parts.append("<h2>Not kept in stock</h2>")
        parts.append(_pick_table(doc.not_stocked))
    if doc.waiting:
        parts.append('<h2>Waiting for stock <span class="muted">(backordered)</span></h2>')
        parts.append(
            _table_html(
                [("SKU", False, 26), ("Description", False, 62), ("Waiting", True, 12)],
                ((line.sku, line.name, _count(line.quantity)) for line in doc.waiting),
            )
        )
    parts.append(_notes_html(header))
    parts.append(_SIGNATURE.format(who="Picked by"))
    return "".join(parts)


def document_html(document: Document) -> str:
    """The document as the HTML subset QTextDocument lays out."""
    if isinstance(document, OrderConfirmation):
        body = _confirmation_html(document)
    elif isinstance(document, PackingSlip):
        body = _packing_slip_html(document)
    else:
        body = _pick_list_html(document)
    return f"<html><head><style>{_STYLE}</style></head><body>{body}</body></html>"


def _font(points: float) -> QFont:
    font = QFont("DejaVu Sans")
    font.setPointSizeF(points)
    # Ligatures (fi, fl) would come out of the PDF as one character each, which copying
    # and searching the text then miss.
    font.setFeature(QFont.Tag("liga"), 0)
    return font


def text_document(document: Document) -> QTextDocument:
    text = QTextDocument()
    text.setDefaultFont(_font(8))
    text.setHtml(document_html(document))
    return text


# --- Painting -----------------------------------------------------------------------------


def _set_up(printer: QPrinter) -> None:
    """A4 with 15 mm margins, unless the user chose otherwise in a print dialog."""
    printer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 12),
            QPageLayout.Unit.Millimeter,
        )
    )


def paint_document(document: Document, printer: QPrinter) -> None:
    """Lay the document out for the printer's page and paint it, a footer on every page.

    QTextDocument.print_ numbers pages but cannot say which order a loose page belongs
    to, so the pages are painted here: the document is laid out at the printer's
    resolution and each page's slice drawn, then the footer.
    """
    text = text_document(document)
    text.documentLayout().setPaintDevice(printer)
    text.setDocumentMargin(0)
    page = printer.pageRect(QPrinter.Unit.DevicePixel)
    dpi = printer.resolution()
    footer_height = dpi * 0.35  # inches
    body = QSizeF(page.width(), page.height() - footer_height)
    text.setPageSize(body)
    pages = text.pageCount()
    footer = f"{kind_of(document).title} · order {document.header.order_number}"
    printed = f"Printed {document.header.printed_at:%Y-%m-%d %H:%M}"

    painter = QPainter()
    if not painter.begin(printer):
        raise ErpError("The printer or file cannot be written to.")
    try:
        small = _font(7)
        for number in range(pages):
            if number:
                printer.newPage()
            top = number * body.height()
            painter.save()
            painter.translate(0, -top)
            text.drawContents(painter, QRectF(0, top, body.width(), body.height()))
            painter.restore()
            painter.setFont(small)
            painter.setPen(Qt.GlobalColor.darkGray)
            strip = QRectF(0, body.height(), body.width(), footer_height)
            bottom = Qt.AlignmentFlag.AlignBottom
            painter.drawText(strip, Qt.AlignmentFlag.AlignLeft | bottom, footer)
            painter.drawText(strip, Qt.AlignmentFlag.AlignHCenter | bottom, printed)
            painter.drawText(
                strip, Qt.AlignmentFlag.AlignRight | bottom, f"Page {number + 1} of {pages}"
            )
    finally:
        painter.end()


def pdf_printer(path: str | Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    _set_up(printer)
    return printer


def print_to_pdf(document: Document, path: str | Path) -> None:
    """Write the document to a PDF file (on the GUI thread: QPrinter is painted there)."""
    printer = pdf_printer(path)
    printer.setDocName(f"{kind_of(document).title} {document.header.order_number}")
    paint_document(document, printer)


# --- Actions for a window -----------------------------------------------------------------


class DocumentActions(QObject):
    """Print, preview or save as PDF the documents of an order.

    Each action first fetches the document on the task runner, then opens its dialog
    (non-modal, with open()) or writes the file on the GUI thread. Failures go to the
    `on_failure` (by default a message box over `parent`) and to `failed`.
    """

    #: A preview dialog was opened (QPrintPreviewDialog): tests and callers may drive it.
    preview_opened = Signal(object)
    #: A print dialog was opened (QPrintDialog).
    print_dialog_opened = Signal(object)
    #: A PDF was written: its path.
    pdf_saved = Signal(str)
    failed = Signal(object)

    def __init__(
        self,
        documents: DocumentService,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
        *,
        on_failure: FailureHandler | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_failure = on_failure or (lambda error: show_failure(parent, error))
        self.documents = documents
        self.runner = runner
        self.acting = acting
        self._parent = parent
        self._pending = 0
        #: The last "PDF saved" message (tests read it).
        self.saved_message: files.SavedFileMessage | None = None
        #: What `add_print_menu` made.
        self.print_section: DocumentMenu | None = None

    def use(self, documents: DocumentService, acting: CurrentUser) -> None:
        """Go on for `acting` (someone signed in again over an open window)."""
        self.documents = documents
        self.acting = acting

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def allowed(self) -> bool:
        return self.acting.can(perms.ORDERS_READ)

    def _fetch(
        self, kind: DocumentKind, order_id: uuid.UUID, then: Callable[[Document], None]
    ) -> None:
        self._pending += 1
        documents, acting = self.documents, self.acting

        def done(document: Document) -> None:
            self._pending -= 1
            try:
                then(document)
            except ErpError as error:
                self._fail(error)

        def failed(error: BaseException) -> None:
            self._pending -= 1
            self._fail(error)

        self.runner.run(
            lambda: fetch_document(documents, acting, kind, order_id), done, failed, owner=self
        )

    def _fail(self, error: BaseException) -> None:
        self.failed.emit(error)
        self._on_failure(error)

    def preview(self, kind: DocumentKind, order_id: uuid.UUID) -> None:
        """Open a print preview of the document (from which it can be printed)."""
        self._fetch(kind, order_id, self._open_preview)

    def _open_preview(self, document: Document) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        _set_up(printer)
        printer.setDocName(f"{kind_of(document).title} {document.header.order_number}")
        dialog = QPrintPreviewDialog(printer, self._parent)
        dialog.setWindowTitle(f"{kind_of(document).title} {document.header.order_number}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.paintRequested.connect(lambda target: paint_document(document, target))
        # The printer must live as long as the dialog, which only borrows it.
        printer_holder = _PrinterHolder(printer, dialog)
        dialog.destroyed.connect(printer_holder.deleteLater)
        dialog.open()
        self.preview_opened.emit(dialog)

    def print_document(self, kind: DocumentKind, order_id: uuid.UUID) -> None:
        """Open the print dialog; the document prints when it is accepted."""
        self._fetch(kind, order_id, self._open_print_dialog)

    def _open_print_dialog(self, document: Document) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        _set_up(printer)
        printer.setDocName(f"{kind_of(document).title} {document.header.order_number}")
        dialog = QPrintDialog(printer, self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _PrinterHolder(printer, dialog)
        dialog.accepted.connect(lambda: self._print(document, printer))
        # What open() does; QPrintDialog's open() is typed only with a receiver.
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        self.print_dialog_opened.emit(dialog)

    def _print(self, document: Document, printer: QPrinter) -> None:
        try:
            paint_document(document, printer)
        except ErpError as error:
            self._fail(error)
            return
        # "Print to file" in the print dialog writes a file the user asked for: say where.
        if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
            path = Path(printer.outputFileName())
            self.pdf_saved.emit(str(path))
            self.saved_message = files.show_saved(
                self._parent,
                path,
                f"Printed the {kind_of(document).title.lower()} of order "
                f"{document.header.order_number} to {path.name}.",
                title="PDF saved",
            )

    def save_pdf(self, kind: DocumentKind, order_id: uuid.UUID, path: str | Path) -> None:
        """Write the document to `path` as PDF; `pdf_saved` tells when it is there."""

        def write(document: Document) -> None:
            print_to_pdf(document, path)
            self.pdf_saved.emit(str(path))

        self._fetch(kind, order_id, write)

    def ask_and_save_pdf(self, kind: DocumentKind, order_id: uuid.UUID, number: str) -> None:
        """Ask where to save (ui/files.py: the folder used last), then `save_pdf`, then
        say where the file is, with Open and Show in folder."""
        path = files.ask_save_path(
            self._parent,
            f"Save {kind.title.lower()} as PDF",
            f"{kind.file_stem}-{number}.pdf",
            PDF_FILTER,
            default_suffix=".pdf",
        )
        if path is None:
            return

        def write(document: Document) -> None:
            print_to_pdf(document, path)
            self.pdf_saved.emit(str(path))
            self.saved_message = files.show_saved(
                self._parent,
                path,
                f"Saved the {kind.title.lower()} of order {number} as {path.name}.",
                title="PDF saved",
            )

        self._fetch(kind, order_id, write)

    def add_document_actions(self, menu: QMenu, with_order: WithOrder) -> DocumentMenu:
        """Print…, Preview and Save as PDF of each document, added to `menu`.

        `with_order(act)` calls `act(order_id, order_number)` with the order to print,
        now or once it is ready (an order dialog saves what was typed first), or not at
        all when there is none. Ctrl+P is "Print order confirmation…"; the caller adds
        the action to its window (`QWidget.addAction`) for the key to work there."""

        def act(kind: DocumentKind, how: str) -> Callable[[bool], None]:
            def run(order_id: uuid.UUID, number: str) -> None:
                if how == "print":
                    self.print_document(kind, order_id)
                elif how == "preview":
                    self.preview(kind, order_id)
                else:
                    self.ask_and_save_pdf(kind, order_id, number)

            def chosen(_checked: bool = False) -> None:
                # Once the menu has closed and finished with the key that chose it.
                QTimer.singleShot(0, lambda: with_order(run))

            return chosen

        printing: dict[DocumentKind, QAction] = {}
        for kind, label in PRINT_LABELS.items():
            action = QAction(icons.icon("print"), label, menu)
            action.triggered.connect(act(kind, "print"))
            menu.addAction(action)
            printing[kind] = action
        printing[DocumentKind.CONFIRMATION].setShortcut(QKeySequence.StandardKey.Print)
        section = DocumentMenu(
            print=printing,
            preview={},
            pdf={},
            preview_menu=menu.addMenu(icons.icon("preview"), "Pre&view"),
            pdf_menu=menu.addMenu(icons.icon("pdf"), "Sav&e as PDF"),
        )
        for kind, label in DOCUMENT_LABELS.items():
            preview = QAction(label, section.preview_menu)
            preview.triggered.connect(act(kind, "preview"))
            section.preview_menu.addAction(preview)
            section.preview[kind] = preview
            pdf = QAction(f"{label}…", section.pdf_menu)
            pdf.triggered.connect(act(kind, "pdf"))
            section.pdf_menu.addAction(pdf)
            section.pdf[kind] = pdf
        section.set_visible(self.allowed)
        return section

    def add_print_menu(
        self, menu: QMenu, order: Callable[[], tuple[uuid.UUID, str] | None]
    ) -> QMenu:
        """A "&Print" submenu of `menu` with `add_document_actions`, for the order that
        `order` gives (None: nothing to print) when an action is chosen."""
        submenu = menu.addMenu(icons.icon("print"), "&Print")

        def with_order(act: Callable[[uuid.UUID, str], None]) -> None:
            current = order()
            if current is not None:
                act(*current)

        self.print_section = self.add_document_actions(submenu, with_order)
        submenu.setEnabled(self.allowed)
        return submenu


#: Print actions: their mnemonics avoid those of an order dialog's Actions menu.
PRINT_LABELS = {
    DocumentKind.CONFIRMATION: "Pr&int order confirmation…",
    DocumentKind.PACKING_SLIP: "Print packin&g slip…",
    DocumentKind.PICK_LIST: "Print pic&k list…",
}
DOCUMENT_LABELS = {
    DocumentKind.CONFIRMATION: "Order &confirmation",
    DocumentKind.PACKING_SLIP: "&Packing slip",
    DocumentKind.PICK_LIST: "Pic&k list",
}
PDF_FILTER = "PDF files (*.pdf)"
WithOrder = Callable[[Callable[[uuid.UUID, str], None]], None]


@dataclass
class DocumentMenu:
    """The document actions `add_document_actions` made, by document."""

    print: dict[DocumentKind, QAction]
    preview: dict[DocumentKind, QAction]
    pdf: dict[DocumentKind, QAction]
    preview_menu: QMenu
    pdf_menu: QMenu

    def actions(self) -> list[QAction]:
        return [
            *self.print.values(),
            self.preview_menu.menuAction(),
            self.pdf_menu.menuAction(),
            *self.preview.values(),
            *self.pdf.values(),
        ]

    def set_visible(self, visible: bool) -> None:
        for action in (*self.print.values(), self.preview_menu.menuAction(),
                       self.pdf_menu.menuAction()):  # fmt: skip
            action.setVisible(visible)

    def set_enabled(self, enabled: bool) -> None:
        for action in (*self.print.values(), self.preview_menu.menuAction(),
                       self.pdf_menu.menuAction()):  # fmt: skip
            action.setEnabled(enabled)


class _PrinterHolder(QObject):
    """Keeps a QPrinter (not a QObject) alive as long as its dialog."""

    def __init__(self, printer: QPrinter, dialog: QObject) -> None:
        super().__init__(dialog)
        self.printer = printer
