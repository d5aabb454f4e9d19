"""Getting a database ready to use: server, schema, and (on request) demo data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.config import AppPaths, DatabaseLocation, unused_credentials, without_credentials
from erpgo_desktop.db import migrate
from erpgo_desktop.db.embedded import start_embedded_server
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.db.models import Order, Product, User
from erpgo_desktop.errors import ConfigurationError
from erpgo_desktop.services.auth import AuthService, NewUser
from erpgo_desktop.services.security import can_change_schema, setup_security

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class DatabaseReady:
    location_description: str
    #: (username, password) to show on the login screen, when running as a demo.
    demo_login: tuple[str, str] | None


def database_url(location: DatabaseLocation, paths: AppPaths) -> URL:
    """The URL to connect to, starting the embedded server when that is the location."""
    if location.url is not None:
        return location.url
    try:
        return start_embedded_server(paths.embedded_data_dir)
    except Exception as exc:  # the wheel raises bare CalledProcessError/OSError
        log.exception("embedded server failed to start")
        raise ConfigurationError(
            f"The embedded database in {paths.embedded_data_dir} did not start: {exc}. "
            f"Its log is {paths.embedded_data_dir / 'log'}."
        ) from exc


def prepare_database(
    location: DatabaseLocation, paths: AppPaths, *, demo: bool, progress: Progress
) -> tuple[URL, DatabaseReady]:
    """Get the database ready for people to sign in to; returns its server's URL (no user).

    The embedded server is this workstation's own: its superuser migrates it, sets up its
    roles (services/security.py) and loads the demo, like an administrator on a shared
    server would with `migrate`, `setup-roles` and `demo-data`. A shared server is left as
    its administrator made it: people connect to it only as themselves.
    """
    progress("Starting the database", 0, 0)
    url = database_url(location, paths)
    if not location.is_embedded:
        unused = unused_credentials(url)
        if unused:
            # Not an error: the same URL serves the administrator's commands, which connect as
            # its user.
            log.info(
                "the database URL names %s: not used to sign in, people sign in as themselves",
                unused,
            )
        return without_credentials(url), DatabaseReady(location.describe(paths), None)
    engine = make_engine(url)
    try:
        if not migrate.is_up_to_date(engine):
            _check_may_migrate(engine)
            progress("Updating the database schema", 0, 0)
            migrate.upgrade(engine)
        progress("Setting up the database's roles", 0, 0)
        setup_security(engine)
        demo_login = ensure_demo(engine, url, progress) if demo else None
    finally:
        engine.dispose()
    return without_credentials(url), DatabaseReady(location.describe(paths), demo_login)


def _check_may_migrate(engine: Engine) -> None:
    """An application role (see services.privileges) may not change the schema: say so
    plainly instead of failing half-way through a migration."""
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current is not None and not migrate.is_known_revision(current):
        raise ConfigurationError(
            f"The database schema is at revision {current}, newer than this version of "
            f"ERPGo Desktop knows (it needs {head}): install the newer version."
        )
    with engine.connect() as connection:
        if can_change_schema(connection):
            return
    where = f"is at revision {current}" if current else "has no ERPGo schema yet"
    raise ConfigurationError(
        f"The database schema {where}; this version needs {head}. Ask your administrator "
        "to run `erpgo-desktop migrate` as the database owner."
    )


def ensure_demo(engine: Engine, url: URL, progress: Progress) -> tuple[str, str] | None:
    """Fill an empty database with demo data and a demo administrator.

    A database that already holds business data gets neither: a known password must never
    be added to a real company's database.
    """
    from erpgo_desktop.db.demo_data import DemoDataSize, generate_demo_data

    sessions = make_session_factory(engine)
    with sessions() as session:
        has_data = bool(
            session.scalar(select(func.count()).select_from(Product))
            or session.scalar(select(func.count()).select_from(Order))
        )
        demo_user = session.scalar(select(User.id).where(User.username == DEMO_USERNAME))
    if has_data:
        return (DEMO_USERNAME, DEMO_PASSWORD) if demo_user is not None else None
    with engine.connect() as connection:
        if not can_change_schema(connection):
            # The loader empties tables, turns triggers off and rebuilds indexes.
            raise ConfigurationError(
                "Demo data is loaded by the database owner: run `erpgo-desktop demo-data` "
                "as the owner, or start without --demo."
            )
    if demo_user is None:
        progress("Creating the demo login", 0, 0)
        created = AuthService(sessions).create_user(
            NewUser(DEMO_USERNAME, "demo@example.com", DEMO_PASSWORD, "admin", "Demo", "User"),
            acting=None,
        )
        demo_user = created.id
    generate_demo_data(url, DemoDataSize(), created_by=demo_user, progress=progress)
    return DEMO_USERNAME, DEMO_PASSWORD
