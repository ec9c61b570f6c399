"""One way to name a snapshot: `test_snapshot_<screen>[_<state>][<width>x<height>]`.

Snapshot tests take their terminal sizes from `snapshot_sizes`, so every picture in
`__snapshots__/` is named by the size it shows (not `size0`, `size1`).
"""

from __future__ import annotations

import pytest


def snapshot_sizes(*sizes: tuple[int, int]) -> pytest.MarkDecorator:
    """Parametrize `size` with ids like `100x30`."""
    return pytest.mark.parametrize("size", [pytest.param(size, id=f"{size[0]}x{size[1]}") for size in sizes])
