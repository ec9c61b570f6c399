"""Wire-format fakes of the services Lumina talks to: Gmail, Microsoft Graph and their OAuth servers.

Each is a real HTTP server on 127.0.0.1 driven by the real client libraries; each module's docstring
documents its test API. `fakes.fixtures` has pytest fixtures for them (oauth, gmail, graph,
oauth_env), registered for every test folder by tests/conftest.py (`pytest_plugins`).
"""
