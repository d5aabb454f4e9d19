"""Where a search's SKU matches lie in SKU order, read from PostgreSQL's own statistics.

A products search sorted by SKU reads its SKU matches either by walking the (sku, id)
index from the cursor, testing each entry, or by collecting every match through the
trigram index and sorting them (services/catalog.py `_sku_page_shape`). PostgreSQL
chooses from its estimate of how many SKUs match, as if they were spread evenly through
the order; but SKUs come in prefixes (a category's `TOO-WRE-...`), so their matches lie
bunched, and a bunch at the far end of the order makes the walk pass nearly every SKU
first (986,000 index entries, 330 ms, for a page that collecting finds in 70 ms).

The statistics ANALYZE keeps for a column (`pg_stats.histogram_bounds`) are SKUs taken
at even steps through the order, each standing for an equal share of the rows (revision
0020 keeps 1,000 of them for the SKU): a sample that says where in the order a term's
matches begin and how many there are, without reading a product. The names' sample says
how soon the name side of the page fills (which ends the SKU walk there too). The
choice only weighs the cost: both readings give the same rows in the same order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

#: Collecting a match (the trigram index, then the product's row on its own page) costs
#: about as much as walking this many entries of the (sku, id) index (measured on the
#: 1,000,000-product demo: 5 µs against 0.45 µs, docs/benchmarks.md).
WALKED_ENTRIES_PER_COLLECTED_MATCH = 10

#: How long statistics read once serve: ANALYZE renews them after a tenth of a table
#: changes, which takes far longer on a catalog.
SAMPLES_SERVE_SECONDS = 600.0

_SAMPLES = text(
    "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'products'::regclass), "
    "(SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = current_schema() "
    " AND tablename = 'products' AND attname = 'sku'), "
    "(SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = current_schema() "
    " AND tablename = 'products' AND attname = 'name')"
)


@dataclass(frozen=True)
class KeySamples:
    """The SKUs and names ANALYZE sampled at even steps through each column's order."""

    skus: tuple[str, ...]
    names: tuple[str, ...]
    #: How many products the table held then.
    rows: float


def read_samples(session: Session) -> KeySamples | None:
    """The products' statistics; None before the table was first analysed (PostgreSQL
    then chooses alone) or where this role may not read them."""
    rows, skus, names = session.execute(_SAMPLES).one()
    if not skus or not rows or rows <= 0:
        return None
    return KeySamples(tuple(skus), tuple(names or ()), float(rows))


def collect_sku_matches(
    samples: KeySamples,
    term: str,
    *,
    after_sku: str | None,
    descending: bool,
    page_rows: int,
) -> bool:
    """Whether the SKU matches of `term` after `after_sku` are cheaper collected than
    walked to, for a page of `page_rows` in the direction asked.

    Counted in steps of the sample (each SKU in it stands for `rows / len(skus)`
    products): walking costs a step per step until the page is held, by its SKU matches
    or by its name matches, whichever comes first; collecting costs
    `WALKED_ENTRIES_PER_COLLECTED_MATCH` steps per step of matches. Matches too few to
    show in the sample (under a step's worth) cost less than a step to collect.
    """
    needle = term.casefold()

    def past_cursor(sku: str) -> bool:
        return after_sku is None or (sku < after_sku if descending else sku > after_sku)

    ahead = [sku for sku in samples.skus if past_cursor(sku)]
    if descending:
        ahead.reverse()
    if not ahead:
        return False
    per_step = samples.rows / len(samples.skus)
    hits = [step for step, sku in enumerate(ahead) if needle in sku.casefold()]
    steps_per_page = max(1, math.ceil(page_rows / per_step))
    walk = float(hits[steps_per_page - 1] + 1 if len(hits) >= steps_per_page else len(ahead))
    walk = min(walk, _steps_until_names_fill(samples, needle, page_rows, per_step))
    collect = WALKED_ENTRIES_PER_COLLECTED_MATCH * max(len(hits), 0.5)
    return walk > collect


def _steps_until_names_fill(
    samples: KeySamples, needle: str, page_rows: int, per_step: float
) -> float:
    """How far in SKU order the name side holds a page: names are not bunched by SKU,
    so their matches come at the rate the names' sample shows."""
    names: Sequence[str] = samples.names
    if not names:
        return math.inf
    share = sum(needle in name.casefold() for name in names) / len(names)
    if share == 0:
        return math.inf
    return page_rows / (share * per_step)


class SampleCache:
    """The products' statistics as last read, read again when `SAMPLES_SERVE_SECONDS`
    have passed: one catalog query in ten minutes rather than one a search."""

    def __init__(self) -> None:
        self._samples: KeySamples | None = None
        self._read_at = -math.inf

    def samples(self, session: Session) -> KeySamples | None:
        now = time.monotonic()
        if now - self._read_at >= SAMPLES_SERVE_SECONDS:
            self._samples = read_samples(session)
            self._read_at = now
        return self._samples
