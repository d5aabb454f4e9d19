"""`erpgo-desktop setup-roles`: the database's own roles and grants (services/security.py)."""

from __future__ import annotations

import argparse

from erpgo_desktop.config import AppPaths, DatabaseLocation


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    setup_roles = commands.add_parser(
        "setup-roles",
        help="create or put right the database roles people sign in as, and their grants",
        description="Create (or bring up to date) the database's roles: a login role for "
        "each user, a group role for each application role, a role per permission holding "
        "its grants, and the functions' owner. Run as a superuser after `migrate`, and "
        "again after each `migrate`. Users who had no login role yet get one with a "
        "one-time password, printed here, to hand to them.",
    )
    setup_roles.set_defaults(handler=run_setup_roles)


def run_setup_roles(args: argparse.Namespace, location: DatabaseLocation, paths: AppPaths) -> int:
    # cli imports this module to register the command: import it back only when running.
    from erpgo_desktop.cli import EXIT_OK, _engine
    from erpgo_desktop.services.security import setup_security

    engine = _engine(location, paths)
    try:
        done = setup_security(engine)
    finally:
        engine.dispose()
    print(f"Roles of database {done.database} are in place:")
    for line in done.summary():
        print(f"  {line}")
    if done.new_logins:
        print("New login roles, each with a one-time password to hand to its person")
        print("(who then chooses their own under File › Change password…):")
        for username, login_role, password in done.new_logins:
            print(f"  {username:<20} {login_role:<32} {password}")
    print("Workstations need only the server, port and database (Connection settings…);")
    print("people sign in with their own user name and password.")
    print("Run `erpgo-desktop migrate` as the owner, then this command again, on each upgrade.")
    return EXIT_OK
