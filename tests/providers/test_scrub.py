"""logs.scrub: the one scrubber every stored, logged and printed error passes through."""

from __future__ import annotations

import base64

from lumina_tui.ai.errors import AIError
from lumina_tui.logs import register_secret, register_url_credentials, scrub, scrub_data
from lumina_tui.providers.base import AuthError
from lumina_tui.services.errors import ProviderFailure


def test_url_userinfo_is_hidden_whether_registered_or_not() -> None:
    text = "Could not reach http://rep:s3cr3t@ai.local:8080/v1 (refused); see https://tok-abc@h.test/x"
    cleaned = scrub(text)
    assert "s3cr3t" not in cleaned and "tok-abc" not in cleaned
    assert "http://***@ai.local:8080/v1" in cleaned and "https://***@h.test/x" in cleaned
    # an "@" after the path is not userinfo, and a mail address is not a URL
    plain = "http://h.test/p?to=a@b.test and sam@acme.test"
    assert scrub(plain) == plain


def test_a_registered_secret_is_hidden_in_every_wire_form() -> None:
    secret = "Zx9!unique pw/+"
    register_secret(secret)
    b64 = base64.b64encode(secret.encode()).decode()
    for form in (secret, b64, "Zx9%21unique%20pw%2F%2B"):
        assert scrub(f"535 5.7.8 bad {form} rejected") == "535 5.7.8 bad *** rejected"
    assert scrub_data({"reason": [f"x {secret}"], "code": 535}) == {"reason": ["x ***"], "code": 535}


def test_url_credentials_registered_from_a_base_url_are_hidden_elsewhere() -> None:
    register_url_credentials("http://rep:p%40ss-Word9@ai.local/v1")
    assert scrub("the server said: p@ss-Word9 was refused") == "the server said: *** was refused"
    basic = base64.b64encode(b"rep:p@ss-Word9").decode()
    assert scrub(f"Authorization: Basic {basic}") == "Authorization: Basic ***"
    assert scrub("a basic question") == "a basic question"


def test_errors_scrub_their_own_text_before_anyone_can_store_or_print_it() -> None:
    register_secret("tok-ya29-unique")
    assert "tok-ya29-unique" not in AuthError("535 tok-ya29-unique refused").reason
    assert "tok-ya29-unique" not in AIError("auth", "refused tok-ya29-unique").message
    failure = ProviderFailure("acct: tok-ya29-unique", field="account", detail="tok-ya29-unique")
    assert "tok-ya29-unique" not in str(failure.as_dict())
