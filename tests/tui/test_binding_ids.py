"""Every binding id can be written as a bare key under `[keymap]` in config.toml.

A dotted id (`tone.formal = "h"`) would be read by TOML as a nested table and the remap would be
lost, so ids are plain words joined by underscores.
"""

from __future__ import annotations

import re
import tomllib

from lumina_tui.tui import bindings

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _all_bindings():  # type: ignore[no-untyped-def]
    for name in dir(bindings):
        value = getattr(bindings, name)
        if isinstance(value, list):
            yield from (b for b in value if hasattr(b, "id"))


def test_every_binding_id_is_a_bare_toml_key() -> None:
    ids = [b.id for b in _all_bindings()]
    assert ids, "bindings.py exposes no binding lists"
    for binding_id in ids:
        assert binding_id and BARE_KEY.match(binding_id), binding_id
        parsed = tomllib.loads(f'[keymap]\n{binding_id} = "f9"\n')
        assert parsed["keymap"] == {binding_id: "f9"}
