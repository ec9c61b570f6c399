"""SMTP provider throughput to a local aiosmtpd sink: one reused connection vs a connection per message.

Run: .venv/bin/python bench/bench_smtp_provider.py
Prints per-send p50/p99 and emails/s for the provider (connection reused, the worker's case) and for a
baseline measured in the same run (plain smtplib: connect, send, quit for every message). The goal
for the whole worker is >= 50 emails/s; the provider alone must leave plenty of room for that.
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchrows import Rows, quantiles, single
from smtp_sink import SmtpSink

from lumina_tui.providers.base import AccountConfig
from lumina_tui.providers.mime_builder import build_message, make_message_id
from lumina_tui.providers.smtp import SmtpProvider

N = 400


def message(n: int):
    email_id = str(uuid.uuid4())
    return email_id, build_message(
        from_email="rep@acme.test",
        from_name="Rep at Acme",
        to_email=f"p{n}@brightwave.example",
        to_name="Ana Okafor",
        subject="Grüße aus Köln — quick question",
        body_text="Hi Ana,\n\n" + "A short cold email body. " * 30,
        body_html="<p>Hi Ana,</p><p>" + "A short cold email body. " * 30 + "</p>",
        message_id=make_message_id(email_id, "acme.test"),
        email_id=email_id,
        date=datetime(2026, 1, 1),
    )


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(label: str, samples: list[float], total: float) -> float:
    """Prints one line; returns emails/s."""
    rate = len(samples) / total
    print(
        f"{label:<34} p50 {pct(samples, 0.50):6.2f} ms  p99 {pct(samples, 0.99):6.2f} ms  "
        f"{rate:8.1f} emails/s"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the figures as rows for bench/report.py")
    rows = Rows("smtp_provider", parser.parse_args().json)
    build_times = []
    prepared = []
    for n in range(N):
        start = time.perf_counter()
        prepared.append(message(n))
        build_times.append(time.perf_counter() - start)
    print(f"{'build_message':<34} p50 {pct(build_times, 0.5):6.2f} ms  p99 {pct(build_times, 0.99):6.2f} ms")

    with SmtpSink() as sink:
        # Baseline: smtplib with a new connection for every message.
        base_samples = samples = []
        began = time.perf_counter()
        for _email_id, msg in prepared:
            start = time.perf_counter()
            with smtplib.SMTP(sink.host, sink.port, timeout=10) as conn:
                conn.send_message(msg)
            samples.append(time.perf_counter() - start)
        baseline = report("baseline: connection per message", samples, time.perf_counter() - began)

        config = AccountConfig(
            account_id=str(uuid.uuid4()),
            provider="smtp",
            email="rep@acme.test",
            settings={"host": sink.host, "port": sink.port, "security": "plain"},
        )
        samples = []
        began = time.perf_counter()
        with SmtpProvider(config) as provider:
            for email_id, msg in prepared:
                start = time.perf_counter()
                provider.send(msg, email_id=email_id)
                samples.append(time.perf_counter() - start)
        reused = report("SmtpProvider: reused connection", samples, time.perf_counter() - began)
        assert sink.wait_for(2 * N, timeout=30), "the sink did not receive every message"
        print(
            f"speed-up over baseline: {reused / baseline:.2f}x; connections used by the provider: "
            f"{sink.connections - N}"
        )
        print(f"goal (whole worker) >= 50 emails/s: provider alone {'OK' if reused >= 50 else 'MISSED'}")
        rows.add("SmtpProvider.send, reused connection", "ms", quantiles(samples),
                 baseline_name="smtplib connection per message", baseline=quantiles(base_samples))
        rows.add("SmtpProvider throughput, reused connection", "emails/s", single(reused),
                 baseline_name="smtplib connection per message", baseline=single(baseline),
                 higher_is_better=True, goal=">= 50 emails/s (whole worker)", met=reused >= 50)
    rows.add("build_message", "ms", quantiles(build_times))
    rows.write()
    print(f"median build+send budget per email: {statistics.median(build_times) * 1000:.2f} ms build")


if __name__ == "__main__":
    main()
