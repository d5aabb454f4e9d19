"""`erpgo-desktop doctor --health`'s text, from a real report."""

from __future__ import annotations

import argparse
import io

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.commands.health import add_doctor_health_option, print_health_report, run_health
from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.health import HealthService, human_size


def report_text(engine: Engine) -> str:
    out = io.StringIO()
    print_health_report(HealthService(make_session_factory(engine)).report(), out)
    return out.getvalue()


def test_the_report_reads_as_aligned_text(engine: Engine) -> None:
    report = HealthService(make_session_factory(engine)).report()
    out = io.StringIO()
    print_health_report(report, out)
    shown = out.getvalue()
    lines = shown.splitlines()
    assert lines[0].startswith("Database health at ")
    assert f"Server:           PostgreSQL {report.server_version}, up " in shown
    assert f"Database:         {report.database}, {human_size(report.database_bytes)}" in shown
    connections = next(line for line in lines if line.startswith("Connections:      "))
    assert f" of {report.connections.max_connections} on the server" in connections
    settings = lines[lines.index("Settings:") + 1 :][: len(report.settings)]
    assert [line.split() for line in settings] == [
        [setting.name, setting.value] for setting in report.settings
    ]

    tables = lines[lines.index("Tables (largest first)") + 1 :]
    header = tables[0]
    assert header.split() == [
        "Table", "Total", "Table", "Indexes", "Rows", "(est.)", "Seq", "scans", "Index", "scans"
    ]  # fmt: skip
    products = next(row for row in tables if row.split()[0] == "products")
    largest = report.tables[0]
    assert tables[1].split()[0] == largest.name
    assert human_size(largest.total_bytes) in tables[1]
    # Figures are right-aligned under their heading.
    assert len(products) == len(header)

    indexes = lines[lines.index("Indexes (largest first)") + 1 :]
    sku = next(row for row in indexes if row.split()[0] == "idx_products_sku")
    assert sku.split()[1] == "products"
    assert sku.endswith("UNUSED")  # a fresh database: nothing scanned yet
    pkey = next(row for row in indexes if row.split()[0] == "products_pkey")
    assert pkey.endswith("enforces a rule")

    unused = lines.index(f"Unused indexes: {len(report.unused_indexes)}")
    assert lines[unused + 1].startswith("  Never scanned since the statistics began")
    assert "  idx_products_sku on products, " in shown
    assert all(len(line) <= 100 for line in lines[unused:])  # prose wrapped, not in a table
    words = " ".join(shown.split())
    kept = len(report.unscanned_constraint_indexes)
    assert f" {kept} primary key or unique indexes were never scanned either" in words
    assert "Slowest statements (by mean time, from pg_stat_statements)" in lines
    assert "Not available: the pg_stat_statements extension is not installed" in words


def test_an_extension_the_server_does_not_load_is_explained(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION pg_stat_statements"))
        preloaded = connection.scalar(text("SHOW shared_preload_libraries")) or ""
    if "pg_stat_statements" in preloaded:
        pytest.skip("this server loads pg_stat_statements")
    shown = report_text(engine)
    assert (
        "  Not available: the pg_stat_statements extension is installed in this database" in shown
    )
    assert "add pg_stat_statements to shared_preload_libraries" in shown


def test_run_health_prints_the_report(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_health(engine) == 0
    assert "Tables (largest first)" in capsys.readouterr().out


def test_the_option_is_off_unless_given() -> None:
    parser = argparse.ArgumentParser()
    add_doctor_health_option(parser)
    assert parser.parse_args([]).health is False
    assert parser.parse_args(["--health"]).health is True
