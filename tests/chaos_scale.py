"""How big a chaos run is: `make chaos` runs the full size, `make test` a smaller one.

The chaos tests start and SIGKILL tens of worker processes; at full size the SMTP run alone took
~10 minutes of a loaded 2-core box, more than CI's whole budget for `make test` allows. `make test`
runs every chaos test at a size that still kills several workers mid-send and checks every
invariant (nothing lost, duplicates only inside the measured window); `make chaos` (LUMINA_CHAOS=full)
runs the sizes whose figures the README and the closing notes quote.
"""

from __future__ import annotations

import os

FULL = os.environ.get("LUMINA_CHAOS") == "full"


def sized(full: int, ci: int) -> int:
    """`full` under `make chaos`, `ci` otherwise."""
    return full if FULL else ci
