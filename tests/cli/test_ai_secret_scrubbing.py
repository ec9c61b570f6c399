"""The AI path never prints, logs or stores the userinfo of LUMINA_AI_BASE_URL nor the API key.

`lumina ai personalize` runs as its own process against (a) a URL with userinfo whose port nothing
listens on (the `ai_unreachable` error quotes the URL) and (b) a real local HTTP server that answers
HTTP 400 with an error quoting the key and the Basic credentials it was sent. Then the whole
LUMINA_HOME and the captured output are grepped (tests/secret_grep.py).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from secret_grep import assert_grep_works, assert_no_secret

from lumina_tui.services import drafts, prospects

URL_PASSWORD = "url-Pw-4kZ9!secret"
API_KEY = "key-7Hq2-ai-unique"


def lumina(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lumina")
    return subprocess.run(
        [str(script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def draft_id(db, actor) -> str:
    prospect = prospects.create(db, actor, email="dana@brightwave.example", first_name="Dana",
                                company="Brightwave Logistics")
    return drafts.create(db, actor, prospect_id=prospect.id, subject="Hello",
                         body="Hi Dana,\n\nA quick question about your routes.\n\nSam").id


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with HTTP 400 quoting the credentials it was sent (a careless proxy)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        basic = self.headers.get("Authorization", "")
        body = json.dumps({"error": {"message": f"invalid credentials: {basic}; key={API_KEY}; "
                                                f"user password {URL_PASSWORD}"}}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _env(base_url: str) -> dict[str, str]:
    return {
        "LUMINA_AI_ENGINE": "openai",
        "LUMINA_AI_BASE_URL": base_url,
        "LUMINA_AI_API_KEY": API_KEY,
        "LUMINA_AI_TIMEOUT_SECONDS": "20",
    }


def test_unreachable_ai_url_with_userinfo_is_masked(draft_id: str, lumina_home: Path,
                                                    refused_port: int) -> None:
    url = f"http://rep:{URL_PASSWORD}@127.0.0.1:{refused_port}/v1"
    result = lumina("ai", "personalize", "--draft", draft_id, "--json", env=_env(url))
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "ai_unreachable"
    assert "127.0.0.1" in error["message"] and "***@" in error["message"]
    human = lumina("ai", "personalize", "--draft", draft_id, env=_env(url))
    assert human.returncode == 1 and "***@" in human.stderr

    assert_grep_works(URL_PASSWORD, lumina_home)
    assert_no_secret(URL_PASSWORD, lumina_home, result.stdout, result.stderr, human.stdout, human.stderr)
    assert_no_secret(API_KEY, lumina_home, result.stdout, result.stderr, human.stdout, human.stderr)


def test_an_ai_error_echoing_the_key_and_basic_auth_is_masked(
    draft_id: str, lumina_home: Path, echo_server: ThreadingHTTPServer
) -> None:
    url = f"http://rep:{URL_PASSWORD}@127.0.0.1:{echo_server.server_address[1]}/v1"
    result = lumina("ai", "personalize", "--draft", draft_id, "--json", env=_env(url))
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "ai_bad_request"
    assert "invalid credentials" in error["message"]  # the server's words are kept, minus secrets
    basic = base64.b64encode(f"rep:{URL_PASSWORD}".encode()).decode()
    for secret in (URL_PASSWORD, API_KEY, basic):
        assert_no_secret(secret, lumina_home, result.stdout, result.stderr)
