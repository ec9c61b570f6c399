"""Bad input and broken surroundings, each run as a real `lumina` process: the documented error, never
a traceback, and nothing stored changed.

One row of CASES per path. A row says what to prepare (a config file, a database file, a read-only
folder, a held lock, a file-size limit), the command line (`{prospect}`, `{draft}` and `{tmp}` are
filled in; `bytes` arguments reach the process as raw bytes, e.g. b"\\xff" that is not UTF-8), and
the error expected on stderr: `{"error": {"code", "field", "message"}}` with `--json`, the exit code
(2: the caller's input, 1: I/O), and which file must stay byte for byte as it was. To cover a new
path, add a row.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from db_snapshot import snapshot

LUMINA = str(Path(sys.executable).with_name("lumina"))
BAD = b"\xff"  # not UTF-8 on its own


@dataclass
class World:
    """One test's LUMINA_HOME, seeded from the module's demo workspace."""

    home: Path
    tmp: Path
    prospect: str
    draft: str
    env: dict[str, str]
    preexec: Callable[[], None] | None = None
    hold: list[Any] = field(default_factory=list)  # open connections holding locks

    @property
    def db(self) -> Path:
        return self.home / "data" / "lumina.db"

    def config(self, text: str) -> None:
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        (self.home / "config" / "config.toml").write_text(text, encoding="utf-8")

    def database_url(self, path: Path) -> Path:
        self.env["LUMINA_DATABASE_URL"] = f"sqlite:///{path}"
        return path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with one draft, made once; each test copies it."""
    home = tmp_path_factory.mktemp("seeded") / "home"
    env = _env(home)
    subprocess.run([LUMINA, "demo", "--quiet"], env=env, check=True, capture_output=True, timeout=120)
    listing = subprocess.run(
        [LUMINA, "prospects", "list", "--json"], env=env, check=True, capture_output=True, timeout=60
    )
    prospect = json.loads(listing.stdout)["items"][0]["id"]
    made = subprocess.run(
        [LUMINA, "drafts", "new", "--prospect", prospect, "--subject", "Hello", "--json"],
        env=env, check=True, capture_output=True, timeout=60,
    )
    (home / "ids.json").write_text(json.dumps({"prospect": prospect, "draft": json.loads(made.stdout)["id"]}))
    return home


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    env.update(
        LUMINA_HOME=str(home),
        LUMINA_WORKER__AUTOSTART_SIDECAR="false",
        LUMINA_AI_ENGINE="offline",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        LC_ALL="C.UTF-8",
    )
    return env


@pytest.fixture
def world(seeded: Path, lumina_home: Path, tmp_path: Path) -> Iterator[World]:
    shutil.copytree(seeded, lumina_home, dirs_exist_ok=True)
    ids = json.loads((lumina_home / "ids.json").read_text())
    made = World(lumina_home, tmp_path, ids["prospect"], ids["draft"], _env(lumina_home))
    yield made
    for conn in made.hold:
        conn.close()
    for path in (lumina_home / "data", made.db):  # undo read-only modes so tmp_path can be removed
        if path.exists():
            os.chmod(path, 0o700 if path.is_dir() else 0o600)


# ----------------------------------------------------------------------------- preparations


def _without_root_override() -> None:
    """In the child, before exec: as root, drop the capabilities that ignore file modes."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def read_only_file(w: World) -> Path:
    os.chmod(w.db, 0o400)
    w.preexec = _without_root_override
    return w.db


def read_only_folder(w: World) -> Path:
    os.chmod(w.db.parent, 0o500)
    w.preexec = _without_root_override
    return w.db


def garbage_file(w: World) -> Path:
    path = w.database_url(w.tmp / "garbage.db")
    path.write_bytes(os.urandom(8192))
    return path


def folder_as_database(w: World) -> Path:
    path = w.database_url(w.tmp / "folder.db")
    path.mkdir()
    return path


def foreign_sqlite(w: World) -> Path:
    path = w.database_url(w.tmp / "crm.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts (email TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('a@example.com')")
    return path


def no_schema_version(w: World) -> Path:
    with sqlite3.connect(w.db) as conn:
        conn.execute("DROP TABLE schema_version")
    conn.close()
    return w.db


def newer_schema(w: World) -> Path:
    with sqlite3.connect(w.db) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (9999, 'from the future')")
    conn.close()
    return w.db


def locked(w: World) -> Path:
    conn = sqlite3.connect(w.db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # held until the test ends: the command cannot get the write lock
    w.hold.append(conn)
    w.env["LUMINA_DATABASE_BUSY_TIMEOUT_SECONDS"] = "0.2"
    return w.db


def disk_full(w: World) -> Path:
    """A file-size limit (RLIMIT_FSIZE) below what the write needs: the kernel refuses the write as a
    full disk would, with SIGXFSZ ignored so the process sees the error."""
    limit = w.db.stat().st_size + 64 * 1024

    def child() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    w.preexec = child
    (w.tmp / "body.txt").write_text("PRIVATE-BODY-TEXT " * 30_000, encoding="utf-8")  # 540 kB
    # A tiny page cache (stored in the file's header) makes SQLite write during the UPDATE rather
    # than at COMMIT, so the failure is raised by the statement that carries the body as a parameter.
    with sqlite3.connect(w.db) as conn:
        conn.execute("PRAGMA default_cache_size = 10")
    conn.close()
    return w.db


def bad_toml(w: World) -> Path:
    w.config("undo_window_seconds = [\n")
    return w.db


def wrong_type_in_config(w: World) -> Path:
    w.config('undo_window_seconds = "soon"\n')
    return w.db


def wrong_type_nested(w: World) -> Path:
    w.config('[worker]\nthreads = "many"\n')
    return w.db


def wrong_type_in_env(w: World) -> Path:
    w.env["LUMINA_UNDO_WINDOW_SECONDS"] = "abc"
    return w.db


def deep_mime(w: World) -> Path:
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(2000)
    )
    tail = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(2000)))
    message = "Subject: hi\r\nMIME-Version: 1.0\r\n" + head + "Content-Type: text/plain\r\n\r\nhi" + tail
    (w.tmp / "deep.eml").write_text(message, encoding="ascii")
    return w.db


def huge_message(w: World) -> Path:
    with (w.tmp / "huge.eml").open("wb") as handle:
        handle.write(b"Subject: big\r\n\r\n")
        handle.truncate(40 * 1024 * 1024)  # 40 MB (sparse: no disk used)
    return w.db


# ----------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str | bytes, ...]
    code: str
    field: str | None
    exit: int = 2
    prepare: Callable[[World], Path] | None = None  # returns the file that must not change
    message: str = ""  # a part of the message that must be there
    json: bool = True


CASES = [
    # Text that is not UTF-8 (the shell passed raw bytes).
    Case("first-name-not-utf8", ("prospects", "add", "--email", "new@example.com", "--first-name", BAD),
         "invalid", "first_name", message="UTF-8"),
    Case("subject-not-utf8", ("drafts", "new", "--prospect", "{prospect}", "--subject", b"Hi " + BAD),
         "invalid", "subject", message="position 3"),
    Case("save-subject-not-utf8", ("drafts", "save", "{draft}", "--subject", BAD), "invalid", "subject"),
    Case("search-not-utf8", ("prospects", "list", "--search", BAD), "invalid", "search"),
    Case("idempotency-key-not-utf8", ("send", "--draft", "{draft}", "--idempotency-key", BAD),
         "invalid", "idempotency_key"),
    Case("account-name-not-utf8", ("accounts", "add", "maildir", "--name", BAD), "invalid", "name"),
    Case("account-ref-not-utf8", ("accounts", "remove", BAD), "invalid", "ref"),
    Case("send-from-not-utf8", ("send", "--draft", "{draft}", "--from", BAD), "invalid", "from_account"),
    Case("not-utf8-plain-output", ("prospects", "list", "--search", BAD), "", None,
         message="UTF-8", json=False),
    # Numbers out of range.
    Case("offset-huge", ("prospects", "list", "--offset", "99999999999999999999"), "invalid", "offset"),
    Case("drafts-offset-huge", ("drafts", "list", "--offset", "99999999999999999999"), "invalid", "offset"),
    Case("emails-offset-huge", ("emails", "list", "--offset", "99999999999999999999"), "invalid", "offset"),
    Case("revision-huge", ("drafts", "save", "{draft}", "--revision", "99999999999999999999"),
         "invalid", "revision"),
    # Click's own usage errors follow the contract too.
    Case("not-a-number", ("prospects", "list", "--limit", "x"), "invalid", "limit"),
    Case("unknown-option", ("prospects", "list", "--bogus"), "usage", "bogus"),
    Case("unknown-command", ("prospects", "lis"), "usage", None, message="No such command"),
    Case("missing-option", ("prospects", "add"), "invalid", "email"),
    # A missing input file is the caller's input: exit 2 on every verb.
    Case("import-missing-file", ("prospects", "import", "{tmp}/missing.csv"), "not_found", "file"),
    Case("body-file-missing", ("drafts", "new", "--prospect", "{prospect}", "--body-file", "{tmp}/nope.txt"),
         "not_found", "body_file"),
    Case("save-body-file-missing", ("drafts", "save", "{draft}", "--body-file", "{tmp}/nope.txt"),
         "not_found", "body_file"),
    Case("score-file-missing", ("ai", "score", "--file", "{tmp}/nope.eml"), "not_found", "file"),
    # Messages too big or too deep to score.
    Case("mime-2000-deep", ("ai", "score", "--file", "{tmp}/deep.eml"), "invalid", "message",
         prepare=deep_mime, message="multipart sections"),
    Case("message-40mb", ("ai", "score", "--file", "{tmp}/huge.eml"), "invalid", "file",
         prepare=huge_message, message="10 MB"),
    # Settings.
    Case("config-not-toml", ("prospects", "list"), "invalid_config", None, prepare=bad_toml,
         message="not valid TOML"),
    Case("config-wrong-type", ("drafts", "list"), "invalid_config", "undo_window_seconds",
         prepare=wrong_type_in_config, message="config.toml"),
    Case("config-wrong-type-nested", ("emails", "list"), "invalid_config", "worker.threads",
         prepare=wrong_type_nested),
    Case("env-wrong-type", ("prospects", "list"), "invalid_config", "undo_window_seconds",
         prepare=wrong_type_in_env, message="LUMINA_UNDO_WINDOW_SECONDS"),
    # The database file and its surroundings.
    Case("database-read-only", ("prospects", "add", "--email", "new@example.com"), "database_read_only",
         "database", exit=1, prepare=read_only_file, message="read-only"),
    Case("data-folder-read-only", ("prospects", "add", "--email", "new@example.com"),
         "database_read_only", "database", exit=1, prepare=read_only_folder, message="data folder"),
    Case("database-garbage", ("prospects", "list"), "database_corrupt", "database", exit=1,
         prepare=garbage_file, message="left untouched"),
    Case("database-is-a-folder", ("prospects", "list"), "database_not_a_file", "database", exit=1,
         prepare=folder_as_database),
    Case("database-not-lumina", ("prospects", "list"), "database_not_lumina", "database", exit=1,
         prepare=foreign_sqlite, message="contacts"),
    Case("database-without-schema-version", ("prospects", "list"), "database_unversioned", "database",
         exit=1, prepare=no_schema_version),
    Case("database-from-newer-lumina", ("drafts", "list"), "database_newer", "database", exit=1,
         prepare=newer_schema, message="9999"),
    Case("database-locked", ("prospects", "add", "--email", "new@example.com"), "database_locked",
         "database", exit=1, prepare=locked, message="locked"),
    Case("composer-on-garbage", ("--no-worker",), "", None, exit=1, prepare=garbage_file,
         message="not a readable SQLite database", json=False),
    Case("composer-draft-not-utf8", ("--draft", BAD), "", None, message="UTF-8", json=False),
    Case("disk-full", ("drafts", "save", "{draft}", "--body-file", "{tmp}/body.txt"), "disk_", "database",
         exit=1, prepare=disk_full),
]


def _arg(value: str | bytes, w: World) -> bytes:
    if isinstance(value, bytes):
        return value
    return os.fsencode(value.format(prospect=w.prospect, draft=w.draft, tmp=w.tmp))


def run_case(case: Case, w: World) -> tuple[subprocess.CompletedProcess[bytes], Path]:
    watched = case.prepare(w) if case.prepare else w.db
    before = _fingerprint(watched)
    args = [LUMINA.encode(), *(_arg(a, w) for a in case.args)] + ([b"--json"] if case.json else [])
    done = subprocess.run(
        args, env=w.env, capture_output=True, stdin=subprocess.DEVNULL, timeout=120, preexec_fn=w.preexec
    )
    for conn in w.hold:
        conn.rollback()
    assert _fingerprint(watched) == before, f"{watched} changed"
    return done, watched


def _fingerprint(path: Path) -> Any:
    if path.is_dir():
        return ("folder", sorted(p.name for p in path.iterdir()))
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    rows = None
    if data.startswith(b"SQLite format 3\x00"):
        rows = snapshot(path, skip=())
    return data, rows, wal.exists() and wal.stat().st_size > 0


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_the_documented_error_and_changes_nothing(case: Case, world: World) -> None:
    done, _ = run_case(case, world)
    stderr = done.stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in stderr, stderr
    assert done.returncode == case.exit, (done.returncode, stderr)
    if not case.json:
        assert case.message in stderr
        return
    assert done.stdout == b"", done.stdout
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr  # one line: no progress noise, no second report
    error = json.loads(lines[0])["error"]
    assert {"code", "field", "message"} <= set(error)
    assert error["code"].startswith(case.code), error
    assert error["field"] == case.field, error
    assert case.message in error["message"], error


def test_a_full_disk_never_prints_the_body(world: World) -> None:
    """SQLite's error text from SQLAlchemy carries the SQL parameters (the rep's body): they must reach
    neither the terminal nor the log."""
    case = next(c for c in CASES if c.id == "disk-full")
    done, _ = run_case(case, world)
    assert done.returncode == 1
    assert b"PRIVATE-BODY-TEXT" not in done.stderr + done.stdout
    log = world.home / "logs" / "lumina.log"
    assert not log.exists() or "PRIVATE-BODY-TEXT" not in log.read_text(encoding="utf-8", errors="replace")


def test_doctor_runs_with_a_broken_config_and_names_the_key(world: World) -> None:
    wrong_type_in_config(world)
    done = subprocess.run([LUMINA, "doctor", "--json"], env=world.env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["config"]["ok"] is False
    assert report["config"]["key"] == "undo_window_seconds"
    assert any("undo_window_seconds" in warning for warning in report["warnings"])
    plain = subprocess.run([LUMINA, "doctor"], env=world.env, capture_output=True, timeout=120)
    assert plain.returncode == 0 and b"undo_window_seconds" in plain.stdout


UNEXPECTED = """
import sys
from lumina_tui.services import plain_reads, prospects
def broken(*args, **kwargs):
    raise RuntimeError("SECRET-DETAIL of a bug")
prospects.list_prospects = broken
plain_reads.prospects_page = broken  # `--json` reads through the plain path first
from lumina_tui.cli import main
sys.argv = ["lumina", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("as_json", [True, False])
def test_an_unexpected_error_is_one_line_and_the_traceback_goes_to_the_log(
    world: World, as_json: bool
) -> None:
    args = [sys.executable, "-c", UNEXPECTED, "prospects", "list"] + (["--json"] if as_json else [])
    done = subprocess.run(args, env=world.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "SECRET-DETAIL" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    if as_json:
        error = json.loads(lines[0])["error"]
        assert (error["code"], error["field"]) == ("internal_error", None)
        assert "RuntimeError" in error["message"]
    else:
        assert lines[0].startswith("error: unexpected RuntimeError")
    log = (world.home / "logs" / "lumina.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "SECRET-DETAIL of a bug" in log
