"""pytest fixtures for the wire-format fakes (registered for all tests by tests/conftest.py).

oauth        an OAuthServer (HTTPS, its own CA) for the user rep@acme.test
gmail        a GmailServer checking tokens with `oauth`
graph        a GraphServer checking tokens with `oauth`
oauth_env    sets REQUESTS_CA_BUNDLE / SSL_CERT_FILE (this process and child processes) and the
             LUMINA_* settings that point Lumina's Google and Microsoft clients at the fakes;
             returns those variables as a dict, for a child process's environment
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_sink import TlsFiles, make_tls_files

from fakes.gmail_server import GmailServer
from fakes.graph_server import GraphServer
from fakes.oauth_server import OAuthServer


@pytest.fixture(scope="session")
def fake_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(Path(tmp_path_factory.mktemp("fake-tls")))


@pytest.fixture
def oauth(fake_tls: TlsFiles) -> Iterator[OAuthServer]:
    with OAuthServer(fake_tls) as server:
        yield server


@pytest.fixture
def gmail(oauth: OAuthServer) -> Iterator[GmailServer]:
    with GmailServer(oauth=oauth) as server:
        yield server


@pytest.fixture
def graph(oauth: OAuthServer) -> Iterator[GraphServer]:
    with GraphServer(oauth=oauth) as server:
        yield server


def lumina_oauth_env(
    oauth: OAuthServer, gmail: GmailServer | None, graph: GraphServer | None
) -> dict[str, str]:
    """The variables that point Lumina at the fakes (see lumina_tui/config.py, GoogleSettings and
    MicrosoftSettings)."""
    env = {
        "REQUESTS_CA_BUNDLE": str(oauth.ca_file),
        "SSL_CERT_FILE": str(oauth.ca_file),
        "LUMINA_GOOGLE__CLIENT_ID": oauth.client_id,
        "LUMINA_GOOGLE__CLIENT_SECRET": oauth.client_secret or "",
        "LUMINA_GOOGLE__TOKEN_URI": oauth.google_token_uri,
        "LUMINA_GOOGLE__AUTH_URI": oauth.google_auth_uri,
        "LUMINA_MICROSOFT__CLIENT_ID": oauth.client_id,
        "LUMINA_MICROSOFT__AUTHORITY": oauth.authority,
    }
    if gmail is not None:
        env["LUMINA_GOOGLE__API_URL"] = gmail.url
    if graph is not None:
        env["LUMINA_MICROSOFT__GRAPH_URL"] = graph.base_url
    return env


@pytest.fixture
def oauth_env(
    oauth: OAuthServer, gmail: GmailServer, graph: GraphServer, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    env = lumina_oauth_env(oauth, gmail, graph)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
