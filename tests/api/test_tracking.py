"""Opt-in open/click tracking (issue 13 point 5): off by default, HMAC-signed tokens, no open redirect."""

from __future__ import annotations

import base64
import json
import re

import pytest
from api_support import client_for, send_through_api, team_workspace
from click.testing import CliRunner
from db_snapshot import snapshot

from lumina_tui.cli import main
from lumina_tui.services import accounts, outbox, tracking


@pytest.fixture
def tracked(settings, db):
    public = settings.model_copy(
        update={"api": settings.api.model_copy(update={"public_url": "https://lumina.north.test/"})}
    )
    ws = team_workspace(db, "Northwind", "lead@north.test")
    with client_for(public, db) as api:
        yield api, ws, public


def _send(api, ws, body: str) -> dict:
    return send_through_api(api, ws, body=body).email


BODY = "Hi Ana,\n\nOur pricing: https://bright.test/pricing?a=1&b=2\n\nJordan"


def test_off_by_default_nothing_is_rewritten(tracked) -> None:
    api, ws, _ = tracked
    email = _send(api, ws, BODY)
    assert "/t/" not in email["body_html"]
    assert 'href="https://bright.test/pricing?a=1&amp;b=2"' in email["body_html"]


def test_on_the_pixel_and_links_are_signed_and_recorded_once(tracked, db) -> None:
    api, ws, _ = tracked
    tracking.set_tracking(db, ws.actor, "outbox", True)
    email = _send(api, ws, BODY)
    html = email["body_html"]
    pixel = re.search(r'src="https://lumina\.north\.test/t/o/([^"]+)"', html).group(1)
    link = re.search(r'href="https://lumina\.north\.test/t/c/([^"]+)"', html).group(1)
    assert "bright.test/pricing" not in html.split("<img")[0].split("href=")[1][:80]

    opened = api.get(f"/t/o/{pixel}")
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    assert opened.headers["cache-control"].startswith("no-store")
    api.get(f"/t/o/{pixel}")  # a second open is not a second event
    clicked = api.get(f"/t/c/{link}", follow_redirects=False)
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://bright.test/pricing?a=1&b=2"  # exactly the rep's URL
    events = api.get(f"/emails/{email['id']}/events", headers=ws.headers).json()["items"]
    kinds = [e["event_type"] for e in events]
    assert kinds.count("opened") == 1 and kinds.count("clicked") == 1


def test_tampered_and_foreign_tokens_are_404_and_store_nothing(tracked, db, settings) -> None:
    api, ws, _ = tracked
    tracking.set_tracking(db, ws.actor, "outbox", True)
    email = _send(api, ws, BODY)
    link = re.search(r"/t/c/([^\"]+)\"", email["body_html"]).group(1)
    payload, mac = link.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    evil = dict(body, u="https://evil.test/phish")
    evil_payload = (
        base64.urlsafe_b64encode(json.dumps(evil, separators=(",", ":")).encode()).rstrip(b"=").decode()
    )
    other_key = tracking.sign("another key entirely", "c", email["id"], "https://evil.test/")
    before = snapshot(settings.db_path)
    for token in [
        f"{evil_payload}.{mac}",  # the URL changed, the MAC kept
        other_key,  # signed with another key
        link[:-2] + ("AA" if not link.endswith("AA") else "BB"),  # the MAC changed
        "nodot",
        f"{payload}.{mac}.extra",
        tracking.sign(tracking.tracking_key(), "o", email["id"]),  # an open token used as a click
    ]:
        response = api.get(f"/t/c/{token}", follow_redirects=False)
        assert response.status_code == 404, token
        assert "location" not in response.headers
    assert api.get(f"/t/o/{link}").status_code == 404  # a click token used as a pixel
    assert snapshot(settings.db_path) == before
    with pytest.raises(Exception, match="http"):
        tracking.sign("k", "c", email["id"], "javascript:alert(1)")


def test_cli_turns_tracking_on_with_a_warning(db, actor) -> None:
    account = accounts.add_account(db, actor, provider="maildir", name="outbox", email="rep@north.test")
    assert tracking.is_enabled(account) is False  # off by default
    done = CliRunner().invoke(main, ["accounts", "tracking", "outbox", "--on", "--json"])
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["tracking"] is True
    assert "deliverability" in done.stderr and "public_url" in done.stderr
    assert tracking.is_enabled(accounts.get_account(db, actor, account.id)) is True
    off = CliRunner().invoke(main, ["accounts", "tracking", "outbox", "--off", "--json"])
    assert off.exit_code == 0 and json.loads(off.stdout)["tracking"] is False
    missing = CliRunner().invoke(main, ["accounts", "tracking", "nope", "--on", "--json"])
    assert missing.exit_code == 2 and json.loads(missing.stderr)["error"]["code"] == "not_found"


def test_sending_without_public_url_leaves_html_alone(api, ws, db) -> None:
    tracking.set_tracking(db, ws.actor, "outbox", True)
    email = _send(api, ws, BODY)
    assert "/t/" not in outbox.get_email(db, ws.actor, email["id"]).body_html
