"""Composer benchmark in a real terminal (a pty), not Pilot: keystroke-to-frame latency and cold start.

Standalone: `.venv/bin/python bench/bench_tui.py [--keys N]`. Everything runs in a temporary
LUMINA_HOME with the demo workspace and the offline AI engine.

1. Keystroke to frame: `lumina --no-worker --draft ID` on a 5,000-word body, with the AI panel
   showing a suggestion (a 5,000-word diff, stale after the first key, so it is re-diffed in the
   background during pauses) and the score card refreshing after pauses, against a bare Textual
   TextArea app holding the same body, in the same run, keys alternating between the two. This
   script plays the terminal: it answers Textual's synchronized-output query, so every frame
   arrives between `CSI ?2026h` and `CSI ?2026l`; a key's latency runs from writing it to the end
   of the first frame that shows it. Keys are `~`, which nothing else on either screen contains.
   Goals: p50 and p95 within 1.25x of the bare app, p50 < 16 ms.
2. Cold start: from spawning `lumina --no-worker` to the end of its first frame (the composer,
   saying "opening…" while the store opens in a thread), against the bare app's; goals p50 < 800 ms
   and < 2x the bare app (issue 10 point 9). Also shown, without a goal: the time until the draft
   is on screen ("ready"). The package is byte-compiled first, as an install leaves it (this
   machine sets PYTHONDONTWRITEBYTECODE, which made every start compile Lumina's modules again).
3. Send confirmation: Enter in the send review to the frame showing "Queued — sending in …"
   (the email row stored, the undo banner up); goal p95 < 100 ms. No worker runs, so nothing leaves.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import fcntl
import os
import pty
import random
import shutil
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from benchrows import Rows, quantiles

COLS, ROWS = 120, 40
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"
FRAME_END = b"\x1b[?2026l"
KEY = b"~"
WORDS = 5_000
PARAGRAPH_WORDS = 100
GOAL_RATIO = 1.25
GOAL_P50_MS = 16.0
GOAL_COLD_MS = 800.0
GOAL_COLD_RATIO = 2.0
GOAL_SEND_MS = 100.0
#: On screen once the composer shows a draft of the bench's (every subject starts so).
READY_TEXT = b"Weekly reporting"
WARM_UP_KEYS = 10  # per app, not counted: the first edits fill caches in both

VOCABULARY = [
    "teams",
    "reporting",
    "weekly",
    "operations",
    "warehouse",
    "carrier",
    "invoices",
    "month",
    "end",
    "close",
    "numbers",
    "spreadsheet",
    "dashboard",
    "inbound",
    "docks",
    "scanners",
    "routes",
    "freight",
    "customers",
    "quarter",
    "pipeline",
    "forecast",
    "budget",
    "hours",
    "manual",
    "sync",
    "tools",
    "finance",
    "planning",
    "shipments",
    "orders",
    "returns",
    "partners",
    "lanes",
    "capacity",
    "review",
]


# ------------------------------------------------------------------------------------ the bare app


def run_bare_app(body_file: str) -> None:
    """The baseline: nothing but a soft-wrapping TextArea with the same body."""
    from textual.app import App, ComposeResult
    from textual.widgets import TextArea

    body = Path(body_file).read_text(encoding="utf-8")

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield TextArea(body, soft_wrap=True, id="body")

        def on_mount(self) -> None:
            self.query_one(TextArea).focus()

    Bare().run()


# ------------------------------------------------------------------------------------ the terminal


class Terminal:
    """A pty running one program; answers the sync query; records output with arrival times."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.spawned = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.buffer = bytearray()
        self.frame_ends: list[tuple[int, float]] = []  # (offset after the frame end, arrival time)
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            with self.cond:
                start = max(0, len(self.buffer) - len(FRAME_END))
                self.buffer.extend(chunk)
                if SYNC_QUERY in self.buffer[start:]:
                    os.write(self.fd, SYNC_REPLY)
                position = start
                while (found := self.buffer.find(FRAME_END, position)) != -1:
                    position = found + len(FRAME_END)
                    self.frame_ends.append((position, now))
                self.cond.notify_all()

    def first_frame(self, timeout: float = 30.0) -> float:
        """Seconds from spawn to the end of the first synchronized frame."""
        with self.cond:
            if not self.cond.wait_for(lambda: self.frame_ends, timeout):
                raise RuntimeError(f"no frame within {timeout} s: {bytes(self.buffer[-500:])!r}")
            return self.frame_ends[0][1] - self.spawned

    def wait_for_text(self, needle: bytes, timeout: float = 60.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: needle in self.buffer, timeout):
                raise RuntimeError(f"{needle!r} not seen within {timeout} s: {bytes(self.buffer[-800:])!r}")

    def quiet(self, seconds: float = 0.3, timeout: float = 30.0) -> None:
        """Wait until no output arrived for `seconds` (the app settled)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                size = len(self.buffer)
            time.sleep(seconds)
            with self.cond:
                if len(self.buffer) == size:
                    return

    def keystroke(self, key: bytes) -> float:
        """Seconds from writing `key` to the end of the first frame after it that shows it."""
        return self.until_shown(key, key)

    def until_shown(self, key: bytes, text: bytes, timeout: float = 10.0) -> float:
        """Seconds from writing `key` to the end of the first frame after it that contains `text`."""
        with self.cond:
            mark = len(self.buffer)
            seen = len(self.frame_ends)
        sent = time.perf_counter()
        os.write(self.fd, key)
        with self.cond:

            def shown() -> float | None:
                for end, at in self.frame_ends[seen:]:
                    if text in self.buffer[mark:end]:
                        return at
                return None

            if not self.cond.wait_for(lambda: shown() is not None, timeout):
                raise RuntimeError(f"{text!r} never reached the screen")
            arrived = shown()
        assert arrived is not None
        return arrived - sent

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.fd)


# ------------------------------------------------------------------------------------ the workspace


def make_body(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(WORDS // PARAGRAPH_WORDS):
        words = [rng.choice(VOCABULARY) for _ in range(PARAGRAPH_WORDS)]
        words[0] = words[0].capitalize()
        paragraphs.append(" ".join(words) + ".")
    return "Hi Ana,\n\n" + "\n\n".join(paragraphs) + "\n\nBest,\nSam"


def prepare(home: Path, body: str, sends: int = 0) -> tuple[str, list[str]]:
    """The demo workspace, a draft with the long body, and `sends` short drafts ready to send."""
    from lumina_tui.services import demo, drafts, prospects
    from lumina_tui.services.runtime import open_runtime

    runtime = open_runtime()
    demo.seed(runtime.db, runtime.actor)
    ana = prospects.get(runtime.db, runtime.actor, "ana.okafor@brightwave.example")
    draft = drafts.create(
        runtime.db, runtime.actor, prospect_id=ana.id, subject="Weekly reporting at Brightwave", body=body
    )
    people = prospects.list_prospects(runtime.db, runtime.actor, limit=sends).items
    ready = [
        drafts.create(
            runtime.db,
            runtime.actor,
            prospect_id=person.id,
            subject="Weekly reporting",
            body=f"Hi {person.first_name},\n\nWould a short call about weekly reporting help?\n\nBest,\nSam",
        ).id
        for person in people
    ]
    return draft.id, ready


def lumina_argv(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("lumina")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from lumina_tui.cli import main; main(prog_name='lumina')", *args]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


# ------------------------------------------------------------------------------------ the runs


def cold_starts(
    env: dict[str, str], body_file: Path, runs: int
) -> tuple[list[float], list[float], list[float]]:
    """First frames of `lumina` and of the bare app, alternating; and when `lumina` showed the draft."""
    lumina, bare, ready = [], [], []
    for _ in range(runs):
        for argv, into in (
            (lumina_argv("--no-worker"), lumina),
            ([sys.executable, __file__, "--bare", str(body_file)], bare),
        ):
            terminal = Terminal(argv, env)
            try:
                into.append(terminal.first_frame())
                if into is lumina:
                    terminal.wait_for_text(READY_TEXT)
                    ready.append(time.perf_counter() - terminal.spawned)
            finally:
                terminal.close()
    return lumina, bare, ready


def keystrokes(
    env: dict[str, str], draft_id: str, body_file: Path, keys: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    lumina = Terminal(lumina_argv("--no-worker", "--draft", draft_id), env)
    bare = Terminal([sys.executable, __file__, "--bare", str(body_file)], env)
    try:
        lumina.wait_for_text(b"Tone")
        bare.first_frame()
        # Make the AI panel and the score card live: a suggestion for the whole 5,000 words, a score.
        lumina.write(b"\x07")  # ctrl+g: personalize
        lumina.wait_for_text(b"suggestion ready")
        lumina.write(b"\x0c")  # ctrl+l: score
        lumina.wait_for_text(b"spam risk")
        lumina.quiet()
        bare.quiet()
        lumina_times: list[float] = []
        bare_times: list[float] = []
        for index in range(keys + WARM_UP_KEYS):
            order = [(lumina, lumina_times), (bare, bare_times)]
            if index % 2:
                order.reverse()  # alternate which app goes first
            for terminal, times in order:
                times.append(terminal.keystroke(KEY))
            # A typist's rhythm, and now and then a pause long enough for the score and the
            # stale suggestion's re-diff to run in the background while the next keys arrive.
            time.sleep(rng.uniform(0.02, 0.08) if index % 25 else 0.9)
        return lumina_times[WARM_UP_KEYS:], bare_times[WARM_UP_KEYS:]
    finally:
        lumina.close()
        bare.close()


def send_confirmations(env: dict[str, str], draft_ids: list[str]) -> list[float]:
    """Seconds from Enter in the review to the frame with the "Queued" banner, one app per send."""
    times = []
    for draft_id in draft_ids:
        terminal = Terminal(lumina_argv("--no-worker", "--draft", draft_id), env)
        try:
            terminal.wait_for_text(b"Tone")
            terminal.quiet()
            terminal.write(b"\x13")  # ctrl+s: save, build the review
            terminal.wait_for_text(b"Send this email?")
            terminal.quiet()
            times.append(terminal.until_shown(b"\r", b"Queued"))
        finally:
            terminal.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=400, help="keystrokes per app (default 400)")
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--sends", type=int, default=5)
    parser.add_argument("--bare", metavar="BODY_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    args = parser.parse_args()
    if args.bare:
        run_bare_app(args.bare)
        return 0

    home = Path(tempfile.mkdtemp(prefix="lumina-bench-tui-"))
    for name in list(os.environ):
        if name.startswith("LUMINA_") or name in {"NO_COLOR", "TEXTUAL_THEME"}:
            del os.environ[name]
    os.environ.update(
        {
            "LUMINA_HOME": str(home),
            "LUMINA_WORKER__AUTOSTART_SIDECAR": "false",
            "LUMINA_AI_ENGINE": "offline",
            "LUMINA_COMPOSER__AUTO_PERSONALIZE": "false",  # the bench types; it should not re-ask
            "TERM": "xterm-256color",
            "COLUMNS": str(COLS),
            "LINES": str(ROWS),
        }
    )
    env = dict(os.environ)
    import lumina_tui

    compileall.compile_dir(Path(lumina_tui.__file__).parent, quiet=1)
    rng = random.Random(5000)
    try:
        body = make_body(rng)
        body_file = home / "body.txt"
        body_file.write_text(body, encoding="utf-8")
        draft_id, ready = prepare(home, body, args.sends)
        print(f"body: {len(body.split())} words, {len(body)} characters; terminal {COLS}x{ROWS}")

        lumina_cold, bare_cold, ready_cold = cold_starts(env, body_file, args.cold_runs)
        lumina_times, bare_times = keystrokes(env, draft_id, body_file, args.keys, rng)
        send_times = send_confirmations(env, ready)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    ok = True
    print(f"\nkeystroke to frame ({args.keys} keys each, alternating; AI panel + score card live):")
    for label, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        mine, base = percentile(lumina_times, q), percentile(bare_times, q)
        ratio = mine / base if base else float("inf")
        line = f"  {label}: lumina {ms(mine)}   bare TextArea {ms(base)}   ratio {ratio:4.2f}x"
        if label in ("p50", "p95"):
            good = ratio <= GOAL_RATIO
            ok &= good
            line += f"   goal <= {GOAL_RATIO}x {'PASS' if good else 'FAIL'}"
        if label == "p50":
            good = mine * 1000 < GOAL_P50_MS
            ok &= good
            line += f", < {GOAL_P50_MS:g} ms {'PASS' if good else 'FAIL'}"
        print(line)
    mean_lumina, mean_bare = statistics.mean(lumina_times), statistics.mean(bare_times)
    print(f"  mean: lumina {ms(mean_lumina)}   bare TextArea {ms(mean_bare)}")

    cold = statistics.median(lumina_cold)
    bare_cold_p50 = statistics.median(bare_cold)
    cold_ratio = cold / bare_cold_p50
    cold_met = cold * 1000 < GOAL_COLD_MS and cold_ratio < GOAL_COLD_RATIO
    ok &= cold_met
    print(f"\ncold start to first frame ({args.cold_runs} runs each):")
    verdict = "PASS" if cold_met else "FAIL"
    print(
        f"  p50: lumina {ms(cold)} (max {ms(max(lumina_cold))})   bare TextArea {ms(bare_cold_p50)}"
        f"   ratio {cold_ratio:4.2f}x   goal < {GOAL_COLD_MS:g} ms and < {GOAL_COLD_RATIO:g}x {verdict}"
    )
    print(f"  draft on screen (ready) p50: {ms(statistics.median(ready_cold))} (max {ms(max(ready_cold))})")

    send_p50, send_p95 = percentile(send_times, 0.5), percentile(send_times, 0.95)
    send_met = send_p95 * 1000 < GOAL_SEND_MS
    ok &= send_met
    print(f"\nsend confirmation, Enter to the 'Queued' banner ({len(send_times)} sends):")
    verdict = "PASS" if send_met else "FAIL"
    print(
        f"  p50 {ms(send_p50)}   p95 {ms(send_p95)}   max {ms(max(send_times))}"
        f"   goal p95 < {GOAL_SEND_MS:g} ms {verdict}"
    )

    rows = Rows("tui", args.json)
    k50, k95 = percentile(lumina_times, 0.5), percentile(lumina_times, 0.95)
    b50, b95 = percentile(bare_times, 0.5), percentile(bare_times, 0.95)
    rows.add("keystroke to frame (pty, 5,000 words, AI live)", "ms", quantiles(lumina_times),
             baseline_name="bare Textual TextArea", baseline=quantiles(bare_times),
             target="< 16 ms (typing)", target_met=k95 * 1000 < GOAL_P50_MS,
             goal=f"p50, p95 <= {GOAL_RATIO}x bare; p50 < {GOAL_P50_MS:g} ms",
             met=k50 <= GOAL_RATIO * b50 and k95 <= GOAL_RATIO * b95 and k50 * 1000 < GOAL_P50_MS)
    rows.add("cold start to first frame", "ms", quantiles(lumina_cold),
             baseline_name="bare Textual app", baseline=quantiles(bare_cold),
             goal=f"p50 < {GOAL_COLD_MS:g} ms and < {GOAL_COLD_RATIO:g}x bare", met=cold_met)
    rows.add("cold start to the draft on screen", "ms", quantiles(ready_cold))
    rows.add("send confirmation (Enter to 'Queued')", "ms", quantiles(send_times),
             target=f"p95 < {GOAL_SEND_MS:g} ms", target_met=send_met,
             goal=f"p95 < {GOAL_SEND_MS:g} ms", met=send_met)
    rows.write()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
