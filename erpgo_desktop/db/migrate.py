"""Schema migrations driven from code: upgrade, downgrade, and where a database stands.

alembic is loaded only to migrate or to look a revision up: a start-up needs no more than
`SCHEMA_HEAD` and the database's own revision, and alembic with its templates is a tenth
of the imports a start-up would otherwise wait for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

_PACKAGE_DIR = Path(__file__).resolve().parent.parent

#: The revision this version of the program is built for: the newest migration (the
#: migrations' head: tests/migrations/test_up_down.py checks it against alembic's).
SCHEMA_HEAD = "0020"


def migrations_dir() -> Path:
    """The migrations folder: inside an installed wheel, or at the top of a source checkout."""
    for candidate in (_PACKAGE_DIR / "_migrations", _PACKAGE_DIR.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("The migrations folder is missing from this installation")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def head_revision() -> str:
    return SCHEMA_HEAD


def is_known_revision(revision: str) -> bool:
    """Whether `revision` is one of this program's migrations (else the database is newer)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        return False
    return True


def current_revision(engine: Engine) -> str | None:
    """The database's revision as alembic keeps it (None for a database never migrated)."""
    with engine.connect() as connection:
        if connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
            return None
        revision: str | None = connection.scalar(text("SELECT version_num FROM alembic_version"))
        return revision


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
