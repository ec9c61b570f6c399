"""A process that runs `lumina drafts save ID --subject ...` N times through the real CLI entry.

Usage: python cli_save_process.py DRAFT_ID SAVES TAG  (LUMINA_HOME from the environment)
Prints "ready", waits for a line on stdin (so two processes start together), then prints one JSON
line: {"exit_codes": {code: count}, "errors": [first stderr lines]}.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections import Counter


def main() -> None:
    draft_id, saves, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    from lumina_tui.cli import main as lumina

    print("ready", flush=True)
    sys.stdin.readline()
    codes: Counter[int] = Counter()
    errors: list[str] = []
    for i in range(saves):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                args = ["drafts", "save", draft_id, "--subject", f"{tag} {i}", "--json"]
                lumina.main(args, prog_name="lumina")
                code = 0
            except SystemExit as exit:
                code = int(exit.code or 0)
        codes[code] += 1
        if code:
            errors.append(err.getvalue().strip()[:300])
    print(json.dumps({"exit_codes": codes, "errors": errors[:5]}))


if __name__ == "__main__":
    main()
