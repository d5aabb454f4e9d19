"""`erpgo-desktop doctor --health`: the database health report as aligned text.

cli.py adds the option with `add_doctor_health_option(doctor)` and, in `cmd_doctor`, calls
`run_health(engine)` when `args.health` is set.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from erpgo_desktop.services.health import (
    HealthReport,
    IndexUsage,
    RunningQuery,
    Unavailable,
    human_duration,
    human_size,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: A statement is shown on one line, cut to this many characters.
STATEMENT_WIDTH = 100

#: Sentences (reasons, notes) are wrapped to this width; tables are as wide as they need.
PROSE_WIDTH = 96

_LABEL_WIDTH = 18


def add_doctor_health_option(doctor_parser: argparse.ArgumentParser) -> None:
    doctor_parser.add_argument(
        "--health",
        action="store_true",
        help="also report the database's health: table and index sizes, unused indexes, "
        "connections, cache hit ratio and the slowest statements (from pg_stat_statements "
        "when the server has it)",
    )


def run_health(engine: Engine) -> int:
    """Print the health report of the database `engine` connects to; the exit status."""
    from erpgo_desktop.db.engine import make_session_factory
    from erpgo_desktop.services.health import HealthService

    report = HealthService(make_session_factory(engine)).report()
    print_health_report(report, sys.stdout)
    return 0


def print_health_report(report: HealthReport, out: TextIO) -> None:
    def line(label: str, value: str) -> None:
        out.write(f"{label + ':':<{_LABEL_WIDTH}}{value}\n")

    out.write(f"Database health at {_when(report.taken_at)}\n")
    up_for = human_duration((report.taken_at - report.server_started).total_seconds())
    line("Server", f"PostgreSQL {report.server_version}, up {up_for}")
    line("Database", f"{report.database}, {human_size(report.database_bytes)}")
    role = report.role
    if not report.sees_all_statistics:
        role += (
            " (other roles' sessions and statements are hidden: not a superuser nor a "
            "member of pg_read_all_stats)"
        )
    line("Role", role)
    line(
        "Statistics since",
        _when(report.statistics_since) if report.statistics_since else "never reset",
    )
    ratio = report.cache_hit_ratio
    line("Cache hit ratio", "no reads yet" if ratio is None else f"{ratio:.1%}")
    connections = report.connections
    states = ", ".join(f"{count.count} {count.state}" for count in connections.by_state)
    line(
        "Connections",
        f"{connections.total} to this database ({states}); "
        f"{connections.server_total} of {connections.max_connections} on the server",
    )
    line("Longest running", _running(connections.longest_running, report.sees_all_statistics))
    out.write("Settings:\n")
    width = max((len(setting.name) for setting in report.settings), default=0)
    for setting in report.settings:
        out.write(f"  {setting.name:<{width}}  {setting.value}\n")

    out.write("\nTables (largest first)\n")
    _write_table(
        out,
        ("Table", "Total", "Table", "Indexes", "Rows (est.)", "Seq scans", "Index scans"),
        [
            (
                _qualified(table.schema, table.name),
                human_size(table.total_bytes),
                human_size(table.table_bytes),
                human_size(table.index_bytes),
                f"{table.estimated_rows:,}",
                f"{table.sequential_scans:,}",
                "no index" if table.index_scans is None else f"{table.index_scans:,}",
            )
            for table in report.tables
        ],
    )

    out.write("\nIndexes (largest first)\n")
    _write_table(
        out,
        ("Index", "Table", "Size", "Scans", "Read", "Fetched", "Note"),
        [_index_row(index) for index in report.indexes],
        left=(0, 1, 6),
    )

    unused = report.unused_indexes
    out.write(f"\nUnused indexes: {len(unused)}\n")
    if unused:
        _write_prose(
            out,
            "Never scanned since the statistics began, and enforcing no rule: each costs "
            "space and slows every write to its table.",
        )
    for index in unused:
        table = _qualified(index.schema, index.table)
        out.write(f"  {index.name} on {table}, {human_size(index.size_bytes)}\n")
    kept = report.unscanned_constraint_indexes
    if kept:
        _write_prose(
            out,
            f"{len(kept)} primary key or unique indexes were never scanned either; they are "
            "needed all the same, since they enforce their rule on every write.",
        )

    out.write("\nSlowest statements (by mean time, from pg_stat_statements)\n")
    statements = report.slowest_statements
    if isinstance(statements, Unavailable):
        _write_prose(out, f"Not available: {statements.reason}.")
    elif not statements:
        out.write("  None recorded for this database yet.\n")
    else:
        _write_table(
            out,
            ("Mean", "Total", "Calls", "Rows", "Statement"),
            [
                (
                    human_duration(statement.mean_ms / 1000),
                    human_duration(statement.total_ms / 1000),
                    f"{statement.calls:,}",
                    f"{statement.rows:,}",
                    _one_line(statement.query),
                )
                for statement in statements
            ],
            left=(4,),
        )


def _index_row(index: IndexUsage) -> tuple[str, ...]:
    if index.unused:
        note = "UNUSED"
    elif index.enforces_constraint:
        note = "enforces a rule"
    else:
        note = ""
    return (
        index.name,
        _qualified(index.schema, index.table),
        human_size(index.size_bytes),
        f"{index.scans:,}",
        f"{index.tuples_read:,}",
        f"{index.tuples_fetched:,}",
        note,
    )


def _write_table(
    out: TextIO,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    left: Sequence[int] = (0, 1),
) -> None:
    """Columns as wide as their widest cell; texts left-aligned, figures right-aligned;
    the last column is not padded."""
    if not rows:
        out.write("  (none)\n")
        return
    widths = [max(len(row[number]) for row in (headers, *rows)) for number in range(len(headers))]
    last = len(headers) - 1
    for row in (headers, *rows):
        cells = []
        for number, cell in enumerate(row):
            if number == last:
                cells.append(cell if number in left else cell.rjust(widths[number]))
            elif number in left:
                cells.append(cell.ljust(widths[number]))
            else:
                cells.append(cell.rjust(widths[number]))
        out.write(("  " + "  ".join(cells)).rstrip() + "\n")


def _write_prose(out: TextIO, paragraph: str) -> None:
    out.write(textwrap.fill(paragraph, PROSE_WIDTH, initial_indent="  ", subsequent_indent="  "))
    out.write("\n")


def _qualified(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def _when(moment: datetime) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S %Z}"


def _running(query: RunningQuery | None, sees_all: bool) -> str:
    if query is None:
        return "no other query or transaction" + ("" if sees_all else " that this role may see")
    who = ", ".join(
        part
        for part in (f"pid {query.pid}", query.user and f"user {query.user}", query.application)
        if part
    )
    return f"{human_duration(query.seconds)}, {query.state} ({who}): {_one_line(query.query)}"


def _one_line(query: str | None) -> str:
    if query is None:
        return "(another role's; hidden)"
    flat = " ".join(query.split())
    return flat if len(flat) <= STATEMENT_WIDTH else flat[: STATEMENT_WIDTH - 1] + "…"
