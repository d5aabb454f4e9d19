"""Engines and sessions: one engine per process, one session per user action."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop import APP_NAME


def make_engine(url: URL, **kwargs: object) -> Engine:
    # pool_pre_ping: a workstation left open overnight finds its pooled connections cut by
    # the server or a firewall; checking on checkout turns that into a transparent reconnect.
    options: dict[str, object] = {
        "pool_pre_ping": True,
        "connect_args": {"application_name": APP_NAME},
    }
    options.update(kwargs)
    return create_engine(url, **options)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services hand plain rows out after commit, and nothing
    # should lazily reload from a session that has ended.
    return sessionmaker(engine, expire_on_commit=False)
