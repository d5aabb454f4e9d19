"""What the list screens' services share: capped counts, keyset conditions, text search.

A list page is a keyset page: `WHERE (k1, k2, id) > (:k1, :k2, :id) ORDER BY k1, k2, id
LIMIT n+1` (reversed for descending), which a btree index on (k1, k2, id) answers at any
depth; the extra row says whether more follow. A count for a status line stops at a cap:
`SELECT count(*) FROM (SELECT ... LIMIT cap+1)` never reads more than cap+1 rows, however
large the table, and "10,000+" is all a person needs to know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import QueryableAttribute

from erpgo_desktop.db.models import Customer
from erpgo_desktop.domain.validation import MAX_SEARCH_LENGTH, check_search
from erpgo_desktop.errors import ValidationError

__all__ = ["MAX_SEARCH_LENGTH", "check_search"]  # the lists' search check lives in the domain

DEFAULT_COUNT_CAP = 10_000
MAX_PAGE_SIZE = 1_000
#: A bigint: no list is longer, and PostgreSQL refuses a larger OFFSET or LIMIT.
MAX_OFFSET = 2**63 - 1

#: A column of a list's query: a mapped attribute (Customer.email) or an expression.
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class ListCount:
    """How many rows match; when `exact` is false there are more than `count`."""

    count: int
    exact: bool


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_page_size(limit: int) -> None:
    if not _is_whole(limit) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"A page has 1 to {MAX_PAGE_SIZE} rows, not {limit!r}.")


def check_offset(offset: int) -> None:
    """A position in a list: 0 is the first row."""
    if not _is_whole(offset) or not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"A page cannot start at row {offset!r}.", field="offset")


def escape_like(text: str) -> str:
    """`text` as a literal part of a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_count_cap(cap: int | None) -> None:
    if cap is not None and (not _is_whole(cap) or not 0 <= cap <= MAX_OFFSET):
        raise ValidationError(f"A count cap is a whole number from 0, not {cap!r}.")


def contains_any(
    columns: Sequence[ColumnLike], term: str, *, within: ColumnLike | None = None
) -> ColumnElement[bool]:
    """Any of `columns` contains `term`, ignoring case; `%`, `_` and `\\` match themselves.

    Every search box's condition is built here. `within` is a text that contains each
    of the columns whole (customer_search_text()): it holds the term whenever one of
    them does, so `within ILIKE` adds no condition, only a way in through its trigram
    index; the columns' own test then runs on the candidates it finds.
    """
    pattern = f"%{escape_like(term)}%"
    matches = or_(*(column.ilike(pattern, escape="\\") for column in columns))
    if within is None:
        return matches
    return and_(within.ilike(pattern, escape="\\"), matches)


def starts_with(column: ColumnLike, term: str) -> ColumnElement[bool]:
    """`column` begins with `term`, ignoring case as ILIKE does (both sides lowered by
    PostgreSQL): `lower(column) LIKE 'term%'`, which a btree on lower(column) in
    text_pattern_ops reads as one range (revision 0018).

    A code typed from its start (an order number's year and first digits) is found this
    way: its trigrams are common to most codes, so a trigram index reads far more than
    the range. `begins_some` tells whether a term begins any code at all.
    """
    pattern = func.lower(literal(f"{escape_like(term)}%"))
    return func.lower(column).like(pattern, escape="\\")


def begins_some(column: ColumnLike, term: str) -> ColumnElement[bool]:
    """Whether `term` begins any value of `column` (one probe of its prefix index), as
    an EXISTS that a search's first statement selects beside what else it asks."""
    return exists().where(starts_with(column, term))


def code_matches(column: ColumnLike, term: str, *, from_start: bool) -> ColumnElement[bool]:
    """A code column's part of a search: the codes `term` begins when it begins any
    (`from_start`: `begins_some`'s answer, asked once per search), else the codes
    containing it anywhere.

    People type codes from their start: `2026-277` finds the orders numbered 2026-277...
    through one btree range, and `277626` (no number begins with it) still finds
    2026-277626 through the trigram index. A term that begins some codes no longer finds
    others holding it further in (`2026` does not find 2025-020261).
    """
    if from_start:
        return starts_with(column, term)
    return contains_any((column,), term)


def customer_search_text() -> ColumnElement[str]:
    """db/models.py CUSTOMER_SEARCH_TEXT_SQL as an expression of the customers table,
    without parameters, so that PostgreSQL sees the indexed expression."""
    empty: ColumnElement[str] = literal_column("''")
    blank: ColumnElement[str] = literal_column("' '")
    following: list[ColumnLike] = [
        Customer.first_name,
        Customer.last_name,
        func.coalesce(Customer.company, empty),
        Customer.email,
    ]
    joined: ColumnElement[Any] = func.coalesce(Customer.customer_code, empty)
    for part in following:
        joined = joined.op("||")(blank).op("||")(part)
    return joined


def customer_matches(columns: Sequence[ColumnLike], term: str) -> ColumnElement[bool]:
    """A customer search: any of `columns` (of customers) contains `term`, found through
    the trigram index on customer_search_text() (revision 0014)."""
    return contains_any(columns, term, within=customer_search_text())


def keyset_order(keys: Sequence[ColumnLike], descending: bool) -> list[Any]:
    """ORDER BY the keys (the last one unique, usually the id), all one way."""
    return [key.desc() if descending else key.asc() for key in keys]


def keyset_after(
    keys: Sequence[ColumnLike], values: Sequence[Any], descending: bool
) -> ColumnElement[bool]:
    """The rows after `values` in `keyset_order(keys, descending)`; keys must not be NULL.

    A row comparison, not nested ORs: PostgreSQL turns it into one range scan of an
    index on the keys.
    """
    if len(keys) != len(values):
        raise ValueError("a cursor needs one value per sort key")
    position = tuple_(*keys)
    bound = tuple_(*(literal(value, key.type) for key, value in zip(keys, values, strict=True)))
    return position < bound if descending else position > bound


def keyset_after_nullable(
    key: ColumnLike,
    row_id: ColumnLike,
    after_key: Any | None,
    after_id: Any,
    descending: bool,
) -> ColumnElement[bool]:
    """`keyset_after((key, row_id), ...)` for a key that may be NULL, in PostgreSQL's own
    order of NULLs: after every value ascending, before every value descending (so that an
    index on the key still answers the ORDER BY).
    """
    bound_id = literal(after_id, row_id.type)
    if after_key is None:
        among_nulls = and_(key.is_(None), row_id < bound_id if descending else row_id > bound_id)
        return or_(key.is_not(None), among_nulls) if descending else among_nulls
    position = tuple_(key, row_id)
    bound = tuple_(literal(after_key, key.type), bound_id)
    if descending:
        return position < bound  # NULL keys compare as NULL: left out, as they come first
    return or_(position > bound, key.is_(None))


def count_statement(matching: Select[*tuple[Any, ...]], cap: int | None) -> Select[int]:
    """count(*) of `matching`, reading no more than cap + 1 of its rows (None: all)."""
    check_count_cap(cap)
    if cap is None or cap == MAX_OFFSET:  # cap + 1 would leave bigint; no list is as long
        return select(func.count()).select_from(matching.subquery())
    return select(func.count()).select_from(matching.limit(cap + 1).subquery())


def capped(found: int, cap: int | None) -> ListCount:
    if cap is not None and found > cap:
        return ListCount(count=cap, exact=False)
    return ListCount(count=found, exact=True)
