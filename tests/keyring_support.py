"""Keyrings for tests: one in memory, and none at all; never the developer's real one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps passwords in a dict, as a real one keeps them in the system."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


# Defining a backend class registers it for keyring's own choice of backend: this one must
# only ever be used where a test sets it.
keyring.backend.KeyringBackend._classes.discard(MemoryKeyring)  # type: ignore[attr-defined]


@contextmanager
def using_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@contextmanager
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    with using_keyring(backend):
        yield backend


@contextmanager
def no_keyring() -> Iterator[None]:
    with using_keyring(keyring.backends.fail.Keyring()):
        yield
