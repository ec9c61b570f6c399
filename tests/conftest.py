"""Every test runs in its own LUMINA_HOME with a real SQLite file; nothing touches a real profile.

The store, send and outcome suites (`ENGINE_SUITES`) run every test twice: on a SQLite file and on
a fresh database of a private PostgreSQL server (tests/team_servers.py), through the `store_engine`
parameter of `lumina_home`, not a copy of the tests. A test about SQLite itself (the file, its
locks, a full disk) is marked `sqlite_only`; one about PostgreSQL's own means `postgresql_only`.
Where PostgreSQL cannot start, the PostgreSQL variant skips with the reason.
LUMINA_TEST_ENGINES=sqlite runs the SQLite variant only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from memory_keyring import memory_keyring
from net_support import refusing_port

from lumina_tui.config import Settings, load_settings

# The wire-format fakes (Gmail, Graph, OAuth) as fixtures for every test folder: oauth, gmail, graph,
# oauth_env (tests/fakes/fixtures.py).
pytest_plugins = ("fakes.fixtures",)


TESTS = Path(__file__).parent
# Folders and files whose tests run on both engines (issue 13: the store, send and outcome suites).
# Of tests/sending, the send service, its queue and tasks, the idempotency race and the leases; the
# worker-process and chaos files run on SQLite (their PostgreSQL twin is test_team_chaos.py), which
# keeps `make test` inside its time budget.
ENGINE_SUITES = (
    "store/",
    "outcomes/",
    "sending/test_send_service.py",
    "sending/test_queue_and_tasks.py",
    "sending/test_idempotency_race.py",
    "sending/test_leases.py",
)


def _engines() -> list[str]:
    wanted = os.environ.get("LUMINA_TEST_ENGINES", "sqlite,postgresql")
    return [name for name in ("sqlite", "postgresql") if name in wanted.split(",")] or ["sqlite"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_engine" not in metafunc.fixturenames:
        return
    try:
        where = Path(str(metafunc.definition.path)).relative_to(TESTS).as_posix()
    except ValueError:
        return
    if metafunc.definition.get_closest_marker("postgresql_only") is not None:
        metafunc.parametrize("store_engine", ["postgresql"], indirect=True)
    elif where.startswith(ENGINE_SUITES) and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("store_engine", _engines(), indirect=True)


@pytest.fixture
def store_engine(request: pytest.FixtureRequest) -> str:
    """The engine this test's store runs on: "sqlite" (default) or "postgresql"."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(autouse=True)
def lumina_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_engine: str) -> Iterator[Path]:
    home = tmp_path / "lumina-home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("LUMINA_") or name in {"OPENAI_API_KEY", "NO_COLOR", "TEXTUAL_THEME"}:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LUMINA_HOME", str(home))
    pg_url = None
    if store_engine == "postgresql":
        import team_servers

        try:
            server = team_servers.postgres()
        except RuntimeError as exc:
            pytest.skip(str(exc))
        pg_url = server.new_database()
        monkeypatch.setenv("LUMINA_DATABASE_URL", pg_url)
    # The composer must never start a real sidecar from a unit test unless the test asks for one.
    monkeypatch.setenv("LUMINA_WORKER__AUTOSTART_SIDECAR", "false")
    # Child processes (workers, CLI runs) must never reach a developer's real keyring: with the fail
    # backend they use the 0600 fallback file inside this test's LUMINA_HOME.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with memory_keyring():  # and this process uses an in-memory one (tests may install their own)
        yield home
    from lumina_tui.services.runtime import reset_runtime
    from lumina_tui.store import close_all

    reset_runtime()
    close_all()
    if pg_url is not None:
        team_servers.postgres().drop(pg_url)


@pytest.fixture
def pg_server(store_engine: str):  # type: ignore[no-untyped-def]
    """The session's private PostgreSQL server (the test skips, saying why, where it cannot run)."""
    import team_servers

    try:
        return team_servers.postgres()
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def settings(lumina_home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def db(settings: Settings):
    from lumina_tui.store import open_database

    return open_database(settings.resolved_database_url)


@pytest.fixture
def actor(db):
    from lumina_tui.services.actors import local_actor

    return local_actor(db)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A 127.0.0.1 port that refuses connections for the whole test (held, so never reused)."""
    with refusing_port() as port:
        yield port


@pytest.fixture
def refused_url(refused_port: int) -> str:
    """An OpenAI-style base URL on a port that refuses connections."""
    return f"http://127.0.0.1:{refused_port}/v1"
