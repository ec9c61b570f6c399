"""Private PostgreSQL and Redis servers on 127.0.0.1 for the team-mode tests.

Each starts once per test session in a throwaway folder on a free port and is torn down at the end.
PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user the Debian
package creates (`runuser`). Where a server cannot start (not installed, no such user), `why_*`
says why and the tests that need it skip with that reason; they never fail obscurely.

Speed over durability: the cluster runs with fsync, full-page writes and synchronous commit off
(a crashed test cluster is thrown away anyway). Every test gets a fresh database cloned from a
template that is migrated once (`CREATE DATABASE ... TEMPLATE`), so a test pays tens of
milliseconds, not a migration run.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin(name: str) -> str | None:
    for folder in PG_BIN_CANDIDATES:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def _wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes] | None, root: Path) -> None:
    """End a private server (gracefully, then by force) and throw its folder away."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    shutil.rmtree(root, ignore_errors=True)


class _Stoppable(Protocol):
    def stop(self) -> None: ...


Server = TypeVar("Server", bound=_Stoppable)


class _SessionServer(Generic[Server]):
    """One private server for the whole test session: started on first use, stopped at exit.

    `get()` returns it, or raises RuntimeError with the reason it cannot run (`why_not` says what
    is missing; a failed start says what went wrong), and keeps raising the same reason without
    trying again, so every test that needs it skips quickly with one clear message."""

    def __init__(self, what: str, why_not: Callable[[], str | None], start: Callable[[], Server]) -> None:
        self._what, self._why_not, self._start = what, why_not, start
        self._server: Server | None = None
        self._error: str | None = None
        self._lock = threading.Lock()

    def get(self) -> Server:
        with self._lock:
            if self._server is not None:
                return self._server
            if self._error is None:
                self._error = self._why_not()
            if self._error is None:
                try:
                    self._server = self._start()
                except Exception as exc:  # any start-up failure becomes the skip reason
                    self._error = f"{self._what} could not start: {exc}"
                else:
                    atexit.register(self._server.stop)
                    return self._server
            raise RuntimeError(self._error)


@dataclass
class PostgresServer:
    """One private cluster; `new_database()` hands out fresh migrated databases."""

    root: Path
    port: int
    user: str | None  # the OS user the server runs as (None: this process's own)
    process: subprocess.Popen[bytes] | None = None
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _template_ready: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, database: str, *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres", driver="postgresql"), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # test-built DDL, no parameters

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        from lumina_tui.store.db import Database

        self.admin("CREATE DATABASE lumina_template")
        db = Database(self.url("lumina_template"))
        try:
            db.migrate()
        finally:
            db.dispose()
        self._template_ready = True

    def new_database(self, *, migrated: bool = True) -> str:
        """The URL of a new, empty database (migrated from the template unless asked otherwise)."""
        with self._lock:
            name = f"lumina_test_{os.getpid()}_{next(self._numbers)}"
            if migrated:
                self._ensure_template()
                self.admin(f"CREATE DATABASE {name} TEMPLATE lumina_template")
            else:
                self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        with contextlib.suppress(Exception):  # the cluster is thrown away at the end anyway
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        _stop(self.process, self.root)


def _as_user(argv: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def why_no_postgres() -> str | None:
    if _pg_bin("initdb") is None or _pg_bin("postgres") is None:
        return "PostgreSQL is not installed (apt-get install postgresql); the PostgreSQL variants skip"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg package is not installed; the PostgreSQL variants skip"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing, so PostgreSQL cannot be started"
    return None


def _start_postgres() -> PostgresServer:
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="lumina-pg-"))
    data = root / "data"
    if user:
        info = pwd.getpwnam(user)
        os.chown(root, info.pw_uid, info.pw_gid)
    os.chmod(root, 0o700)
    init = subprocess.run(
        _as_user(
            [
                _pg_bin("initdb") or "initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            user,
        ),
        capture_output=True,
        timeout=180,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-400:]}")
    port = _free_port()
    log = root / "postgres.log"
    argv = [
        _pg_bin("postgres") or "postgres",
        "-D",
        str(data),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-k",
        str(root),
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=300",
        "-c",
        "shared_buffers=32MB",
    ]
    with open(log, "wb") as out:
        if user:
            info = pwd.getpwnam(user)
            os.chown(log, info.pw_uid, info.pw_gid)
        process = subprocess.Popen(_as_user(argv, user), stdout=out, stderr=subprocess.STDOUT)
    server = PostgresServer(root=root, port=port, user=user, process=process)
    if not _wait_for_port(port, 120) or process.poll() is not None:
        tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
        server.stop()
        raise RuntimeError(f"the server did not listen on 127.0.0.1:{port}: {tail}")
    # Accepting TCP is not yet accepting logins: wait until a query works.
    deadline = time.monotonic() + 120
    while True:
        try:
            server.admin("SELECT 1")
            return server
        except Exception as exc:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the server never accepted a login: {exc}") from exc
            time.sleep(0.1)


# -- Redis -----------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()

    def stop(self) -> None:
        _stop(self.process, self.root)


def why_no_redis() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server); the Redis tests skip"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis package is not installed; the Redis tests skip"
    return None


def _start_redis() -> RedisServer:
    root = Path(tempfile.mkdtemp(prefix="lumina-redis-"))
    port = _free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--protected-mode",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(port=port, root=root, process=process)
    if not _wait_for_port(port, 60) or process.poll() is not None:
        server.stop()
        raise RuntimeError(f"redis-server did not listen on 127.0.0.1:{port}")
    return server


_postgres = _SessionServer("PostgreSQL", why_no_postgres, _start_postgres)
_redis = _SessionServer("Redis", why_no_redis, _start_redis)


def postgres() -> PostgresServer:
    """The session's cluster, started on first use; raises RuntimeError with the reason it cannot."""
    return _postgres.get()


def redis_server() -> RedisServer:
    """The session's Redis, started on first use; raises RuntimeError with the reason it cannot."""
    return _redis.get()
