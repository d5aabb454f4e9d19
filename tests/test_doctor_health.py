"""`erpgo-desktop doctor --health` from the command line.

Fails until cli.py adds the option (`add_doctor_health_option`) and calls `run_health` from
`cmd_doctor` (see erpgo_desktop/commands/health.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from erpgo_desktop import cli
from erpgo_desktop.config import CONFIG_DIR_ENV, DATA_DIR_ENV, DATABASE_URL_ENV


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def test_doctor_health_prints_the_report(
    database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database_url.render_as_string(hide_password=False)
    assert cli.main(["--database-url", url, "doctor", "--health"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Schema revision:" in out  # the doctor's own report comes first
    assert out.index("Schema revision:") < out.index("Database health at ")
    assert "Tables (largest first)" in out
    assert "idx_products_sku" in out
    assert "Slowest statements (by mean time, from pg_stat_statements)" in out


def test_doctor_without_health_leaves_it_out(
    database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database_url.render_as_string(hide_password=False)
    assert cli.main(["--database-url", url, "doctor"]) == cli.EXIT_OK
    assert "Database health at " not in capsys.readouterr().out


def test_doctor_health_on_an_empty_database(
    empty_database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    """No schema yet: the doctor says so, and the health report still comes."""
    url = empty_database_url.render_as_string(hide_password=False)
    assert cli.main(["--database-url", url, "doctor", "--health"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "none (empty database)" in out
    assert "Database health at " in out
