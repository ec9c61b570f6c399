"""Benchmark `lumina serve` under load: POST /emails/draft and POST /emails/send (issue 13).

Three processes on loopback: `lumina serve` (the real server, real SQLite store and send queue),
a bare ASGI endpoint doing one INSERT per request (bench/bare_asgi.py, the baseline), and this
script, the load generator: `--clients` concurrent clients (httpx, asyncio), each sending its
requests one after another, so at most `--clients` requests are in flight. Latency is per request,
measured by the client; the figures are p50/p95/p99 of each phase, beside the bare endpoint's in
the same run (on a shared machine the ratio is what counts). The design's goal: p95 < 500 ms at
200 concurrent clients.

Each send names its own draft (made beforehand through the services) and its own Idempotency-Key,
so every request queues a new email, as a CRM would. The sidecar worker is off: this measures the
API's answer, not delivery.

Run: .venv/bin/python bench/bench_api.py [--clients 200] [--per-client 5] [--workers 1] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchrows import Rows, quantiles  # noqa: E402

GOAL_P95_MS = 500.0
PASSWORD = "bench-password-123"


def load_average() -> str:
    """The machine's 1-minute load average: on a shared box the absolute figures mean little
    without it (the ratio to the bare endpoint is what carries over)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lumina(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("lumina")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "lumina_tui.cli", *args]


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def seed(n_drafts: int) -> tuple[str, str, list[str]]:
    """A team, its owner's access token, a maildir account, one prospect and `n_drafts` drafts."""
    from lumina_tui.config import load_settings
    from lumina_tui.services import accounts, drafts, prospects, team
    from lumina_tui.services.runtime import open_runtime

    settings = load_settings()
    settings.api.access_token_seconds = 3600
    rt = open_runtime(settings)
    team.init_team(rt.db, rt.actor, name="Bench", owner_email="lead@bench.test", password=PASSWORD)
    account = accounts.add_account(
        rt.db, rt.actor, provider="maildir", name="outbox", email="lead@bench.test"
    )
    prospect = prospects.create(rt.db, rt.actor, email="dana@northwind.test", first_name="Dana")
    draft_ids = [
        drafts.create(
            rt.db,
            rt.actor,
            prospect_id=prospect.id,
            subject=f"Hello {i}",
            body="Hi Dana,\n\nA note.",
            account_id=account.id,
        ).id
        for i in range(n_drafts)
    ]
    pair = team.sign_in(
        rt.db, email="lead@bench.test", password=PASSWORD, key=team.signing_key(), access_seconds=3600
    )
    return pair.access_token, prospect.id, draft_ids


async def phase(
    base_url: str, clients: int, per_client: int, make_request, warmup: int = 20
) -> tuple[list[float], dict[int, int]]:
    """Latencies (s) of clients x per_client requests; statuses counted."""
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        for i in range(warmup):
            await make_request(http, -1 - i)
        counter = iter(range(clients * per_client))

        async def client() -> None:
            for _ in range(per_client):
                n = next(counter)
                started = time.perf_counter()
                try:
                    status = (await make_request(http, n)).status_code
                except httpx.TransportError:
                    status = 0  # the connection failed: counted, and the goal is then not met
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="lumina serve --workers")
    parser.add_argument("--quick", action="store_true", help="2 requests per client")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    per_client = 2 if args.quick else args.per_client
    total = args.clients * per_client

    home = tempfile.mkdtemp(prefix="lumina-bench-api-")
    os.environ.update(
        {
            "LUMINA_HOME": home,
            # No keyring on a bench box: the 0600 file, shared by this process and the server.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "LUMINA_WORKER__AUTOSTART_SIDECAR": "false",
        }
    )
    token, prospect_id, draft_ids = seed(total + 40)
    auth = {"Authorization": f"Bearer {token}"}

    api_port, bare_port = free_port(), free_port()
    api = subprocess.Popen(
        lumina("serve", "--port", str(api_port), "--workers", str(args.workers)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    bare = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_asgi.py"), str(Path(home) / "bare.db"), str(bare_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    try:
        wait_healthy(api_url, api)
        wait_healthy(bare_url, bare)
        body = {
            "prospect_id": prospect_id,
            "subject": "Quick question",
            "body": "Hi Dana,\n\nA note.\n\nJordan",
        }

        async def bare_insert(http, n):
            return await http.post("/insert", json=body)

        async def draft(http, n):
            return await http.post("/emails/draft", headers=auth, json=body)

        async def send(http, n):
            draft_id = draft_ids[n]  # negative n: the warm-up drafts at the end of the list
            return await http.post(
                "/emails/send",
                headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
                json={"draft_id": draft_id},
            )

        results = {}
        for name, url, request in (
            ("bare INSERT", bare_url, bare_insert),
            ("POST /emails/draft", api_url, draft),
            ("POST /emails/send", api_url, send),
        ):
            started = time.perf_counter()
            latencies, statuses = asyncio.run(phase(url, args.clients, per_client, request))
            elapsed = time.perf_counter() - started
            results[name] = (latencies, statuses, elapsed)
            q = quantiles(latencies)
            print(
                f"{name:<22} {len(latencies)} requests, {args.clients} clients: p50 {q['p50']:.0f} ms"
                f"  p95 {q['p95']:.0f} ms  p99 {q['p99']:.0f} ms  ({len(latencies) / elapsed:.0f} req/s)"
                f"  statuses {statuses}  load average {load_average()}",
                flush=True,
            )
    finally:
        for proc in (api, bare):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    rows = Rows("bench_api", args.json)
    base_q = quantiles(results["bare INSERT"][0])
    ok = True
    for name, expected in (("POST /emails/draft", 201), ("POST /emails/send", 202)):
        latencies, statuses, elapsed = results[name]
        q = quantiles(latencies)
        all_ok = statuses == {expected: len(latencies)}
        met = q["p95"] < GOAL_P95_MS and all_ok
        ok = ok and met
        rows.add(
            f"{name}, {args.clients} concurrent clients (workers={args.workers})",
            "ms",
            q,
            baseline_name="bare ASGI endpoint, one INSERT",
            baseline=base_q,
            target="p95 < 500 ms at 200 concurrent clients",
            goal="p95 < 500 ms",
            met=met,
            target_met=met,
            note=f"{len(latencies) / elapsed:.0f} req/s; statuses {statuses}; load average {load_average()}",
        )
        print(
            f"{name}: p95 {q['p95']:.0f} ms vs bare {base_q['p95']:.0f} ms "
            f"(x{q['p95'] / max(base_q['p95'], 1e-9):.1f}); goal p95 < {GOAL_P95_MS:.0f} ms: "
            f"{'met' if met else 'NOT met'}"
        )
    rows.write()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
