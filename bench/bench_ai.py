"""Benchmark the AI package: offline personalize, score, and the orchestrator's own cost on the
OpenAI path. Prints p50/p99 and exits 1 if a goal is missed.

Goals (ISSUE 4): offline personalize p99 < 50 ms and score p99 < 5 ms on a 300-word email;
orchestrator overhead on the OpenAI path (everything but the HTTP round trip) p50 < 5 ms (issue 15
point 4; it was < 10 ms), measured
as (personalize against a local chat-completions server) - (a bare HTTP round trip to the same
server with the same payload), pairwise in the same run.

Run: .venv/bin/python bench/bench_ai.py
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ai"))  # the local chat-completions server

sys.path.insert(0, str(ROOT / "bench"))
from benchrows import Rows, quantiles  # noqa: E402
from fake_openai_server import FakeOpenAI, completion  # noqa: E402

from lumina_tui.ai import choose_engine, personalize, score  # noqa: E402
from lumina_tui.ai.models import CompanyInput, DraftInput, ProspectInput, SenderProfile  # noqa: E402

PARAGRAPH = (
    "I noticed {{company}} is hiring SDRs in Denver, and most teams we talk to spend about six "
    "hours a week per rep on prospect research before a single email goes out. Lumina cuts that "
    "research time by 40% and plugs into Salesforce and HubSpot, so reps spend their mornings "
    "selling instead of digging through tabs. Ramp's sales team now books 1,200 meetings a "
    "quarter with it, and their new hires ramp faster because the research is already done."
)


def three_hundred_words() -> DraftInput:
    body_paragraphs = []
    words = 0
    while words < 290:
        body_paragraphs.append(PARAGRAPH)
        words += len(PARAGRAPH.split())
    body = "Hi {{first_name}},\n\n" + "\n\n".join(body_paragraphs)
    body += "\n\nWould a 20-minute call on Thursday make sense?\n\nBest,\nJordan"
    return DraftInput(subject="Research time at {{company}}", body=body, prospect_id="p-1")


PROSPECT = ProspectInput(
    first_name="Dana", last_name="Whitfield", email="dana@northwind.example",
    company="Northwind Logistics", job_title="VP of Sales",
    custom_fields={"recent_news": "opened a Denver office in March", "crm": "Salesforce"},
)
COMPANY = CompanyInput(name="Northwind Logistics", domain="northwind.example",
                       industry="Logistics", size="201-500", location="Austin, TX")
SENDER = SenderProfile(
    sender_name="Jordan Lee", sender_title="Account Executive", company_name="Lumina",
    company_website="https://lumina.example",
    value_proposition="Lumina helps sales teams cut prospect research time.",
    proof_points=["Cut research time by 40% for Ramp's SDR team", "Trusted by 300 revenue teams"],
    signature="Jordan Lee\nAccount Executive, Lumina",
)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


ROWS = Rows("ai", None)


def report(name: str, samples_s: list[float], goal_ms: float | None, which: str = "p99",
           baseline: tuple[str, list[float]] | None = None, record: bool = True) -> bool:
    ms = [s * 1000 for s in samples_s]
    p50, p99 = pct(ms, 0.50), pct(ms, 0.99)
    value = p99 if which == "p99" else p50
    ok = goal_ms is None or value < goal_ms
    verdict = "" if goal_ms is None else f"goal {which} < {goal_ms:g} ms  {'PASS' if ok else 'FAIL'}"
    print(f"{name:<46} n={len(ms):<5} p50={p50:7.2f} ms  p99={p99:7.2f} ms  "
          f"mean={statistics.fmean(ms):7.2f} ms  {verdict}")
    if not record:
        return ok
    ROWS.add(name, "ms", quantiles(samples_s), baseline_name=baseline[0] if baseline else "",
             baseline=quantiles(baseline[1]) if baseline else None,
             target="p95 < 3 s (AI response)" if "total" in name else "",
             target_met=(pct(ms, 0.95) < 3000) if "total" in name else None,
             goal="" if goal_ms is None else f"{which} < {goal_ms:g} ms", met=None if goal_ms is None else ok)
    return ok


class Timer:
    """Wall time and this thread's CPU time. On a loaded machine (CI, a shared laptop) wall time
    includes waiting for a core; CPU time is what the code itself costs. Goals are checked on CPU
    time, wall time is printed next to it."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu.append(time.thread_time() - self._cpu)
        self.wall.append(time.perf_counter() - self._wall)


def bench_offline(draft: DraftInput) -> bool:
    for _ in range(20):  # warm imports, regexes, word lists
        personalize(draft, PROSPECT, COMPANY, SENDER, tone=0.5, use_cache=False)
    timer = Timer()
    for index in range(400):
        # A new draft every time, so no memoised analysis of the draft helps.
        edited = draft.model_copy(update={"body": f"{draft.body}\nP.S. Note {index} for you."})
        tone = (index % 3) / 2
        with timer:
            personalize(edited, PROSPECT, COMPANY, SENDER, tone=tone, use_cache=False)
    report("offline personalize, 300 words: wall", timer.wall, None)
    return report("offline personalize, 300 words: CPU", timer.cpu, 50)


def bench_score(draft: DraftInput) -> bool:
    body = draft.body.replace("{{first_name}}", "Dana").replace("{{company}}", "Northwind")
    for index in range(50):
        score({"subject": "Research time", "body": f"{body} warmup{index}"}, PROSPECT, COMPANY)
    timer = Timer()
    for index in range(1000):
        # A new text every time: textstat caches by text, the composer never scores one twice.
        text = f"{body}\nP.S. note {index} about item{index * 7919}."
        with timer:
            score({"subject": "Research time", "body": text}, PROSPECT, COMPANY, SENDER)
    report("score, 300 words (new text each time): wall", timer.wall, None)
    return report("score, 300 words (new text each time): CPU", timer.cpu, 5)


def bench_openai_overhead(draft: DraftInput) -> bool:
    server = FakeOpenAI().start()
    try:
        def reply_to(sent: DraftInput) -> None:
            """The model's answer to `sent`: its body with the placeholders filled. A new answer
            every round, as a real model gives: a fixed one let the fact finder's memo answer the
            output check from the previous round (0.85 ms instead of ~2.3 ms CPU at load ~12)."""
            server.reply = {
                "subject": "Research time at Northwind Logistics",
                "body": sent.body.replace("{{first_name}}", "Dana").replace(
                    "{{company}}", "Northwind Logistics"),
            }

        reply_to(draft)
        engine = choose_engine("openai", base_url=server.base_url, model="bench-model",
                               timeout=30, rate_limit=None)
        url = urlparse(server.base_url)
        connection = http.client.HTTPConnection(url.hostname, url.port)
        canned_payload = json.dumps({
            "model": "bench-model",
            "messages": [{"role": "user", "content": draft.body * 2}],
            "temperature": 0,
        })

        def bare_round_trip() -> tuple[float, float]:
            started, cpu = time.perf_counter(), time.process_time()
            connection.request("POST", url.path + "/chat/completions", body=canned_payload,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            json.loads(response.read())
            return time.perf_counter() - started, time.process_time() - cpu

        for index in range(20):
            bare_round_trip()
            personalize(draft, PROSPECT, COMPANY, SENDER, tone=index / 20, engine=engine,
                        use_cache=False)
        totals, bares, overheads, cpu_overheads = [], [], [], []
        for index in range(300):
            edited = draft.model_copy(update={"body": f"{draft.body}\nP.S. Note {index}."})
            reply_to(edited)
            bare, bare_cpu = bare_round_trip()
            started, cpu = time.perf_counter(), time.process_time()
            personalize(edited, PROSPECT, COMPANY, SENDER, tone=(index % 11) / 10,
                        engine=engine, use_cache=False)
            total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
            totals.append(total)
            bares.append(bare)
            overheads.append(total - bare)
            cpu_overheads.append(total_cpu - bare_cpu)
        connection.close()
        assert completion  # the server's own response builder is part of both paths
    finally:
        server.stop()
    report("OpenAI path: total, local server (wall)", totals, None,
           baseline=("bare HTTP round trip", bares))
    report("OpenAI path: bare HTTP round trip (wall)", bares, None, record=False)
    # Process CPU (the local server runs in this process, on both paths alike): what the
    # overhead costs without the waits for a core that a loaded machine adds to wall time.
    report("OpenAI path: orchestrator overhead (process CPU)", cpu_overheads, None)
    return report("OpenAI path: orchestrator overhead (wall)", overheads, 5, which="p50",
                  baseline=("bare HTTP round trip", bares))


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    ROWS.path = parser.parse_args().json
    draft = three_hundred_words()
    words = len(draft.body.split())
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"AI benchmarks (email of {words} words; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs, load average {load})")
    results = [bench_offline(draft), bench_score(draft), bench_openai_overhead(draft)]
    ROWS.write()
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
