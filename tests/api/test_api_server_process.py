"""End to end through a real `lumina serve` process on 127.0.0.1 (issue 13 points 3 and 4).

The team is made with the CLI (`lumina team init`, `lumina users add`, `lumina accounts add`) in
child processes, so the JWT key lives where a real install keeps it (the 0600 fallback file here,
tests/conftest.py); the server is another process; the client speaks HTTP over loopback.
"""

from __future__ import annotations

import json

import httpx
from api_support import ServerProcess, run_cli

PASSWORD = "server-process-pw-1"


def test_sign_in_draft_send_and_read_back_through_a_server_process() -> None:
    init = run_cli(
        "team", "init", "--name", "Northwind", "--email", "lead@north.test", "--json", stdin=PASSWORD
    )
    assert init.returncode == 0, init.stderr
    added = run_cli("users", "add", "ana@north.test", "--json", stdin=PASSWORD)
    assert added.returncode == 0, added.stderr
    account = run_cli("accounts", "add", "maildir", "--name", "outbox", "--default", "--json")
    assert account.returncode == 0, account.stderr

    with ServerProcess() as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert http.get("/prospects").status_code == 401
        signed = http.post("/auth/token", json={"email": "lead@north.test", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        auth = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        pid = http.post("/prospects", headers=auth, json={"email": "dana@northwind.test"}).json()["id"]
        draft = http.post(
            "/emails/draft", headers=auth, json={"prospect_id": pid, "subject": "Hello", "body": "Hi Dana"}
        )
        assert draft.status_code == 201, draft.text
        key = {"Idempotency-Key": "e2e-1"}
        first = http.post("/emails/send", headers={**auth, **key}, json={"draft_id": draft.json()["id"]})
        assert first.status_code == 202, first.text
        second = http.post("/emails/send", headers={**auth, **key}, json={"draft_id": draft.json()["id"]})
        assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
        email = http.get(f"/emails/{first.json()['id']}", headers=auth).json()
        assert email["to_email"] == "dana@northwind.test" and email["idempotency_key"] == "e2e-1"

        # Ana (a member) signs in: same workspace, she sees the email; after `users remove` her
        # refresh token is revoked and her access token refused at once.
        ana = http.post("/auth/token", json={"email": "ana@north.test", "password": PASSWORD}).json()
        ana_auth = {"Authorization": f"Bearer {ana['access_token']}"}
        assert http.get(f"/emails/{email['id']}", headers=ana_auth).status_code == 200
        removed = run_cli("users", "remove", "ana@north.test", "--json")
        assert removed.returncode == 0, removed.stderr
        assert http.get(f"/emails/{email['id']}", headers=ana_auth).status_code == 401
        assert http.post("/auth/refresh", json={"refresh_token": ana["refresh_token"]}).status_code == 401
        big = http.post("/prospects", headers=auth, content=b"x" * 2_000_000)
        assert big.status_code == 413 and json.loads(big.text)["error"]["code"] == "payload_too_large"
