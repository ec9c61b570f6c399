"""Wire-format fakes of the services Lumina talks to: Gmail, Microsoft Graph and their OAuth servers.

Each is a real HTTP server on 127.0.0.1 driven by the real client libraries; each module's docstring
documents its test API. `fakes.fixtures` has pytest fixtures for them (import the ones you need into
a conftest.py: `from fakes.fixtures import oauth, gmail, graph, oauth_env  # noqa: F401`).
"""
