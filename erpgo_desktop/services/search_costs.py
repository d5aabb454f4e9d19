"""What a products search costs read one way or the other, from PostgreSQL's statistics.

A search's first page in some order is read one of two ways: by walking the order's
index from the cursor and testing each product, or by collecting every match through
the trigram indexes and sorting them. PostgreSQL chooses from its estimate of how many
products match, as if they were spread evenly through the order. They are not: SKUs come
in prefixes (a category's `TOO-WRE-...`), and prices and names follow the category, so
a term's matches lie bunched somewhere along every order. A bunch far along makes the
walk pass most of the catalog first: 986,000 SKU index entries (330 ms) for a page that
collecting finds in 70 ms; 342,000 products in price order (1.3 s) for a prefix whose
prices are high; every product with its row (3.5 s) for a warehouse's stock.

The statistics ANALYZE keeps for a column (`pg_stats.histogram_bounds`) are values taken
at even steps through the column's order, each standing for an equal share of the rows
(revision 0020 keeps 1,000 for the SKU, the name and the barcode): a sample that says how many
products a term matches and, for the SKU, where along the order they begin, without
reading a product. Two choices are made from it:

- `collect_sku_matches`: the SKU side of a page by SKU (services/catalog.py), whose walk
  reads the (sku, id) index alone, collects when the walk to its matches would pass more
  entries than collecting them costs;
- `few_enough_to_collect`: any other page of a search (by name, price or stock, a
  warehouse's stock) collects when the matches are few enough to collect in about the
  time of a page: the walk there visits a product's row per step, as dear as collecting
  a match, and nothing tells how far along that order the matches lie.

Either way gives the same rows in the same order: only the cost differs.
"""

from __future__ import annotations

import functools
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

#: Matches collected and sorted in about 100-150 ms (5 µs each, as above): up to this
#: many, a search collects its matches rather than walk an order they may lie far along
#: (a walk that can pass a million products, seconds; where they are spread, a few
#: milliseconds, which is why many matches are left to the walk).
COLLECT_UP_TO = 25_000

#: How long statistics read once serve: ANALYZE renews them after a tenth of a table
#: changes, which takes far longer on a catalog.
SAMPLES_SERVE_SECONDS = 600.0

_SAMPLES = text(
    "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'products'::regclass), "
    "(SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = current_schema() "
    " AND tablename = 'products' AND attname = 'sku'), "
    "(SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = current_schema() "
    " AND tablename = 'products' AND attname = 'name'), "
    "(SELECT histogram_bounds::text::text[] FROM pg_stats WHERE schemaname = current_schema() "
    " AND tablename = 'products' AND attname = 'barcode')"
)


@dataclass(frozen=True)
class KeySamples:
    """The SKUs, names and barcodes ANALYZE sampled at even steps through each column's
    order."""

    skus: tuple[str, ...]
    names: tuple[str, ...]
    #: How many products the table held then.
    rows: float
    barcodes: tuple[str, ...] = ()

    @functools.cached_property
    def folded(self) -> KeySamples:
        """The same samples in casefold, as a search compares them: folded once, not
        three thousand values at every search."""

        def fold(sample: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(value.casefold() for value in sample)

        return KeySamples(fold(self.skus), fold(self.names), self.rows, fold(self.barcodes))


def read_samples(session: Session) -> KeySamples | None:
    """The products' statistics; None before the table was first analysed (PostgreSQL
    then chooses alone) or where this role may not read them."""
    rows, skus, names, barcodes = session.execute(_SAMPLES).one()
    if not skus or not rows or rows <= 0:
        return None
    return KeySamples(tuple(skus), tuple(names or ()), float(rows), tuple(barcodes or ()))


@dataclass(frozen=True)
class SkuSides:
    """Which sides of a search's page by SKU collect their matches rather than leave the
    choice to PostgreSQL (services/catalog.py `_sku_page_by_column`)."""

    skus: bool = False
    #: The name and barcode side.
    names: bool = False


#: Both sides as PostgreSQL chooses.
CHOSEN_BY_POSTGRESQL = SkuSides()


def sku_sides_to_collect(
    samples: KeySamples,
    term: str,
    *,
    after_sku: str | None,
    descending: bool,
    page_rows: int,
) -> SkuSides:
    """For a page of `page_rows` by SKU after `after_sku`: the name and barcode side
    collects when its matches are few (names follow the SKU's prefixes, so a few are
    bunched as SKUs are); the SKU side when `collect_sku_matches` says so, its walk
    ended early by the name side only where that side is many and spread."""
    needle, folded = term.casefold(), samples.folded
    named = samples.rows * (_share(folded.names, needle) + _share(folded.barcodes, needle))
    names_few = named <= COLLECT_UP_TO
    return SkuSides(
        skus=collect_sku_matches(
            samples,
            term,
            after_sku=after_sku,
            descending=descending,
            page_rows=page_rows,
            named_spread=None if names_few else named,
        ),
        names=names_few,
    )


def collect_sku_matches(
    samples: KeySamples,
    term: str,
    *,
    after_sku: str | None,
    descending: bool,
    page_rows: int,
    named_spread: float | None = None,
) -> bool:
    """Whether the SKU matches of `term` after `after_sku` are cheaper collected than
    walked to, for a page of `page_rows` in the direction asked.

    Counted in steps of the sample (each SKU in it stands for `rows / len(skus)`
    products): walking costs a step per step until the page is held, by its SKU matches
    or by the `named_spread` products the name side finds spread through the order,
    whichever comes first; collecting costs `WALKED_ENTRIES_PER_COLLECTED_MATCH` steps
    per step of matches. Matches too few to show in the sample (under a step's worth)
    cost less than a step to collect.
    """
    needle = term.casefold()

    def past_cursor(sku: str) -> bool:
        return after_sku is None or (sku < after_sku if descending else sku > after_sku)

    ahead = [
        folded
        for sku, folded in zip(samples.skus, samples.folded.skus, strict=True)
        if past_cursor(sku)
    ]
    if descending:
        ahead.reverse()
    if not ahead:
        return False
    per_step = samples.rows / len(samples.skus)
    hits = [step for step, sku in enumerate(ahead) if needle in sku]
    steps_per_page = max(1, math.ceil(page_rows / per_step))
    walk = float(hits[steps_per_page - 1] + 1 if len(hits) >= steps_per_page else len(ahead))
    if named_spread:
        # The name side's page ends the walk: its matches come at their share of steps.
        walk = min(walk, page_rows / (named_spread / samples.rows * per_step))
    collect = WALKED_ENTRIES_PER_COLLECTED_MATCH * max(len(hits), 0.5)
    return walk > collect


def estimated_matches(samples: KeySamples, term: str) -> float:
    """About how many products have `term` in their SKU, name or barcode (at most the
    shares added): a share too small to show in a sample counts as half a step of it."""
    needle, folded = term.casefold(), samples.folded
    shares = (_share(sample, needle) for sample in (folded.skus, folded.names, folded.barcodes))
    return samples.rows * sum(shares)


def few_enough_to_collect(samples: KeySamples, term: str) -> bool:
    """Whether a search's matches are few enough to collect and sort for a page."""
    return estimated_matches(samples, term) <= COLLECT_UP_TO


def _share(folded_sample: Sequence[str], needle: str) -> float:
    if not folded_sample:
        return 0.0  # no values (or none kept): nothing of the column's share is known
    hits = sum(needle in value for value in folded_sample)
    return max(hits, 0.5) / len(folded_sample)


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
