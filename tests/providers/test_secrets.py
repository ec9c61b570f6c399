"""secrets.py: the OS keyring when there is one, else a 0600 file with a warning; reads are scrubbed."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from memory_keyring import MemoryKeyring

from lumina_tui import secrets
from lumina_tui.logs import scrub


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """The machine has no keyring backend at all (keyring's own `fail` backend)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


class PlaintextKeyring(KeyringBackend):
    """Stands in for keyrings.alt.file.PlaintextKeyring: accepts secrets and writes them as plain text."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


def test_keyring_round_trip(ring: MemoryKeyring) -> None:
    secrets.set_secret("account:one", "s3cret-one")
    assert ring.passwords == {("lumina", "account:one"): "s3cret-one"}
    assert secrets.get_secret("account:one") == "s3cret-one"
    info = secrets.backend_info()
    assert info["secure"] is True
    assert info["warning"] is None
    assert info["name"].endswith("MemoryKeyring")
    assert not secrets.fallback_path().exists()
    secrets.delete_secret("account:one")
    assert secrets.get_secret("account:one") is None
    secrets.delete_secret("account:one")  # deleting twice is not an error


def test_secrets_read_are_scrubbed_from_logs(ring: MemoryKeyring) -> None:
    ring.set_password("lumina", "account:two", "hunter2-unique-value")
    assert secrets.get_secret("account:two") == "hunter2-unique-value"
    assert "hunter2-unique-value" not in scrub("login failed for hunter2-unique-value")


def test_no_keyring_falls_back_to_a_0600_file_with_a_warning(
    no_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    info = secrets.backend_info()
    assert info["secure"] is False
    assert "no OS keyring" in info["warning"]
    assert str(secrets.fallback_path()) in info["warning"]

    with caplog.at_level(logging.WARNING, logger="lumina_tui.secrets"):
        secrets.set_secret("account:three", "pw-three")
        secrets.set_secret("account:four", "pw-four")
    assert any("0600" in record.getMessage() for record in caplog.records)

    path = secrets.fallback_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"account:three": "pw-three", "account:four": "pw-four"}
    assert secrets.get_secret("account:three") == "pw-three"
    secrets.delete_secret("account:three")
    assert secrets.get_secret("account:three") is None
    assert secrets.get_secret("account:four") == "pw-four"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_plaintext_keyring_is_not_trusted() -> None:
    previous = keyring.get_keyring()
    plaintext = PlaintextKeyring()
    keyring.set_keyring(plaintext)
    try:
        info = secrets.backend_info()
        assert info["secure"] is False
        assert "plain text" in info["warning"]
        secrets.set_secret("account:five", "pw-five")
        assert plaintext.stored == {}
        assert secrets.get_secret("account:five") == "pw-five"
    finally:
        keyring.set_keyring(previous)


def test_a_secret_from_the_fallback_stays_readable_once_a_keyring_exists(no_keyring: None) -> None:
    secrets.set_secret("account:six", "pw-six")
    with_ring = MemoryKeyring()
    keyring.set_keyring(with_ring)
    assert secrets.get_secret("account:six") == "pw-six"
    secrets.delete_secret("account:six")
    assert secrets.get_secret("account:six") is None


def test_empty_references_and_values_are_refused(ring: MemoryKeyring) -> None:
    with pytest.raises(ValueError):
        secrets.set_secret("", "x")
    with pytest.raises(ValueError):
        secrets.set_secret("account:x", "")
    assert ring.passwords == {}
