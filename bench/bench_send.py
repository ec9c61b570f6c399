"""Send-path benchmark: intent latency, enqueue-to-accepted latency, one worker's throughput.

Standalone: `.venv/bin/python bench/bench_send.py [--quick]`. Everything runs in a temporary
LUMINA_HOME against a real SQLite store, a real `lumina worker` process and a local aiosmtpd sink
on 127.0.0.1; each figure is printed beside a baseline measured in the same run:

1. send intent (`services.sending.send`, 10 s undo window) vs a bare sqlite3 INSERT + huey enqueue;
   goal p99 < 5 ms (issue 14).
2. undo window off, idle worker: from the doorbell enqueued to the SMTP server's acceptance, vs a
   bare smtplib send to the same sink; goal p95 < 250 ms.
3. one worker's throughput to the sink vs smtplib sending on one reused connection; goal >= 250/s (issue 14).
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

HOME = Path(tempfile.mkdtemp(prefix="lumina-bench-send-"))
os.environ["LUMINA_HOME"] = str(HOME)
os.environ["LUMINA_WORKER__AUTOSTART_SIDECAR"] = "false"
for name in list(os.environ):
    if name.startswith("LUMINA_") and name not in {"LUMINA_HOME", "LUMINA_WORKER__AUTOSTART_SIDECAR"}:
        del os.environ[name]

from aiosmtpd.controller import Controller  # noqa: E402
from benchrows import Rows, quantiles, single  # noqa: E402
from huey import SqliteHuey  # noqa: E402

from lumina_tui import queue  # noqa: E402
from lumina_tui.config import load_settings  # noqa: E402
from lumina_tui.services import accounts, drafts, prospects, sending  # noqa: E402
from lumina_tui.services.runtime import Runtime, open_runtime  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


class _AnyPortController(Controller):
    """Binds port 0 (a free port from the OS); aiosmtpd's readiness probe then needs the real port."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Sink:
    """aiosmtpd on 127.0.0.1 recording when each message (by X-Lumina-Email-Id) was accepted."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.count = 0
        self.cond = threading.Condition()
        self.controller = _AnyPortController(self, hostname="127.0.0.1", port=0)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        header = b"X-Lumina-Email-Id: "
        data = envelope.original_content or envelope.content or b""
        start = data.find(header)
        email_id = data[start + len(header) : data.find(b"\r\n", start)].decode() if start >= 0 else ""
        with self.cond:
            self.accepted.setdefault(email_id, now)
            self.count += 1
            self.cond.notify_all()
        return "250 OK"

    def start(self) -> int:
        self.controller.start()
        return self.controller.port

    def wait(self, predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-c", "from lumina_tui.cli import main; main(prog_name='lumina')", "worker"],
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=handle,
    )
    handle.close()
    from lumina_tui.services.worker_status import read_status

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = read_status(load_settings())
        if status.online and status.pid == proc.pid:
            time.sleep(0.3)  # let it finish its start-up sweep and reach the idle polling loop
            return proc
        time.sleep(0.02)
    raise SystemExit("the worker did not come online")


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(30)


def sending_at(rev: str) -> Any:
    """`services/sending.py` as it was at git revision `rev`, loaded beside today's, so that a
    before/after comparison runs interleaved in one process against one store (`--before REV`)."""
    import importlib.util

    source = subprocess.run(
        ["git", "show", f"{rev}:lumina_tui/services/sending.py"],
        cwd=Path(__file__).resolve().parent.parent, check=True, capture_output=True, text=True,
    ).stdout
    spec = importlib.util.spec_from_loader(f"sending_{rev}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, f"sending.py@{rev}", "exec"), module.__dict__)  # our own file, at rev
    # Both versions score with today's scorer (an older score_snapshot may not fit today's ai/
    # types; it would then store {} and measure less work): the comparison is of the rest.
    module.score_snapshot = sending.score_snapshot
    return module


def bench_intent(rt: Runtime, n: int, before: Any = None) -> dict[str, list[float]]:
    """Wall and CPU (thread_time) per send; with `before` (an older sending module), that one too,
    each draft sent by one of them in turn (ABBA order), so both see the same store and load."""
    settings = load_settings(undo_window_seconds=10)
    prospect = prospects.create(rt.db, rt.actor, email="bench@brightwave.example", first_name="Bea")
    versions = [("ours", sending)] + ([("before", before)] if before is not None else [])
    ids = [
        drafts.create(
            rt.db, rt.actor, prospect_id=prospect.id, subject="Quick question", body="Hi Bea,\n\nA call?"
        ).id
        for _ in range(n * len(versions))
    ]
    for name, module in versions:
        warm = module.send(
            rt.db,
            rt.actor,
            draft_id=drafts.create(rt.db, rt.actor, prospect_id=prospect.id, body="warm").id,
            settings=settings,
        )  # warm-up: imports, pools, the scorer's first run
        if not warm.email.score_snapshot:
            # An older sending.py against today's ai/ may fail to score (advisory: it stores {}):
            # then its figure measures less work than it did at the time.
            print(f"   WARNING: {name} stored no score: its figure leaves the scorer out")
    out: dict[str, list[float]] = {}
    for i, draft_id in enumerate(ids):
        turn = (i // len(versions)) % 2
        name, module = versions[(i + turn) % len(versions)]
        start, cpu = time.perf_counter(), time.thread_time()
        module.send(rt.db, rt.actor, draft_id=draft_id, settings=settings)
        out.setdefault(name, []).append(time.perf_counter() - start)
        out.setdefault(f"{name}_cpu", []).append(time.thread_time() - cpu)

    # Baseline: the least any durable send intent costs here — one INSERT committed, one enqueue.
    conn = sqlite3.connect(HOME / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE outbox (id TEXT PRIMARY KEY, payload TEXT NOT NULL)")
    # The same queue storage as Lumina's (WAL, synchronous=NORMAL), so only the service's own work differs.
    huey = SqliteHuey(
        "baseline",
        storage_class=queue.OutboxQueueStorage,
        filename=str(HOME / "baseline-queue.db"),
        results=False,
    )
    ring = huey.task()(lambda email_id: None)
    for i in range(n):
        start, cpu = time.perf_counter(), time.thread_time()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO outbox VALUES (?, ?)", (f"e{i}", "Hi Bea, a call?"))
        conn.execute("COMMIT")
        ring(f"e{i}")
        out.setdefault("base", []).append(time.perf_counter() - start)
        out.setdefault("base_cpu", []).append(time.thread_time() - cpu)
    conn.close()
    return out


def bench_latency(rt: Runtime, port: int, sink: Sink, n: int) -> tuple[list[float], ...]:
    settings = load_settings(undo_window_seconds=0)
    prospect = prospects.create(rt.db, rt.actor, email="latency@brightwave.example", first_name="Lea")
    ids = [
        drafts.create(rt.db, rt.actor, prospect_id=prospect.id, subject="Hello", body="Hi Lea").id
        for _ in range(n)
    ]
    worker = start_worker(rt.settings.log_dir / "bench-worker.out")
    enqueue_to_accept, intent_to_accept = [], []
    try:
        for draft_id in ids:
            time.sleep(0.15)  # the worker goes idle: its polling backs off to max_delay
            start = time.perf_counter()
            email = sending.send(rt.db, rt.actor, draft_id=draft_id, settings=settings).email
            enqueued = time.perf_counter()
            if not sink.wait(lambda e=email.id: e in sink.accepted, timeout=30):
                raise SystemExit(f"email {email.id} was not delivered")
            accepted = sink.accepted[email.id]
            enqueue_to_accept.append(accepted - enqueued)
            intent_to_accept.append(accepted - start)
    finally:
        stop_worker(worker)

    # Baseline: the same kind of message straight to the sink with smtplib (connect, send, quit).
    base = []
    for i in range(n):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "sam@acme.test",
            "lea@brightwave.example",
            "Hello",
        )
        message["X-Lumina-Email-Id"] = f"baseline-{i}"
        message.set_content("Hi Lea")
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(message)
        base.append(sink.accepted[f"baseline-{i}"] - start)
    return enqueue_to_accept, intent_to_accept, base


def process_cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far, all threads, user + system (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_throughput(rt: Runtime, port: int, sink: Sink, n: int) -> tuple[float, float, float | None]:
    settings = load_settings(undo_window_seconds=0)
    prospect = prospects.create(rt.db, rt.actor, email="volume@brightwave.example", first_name="Vic")
    for _ in range(n):
        draft = drafts.create(rt.db, rt.actor, prospect_id=prospect.id, subject="Volume", body="Hi Vic")
        sending.send(rt.db, rt.actor, draft_id=draft.id, settings=settings)
    before = sink.count
    worker_proc = start_worker(rt.settings.log_dir / "bench-worker.out")
    try:
        # Timed from the first acceptance to the last, so process start-up is not counted.
        if not sink.wait(lambda: sink.count >= before + 1, timeout=60):
            raise SystemExit("the worker delivered nothing")
        first = time.perf_counter()
        cpu_first = process_cpu_seconds(worker_proc.pid)
        if not sink.wait(lambda: sink.count >= before + n, timeout=600):
            raise SystemExit("the worker did not deliver everything")
        ours = (n - 1) / (time.perf_counter() - first)
        cpu_last = process_cpu_seconds(worker_proc.pid)
        # The worker's own CPU per email (every thread: sends, doorbells, consumers), which the
        # machine's load does not inflate the way it inflates the wall time.
        cpu_per_email = None if cpu_first is None or cpu_last is None else (cpu_last - cpu_first) / (n - 1)
    finally:
        stop_worker(worker_proc)

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "sam@acme.test", "vic@brightwave.example", "Volume"
    message.set_content("Hi Vic")
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for _ in range(n):
            client.send_message(message)
    base = n / (time.perf_counter() - start)
    return ours, base, cpu_per_email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary LUMINA_HOME for a look")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    parser.add_argument("--only", choices=["intent", "latency", "throughput"], action="append",
                        help="run only these parts (repeatable; default: all)")
    parser.add_argument("--before", metavar="REV",
                        help="also run services/sending.py as of git revision REV, interleaved (intent)")
    args = parser.parse_args()
    try:
        run(args)
    finally:
        queue.close_all()
        if not args.keep:
            shutil.rmtree(HOME, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    n_intent, n_latency, n_volume = (100, 20, 100) if args.quick else (500, 100, 1000)

    rt = open_runtime()
    sink = Sink()
    port = sink.start()
    accounts.add_account(
        rt.db,
        rt.actor,
        provider="smtp",
        email="sam@acme.test",
        settings={"host": "127.0.0.1", "port": port, "security": "plain"},
        make_default=True,
    )
    print(f"LUMINA_HOME={HOME}")

    parts = set(args.only or ["intent", "latency", "throughput"])
    rows = Rows("send", args.json)
    if "intent" in parts:
        bench_intent_part(rt, rows, n_intent, args.before)
    if "latency" in parts:
        bench_latency_part(rt, rows, port, sink, n_latency)
    if "throughput" in parts:
        bench_throughput_part(rt, rows, port, sink, n_volume)
    rows.write()
    sink.controller.stop()


def bench_intent_part(rt: Runtime, rows: Rows, n_intent: int, before_rev: str | None = None) -> None:
    found = bench_intent(rt, n_intent, sending_at(before_rev) if before_rev else None)
    ours, base = found["ours"], found["base"]
    print(f"\n1. send intent, n={n_intent} (services.sending.send, undo window 10 s)")
    print(f"   load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"   {'':24s} {'wall p50':>10s} {'p95':>9s} {'p99':>9s}   {'CPU p50':>9s} {'p99':>9s}")
    shown = [("lumina", "ours"), *([(f"lumina at {before_rev}", "before")] if before_rev else []),
             ("baseline (INSERT+enqueue)", "base")]
    for label, key in shown:
        wall, cpu = found[key], found[f"{key}_cpu"]
        print(
            f"   {label:24s} {pct(wall, 0.5) * 1000:10.2f} {pct(wall, 0.95) * 1000:9.2f} "
            f"{pct(wall, 0.99) * 1000:9.2f}   {pct(cpu, 0.5) * 1000:9.2f} {pct(cpu, 0.99) * 1000:9.2f}  ms"
        )
    print(
        f"   ratio    p50 {pct(ours, 0.5) / pct(base, 0.5):5.1f}x     "
        f"p99 {pct(ours, 0.99) / pct(base, 0.99):5.1f}x     "
        f"CPU p50 {pct(found['ours_cpu'], 0.5) / pct(found['base_cpu'], 0.5):5.1f}x"
        f"     goal p99 < 5 ms: {'met' if pct(ours, 0.99) < 0.005 else 'MISSED'}"
    )
    if before_rev:
        print(
            f"   ours / before: wall p50 {pct(ours, 0.5) / pct(found['before'], 0.5):.2f}x, "
            f"CPU p50 {pct(found['ours_cpu'], 0.5) / pct(found['before_cpu'], 0.5):.2f}x"
        )
    rows.add("send intent (sending.send, undo 10 s)", "ms", quantiles(ours),
             baseline_name="sqlite3 INSERT + huey enqueue", baseline=quantiles(base),
             target="< 200 ms (send confirmation)", target_met=pct(ours, 0.99) < 0.2,
             goal="p99 < 5 ms", met=pct(ours, 0.99) < 0.005)
    rows.add("send intent CPU (thread_time per send)", "ms", quantiles(found["ours_cpu"]),
             baseline_name="sqlite3 INSERT + huey enqueue, CPU", baseline=quantiles(found["base_cpu"]),
             note="CPU time: what a loaded machine's queueing for a core does not inflate")
    print(f"   (sending.send mean {statistics.mean(ours) * 1000:.2f} ms)")
    queue.close_all()


def bench_latency_part(rt: Runtime, rows: Rows, port: int, sink: Sink, n_latency: int) -> None:
    to_accept, from_intent, base = bench_latency(rt, port, sink, n_latency)
    print(f"\n2. enqueue -> SMTP accepted, undo window off, idle worker, n={n_latency}")
    print(f"   lumina   p50 {ms(pct(to_accept, 0.5))}   p95 {ms(pct(to_accept, 0.95))}   (from the doorbell)")
    print(f"   lumina   p50 {ms(pct(from_intent, 0.5))}   p95 {ms(pct(from_intent, 0.95))}   (from send())")
    print(f"   baseline p50 {ms(pct(base, 0.5))}   p95 {ms(pct(base, 0.95))}   (smtplib connect+send+quit)")
    print(
        f"   ratio    p50 {pct(to_accept, 0.5) / pct(base, 0.5):5.1f}x     "
        f"p95 {pct(to_accept, 0.95) / pct(base, 0.95):5.1f}x"
        f"     goal p95 < 250 ms: {'met' if pct(to_accept, 0.95) < 0.250 else 'MISSED'}"
    )

    rows.add("enqueue -> SMTP accepted (idle worker)", "ms", quantiles(to_accept),
             baseline_name="smtplib connect+send+quit", baseline=quantiles(base),
             target="< 5 s per email (worker)", target_met=pct(from_intent, 0.99) < 5,
             goal="p95 < 250 ms", met=pct(to_accept, 0.95) < 0.250)


def bench_throughput_part(rt: Runtime, rows: Rows, port: int, sink: Sink, n_volume: int) -> None:
    rate, base_rate, cpu = bench_throughput(rt, port, sink, n_volume)
    print(f"\n3. one worker's throughput, n={n_volume}")
    print(f"   lumina   {rate:8.1f} emails/s   baseline {base_rate:8.1f} emails/s (smtplib, one connection)")
    if cpu is not None:
        print(f"   worker CPU {cpu * 1000:6.2f} ms per email (all its threads; 250/s needs < 4 ms)")
    print(
        f"   ratio    {rate / base_rate:5.2f}x     goal >= 250 emails/s: {'met' if rate >= 250 else 'MISSED'}"
    )
    rows.add(f"one worker's throughput, {n_volume} emails", "emails/s", single(rate),
             baseline_name="smtplib, one connection", baseline=single(base_rate), higher_is_better=True,
             target="< 5 s per email (worker)", target_met=rate > 0.2,
             goal=">= 250 emails/s", met=rate >= 250)


if __name__ == "__main__":
    main()
