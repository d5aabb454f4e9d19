"""Rules of the product catalog: categories, products and variants (business-rules.md).

Pure functions over plain input dataclasses: each `check_*` returns the input cleaned up
(blanks trimmed, empty optional text as None, amounts as Decimal with their scale) or
raises ValidationError naming the field. The services call them before writing; the
database constraints refuse the same things again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from urllib.parse import urlsplit

from erpgo_desktop.domain.money import parse_decimal, parse_money
from erpgo_desktop.domain.validation import (
    check_whole_number,
    clean_text,
    parse_whole_number,
    required_text,
    text_input,
)
from erpgo_desktop.errors import ValidationError

SKU = re.compile(r"[A-Za-z0-9_-]{1,100}")
MAX_STOCK_LEVEL = 999_999_999
MAX_DOWNLOADS = 9_999
MAX_EXPIRY_DAYS = 3_650
MAX_TAX_RATE = Decimal("100")
CATEGORY_PATH_LENGTH = 1_000  # product_categories.path is VARCHAR(1000)
CATEGORY_SEPARATOR = "/"
MAX_SORT_ORDER = 2_147_483_647  # INTEGER
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 200


# --- categories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryDraft:
    """What a person enters for a category; `parent_id` None makes it a top category."""

    name: str
    parent_id: uuid.UUID | None = None
    description: str | None = None
    sort_order: int = 0


def check_category(draft: CategoryDraft) -> CategoryDraft:
    name = check_category_name(draft.name)
    sort_order = _whole(
        draft.sort_order, "sort_order", "The sort order", -MAX_SORT_ORDER, MAX_SORT_ORDER
    )
    return replace(
        draft,
        name=name,
        description=_optional_text(draft.description, "description", "A description"),
        sort_order=sort_order,
    )


def check_category_name(name: str) -> str:
    """A category name: 1–200 characters without '/', which separates names in paths."""
    name = required_text(name, "name", "A category name", 200)
    if CATEGORY_SEPARATOR in name:
        raise ValidationError(
            "A category name cannot contain '/': it separates the names in a category's path.",
            field="name",
        )
    return name


def category_path(parent_path: str | None, name: str) -> str:
    """The materialized path of names from the root: '/Electronics/Phones/Smartphones'."""
    return f"{parent_path or ''}{CATEGORY_SEPARATOR}{name}"


def category_level(parent_level: int | None) -> int:
    """The depth, counted from 1 at the root."""
    return 1 if parent_level is None else parent_level + 1


def check_path_length(longest_path: int) -> None:
    """Refuse a rename or move that would make a path in the subtree too long."""
    if longest_path > CATEGORY_PATH_LENGTH:
        raise ValidationError(
            f"The category path would be {longest_path:,} characters long; "
            f"at most {CATEGORY_PATH_LENGTH:,} fit. Choose shorter names or a shallower place.",
            field="name",
        )


# --- products -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductDraft:
    """Every field of a product a person edits (stock is moved by the inventory service;
    active or not is changed by deactivate and reactivate)."""

    sku: str
    name: str
    category_id: uuid.UUID
    price: Decimal
    cost: Decimal = Decimal("0.00")
    description: str | None = None
    short_description: str | None = None
    weight: Decimal = Decimal("0.000")
    dimensions: str | None = None
    length: Decimal = Decimal("0.00")
    width: Decimal = Decimal("0.00")
    height: Decimal = Decimal("0.00")
    volume: Decimal = Decimal("0.000")
    barcode: str | None = None
    track_inventory: bool = True
    min_stock_level: int = 0
    max_stock_level: int = 0
    allow_backorder: bool = False
    requires_shipping: bool = True
    taxable: bool = True
    tax_rate: Decimal = Decimal("0.00")
    is_featured: bool = False
    is_digital: bool = False
    download_url: str | None = None
    max_downloads: int = 0
    expiry_days: int = 0


def check_product(draft: ProductDraft) -> ProductDraft:
    """The draft cleaned up, or ValidationError naming the first field that breaks a rule."""
    price, cost = check_price_and_cost(draft.price, draft.cost)
    min_level, max_level = check_stock_levels(draft.min_stock_level, draft.max_stock_level)
    tax_rate = check_tax(draft.taxable, draft.tax_rate)
    digital = check_digital(
        is_digital=draft.is_digital,
        requires_shipping=draft.requires_shipping,
        download_url=draft.download_url,
        max_downloads=draft.max_downloads,
        expiry_days=draft.expiry_days,
    )
    return replace(
        draft,
        sku=check_sku(draft.sku),
        name=_required_text(draft.name, "name", "A product name", 300),
        description=_optional_text(draft.description, "description", "A description"),
        short_description=_optional_text(
            draft.short_description, "short_description", "A short description", 500
        ),
        price=price,
        cost=cost,
        weight=check_measure(draft.weight, "weight", "The weight", digits=10, places=3),
        dimensions=_optional_text(draft.dimensions, "dimensions", "The dimensions", 100),
        length=check_measure(draft.length, "length", "The length", digits=8, places=2),
        width=check_measure(draft.width, "width", "The width", digits=8, places=2),
        height=check_measure(draft.height, "height", "The height", digits=8, places=2),
        volume=check_measure(draft.volume, "volume", "The volume", digits=10, places=3),
        barcode=check_barcode(draft.barcode),
        min_stock_level=min_level,
        max_stock_level=max_level,
        tax_rate=tax_rate,
        requires_shipping=digital.requires_shipping,
        download_url=digital.download_url,
        max_downloads=digital.max_downloads,
        expiry_days=digital.expiry_days,
    )


def check_sku(sku: str) -> str:
    sku = text_input(sku, "sku", "A SKU")
    if not SKU.fullmatch(sku):
        raise ValidationError(
            "A SKU has 1 to 100 letters, digits, '-' or '_' (no spaces).", field="sku"
        )
    return sku


def check_price_and_cost(price: Decimal, cost: Decimal) -> tuple[Decimal, Decimal]:
    """Price > 0 and 0 <= cost <= price, both in cents and fitting DECIMAL(12,2)."""
    price = parse_money(price, "price", label="The price")
    if price <= 0:
        raise ValidationError("The price must be more than 0.", field="price")
    cost = parse_money(cost, "cost", label="The cost")
    if cost < 0:
        raise ValidationError("The cost cannot be negative.", field="cost")
    if cost > price:
        raise ValidationError(
            f"The cost ({cost}) cannot be higher than the price ({price}).", field="cost"
        )
    return price, cost


def check_stock_levels(min_level: int, max_level: int) -> tuple[int, int]:
    """0..999,999,999 each; the minimum at most the maximum when a maximum is set (> 0)."""
    min_level, max_level = (
        _whole(value, name, label, 0, MAX_STOCK_LEVEL)
        for value, name, label in (
            (min_level, "min_stock_level", "The minimum stock level"),
            (max_level, "max_stock_level", "The maximum stock level"),
        )
    )
    if max_level > 0 and min_level > max_level:
        raise ValidationError(
            f"The minimum stock level ({min_level:,}) cannot be above the maximum "
            f"({max_level:,}); leave the maximum at 0 for no maximum.",
            field="min_stock_level",
        )
    return min_level, max_level


def check_tax(taxable: bool, tax_rate: Decimal) -> Decimal:
    """A percentage 0..100 with at most two decimals; 0 when the product is not taxable."""
    rate = parse_decimal(
        tax_rate, "tax_rate", "The tax rate", digits=5, places=2, example="8.25",
        decimals="two decimals",
    )  # fmt: skip
    if not 0 <= rate <= MAX_TAX_RATE:
        raise ValidationError("The tax rate is a percentage from 0 to 100.", field="tax_rate")
    if not taxable and rate != 0:
        raise ValidationError(
            "A product that is not taxable has a tax rate of 0.", field="tax_rate"
        )
    return rate.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class DigitalTerms:
    requires_shipping: bool
    download_url: str | None
    max_downloads: int
    expiry_days: int


def check_digital(
    *,
    is_digital: bool,
    requires_shipping: bool,
    download_url: str | None,
    max_downloads: int,
    expiry_days: int,
) -> DigitalTerms:
    """Digital products ship nothing and need a download URL; the download limits are
    0..9,999 downloads and 0..3,650 days (0: no limit). A product that is not digital
    keeps no download terms: they are cleared."""
    if not is_digital:
        return DigitalTerms(requires_shipping, None, 0, 0)
    if requires_shipping:
        raise ValidationError(
            "A digital product does not require shipping.", field="requires_shipping"
        )
    url = clean_text(download_url, "download_url", "The download URL", 1000) or ""
    if not url:
        raise ValidationError("A digital product needs a download URL.", field="download_url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise ValidationError(
            "The download URL is a web address, such as https://example.com/file.zip.",
            field="download_url",
        )
    max_downloads = parse_whole_number(max_downloads, "max_downloads", "The maximum downloads")
    if not 0 <= max_downloads <= MAX_DOWNLOADS:
        raise ValidationError(
            "The maximum number of downloads is from 0 to 9,999 (0: no limit).",
            field="max_downloads",
        )
    expiry_days = parse_whole_number(expiry_days, "expiry_days", "The days to expiry")
    if not 0 <= expiry_days <= MAX_EXPIRY_DAYS:
        raise ValidationError(
            "A download expires after 0 to 3,650 days (0: never).", field="expiry_days"
        )
    return DigitalTerms(False, url, max_downloads, expiry_days)


def check_barcode(barcode: str | None) -> str | None:
    value = _optional_text(barcode, "barcode", "A barcode", 50)
    if value is not None and not value.isprintable():
        raise ValidationError("A barcode has only printable characters.", field="barcode")
    return value


def check_measure(value: Decimal, field: str, label: str, *, digits: int, places: int) -> Decimal:
    """A weight or size: not negative, at most `places` decimals, fitting DECIMAL(digits,places)."""
    amount = parse_decimal(value, field, label, digits=digits, places=places, example="1.5")
    if amount < 0:
        raise ValidationError(f"{label} cannot be negative.", field=field)
    return amount


# --- variants -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantDraft:
    """A variant of a product (a size, a colour) with its own SKU, price and attributes."""

    sku: str
    name: str
    price: Decimal
    cost: Decimal = Decimal("0.00")
    weight: Decimal = Decimal("0.000")
    barcode: str | None = None
    track_inventory: bool = True
    min_stock_level: int = 0
    max_stock_level: int = 0
    allow_backorder: bool = False
    #: {"color": "red", "size": "L"}
    attributes: Mapping[str, str] = field(default_factory=dict)


def check_variant(draft: VariantDraft) -> VariantDraft:
    price, cost = check_price_and_cost(draft.price, draft.cost)
    min_level, max_level = check_stock_levels(draft.min_stock_level, draft.max_stock_level)
    return replace(
        draft,
        sku=check_sku(draft.sku),
        name=_required_text(draft.name, "name", "A variant name", 300),
        price=price,
        cost=cost,
        weight=check_measure(draft.weight, "weight", "The weight", digits=10, places=3),
        barcode=check_barcode(draft.barcode),
        min_stock_level=min_level,
        max_stock_level=max_level,
        attributes=check_attributes(draft.attributes),
    )


def check_attributes(attributes: Mapping[str, str]) -> Mapping[str, str]:
    """Up to 50 attributes: names of 1–50 characters, unique ignoring case, each with a
    text value of at most 200 characters. Returned read-only, names and values trimmed."""
    if not isinstance(attributes, Mapping):
        raise ValidationError("Attributes are names with values.", field="attributes")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValidationError(
            f"A variant has at most {MAX_ATTRIBUTES} attributes.", field="attributes"
        )
    cleaned: dict[str, str] = {}
    seen: set[str] = set()
    for raw_name, raw_value in attributes.items():
        name = text_input(raw_name, "attributes", "An attribute name")
        value = text_input(raw_value, "attributes", "An attribute value")
        if not name or len(name) > MAX_ATTRIBUTE_NAME:
            raise ValidationError(
                f"An attribute name has 1 to {MAX_ATTRIBUTE_NAME} characters.", field="attributes"
            )
        if name.casefold() in seen:
            raise ValidationError(f"The attribute {name!r} is given twice.", field="attributes")
        if len(value) > MAX_ATTRIBUTE_VALUE:
            raise ValidationError(
                f"The value of {name!r} has at most {MAX_ATTRIBUTE_VALUE} characters.",
                field="attributes",
            )
        seen.add(name.casefold())
        cleaned[name] = value
    return MappingProxyType(cleaned)


# --- shared helpers -----------------------------------------------------------------------


def _required_text(value: str, field: str, label: str, max_length: int) -> str:
    return required_text(value, field, label, max_length)


def _optional_text(
    value: str | None, field: str = "", label: str = "This text", max_length: int | None = None
) -> str | None:
    """Blank is None; longer than `max_length` is refused."""
    return clean_text(value, field, label, max_length)


def _whole(value: object, field: str, label: str, minimum: int, maximum: int) -> int:
    return check_whole_number(value, field, label, minimum, maximum)
