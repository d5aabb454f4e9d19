"""The README's promises that a script can check."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_lists_exactly_the_system_libraries_ci_installs() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"`apt-get install ([a-z0-9\- ]+)`", readme)
    assert listed is not None, "the README names no apt-get install line"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = re.search(r"qt_libs=\(([^)]*)\)", ci)
    assert installed is not None
    assert set(listed.group(1).split()) == set(installed.group(1).split())
