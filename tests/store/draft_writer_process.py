"""A writer process for the two-process test: N threads saving drafts through the service layer.

Usage: python draft_writer_process.py DB_URL WORKSPACE_ID USER_ID FIRST_WRITER THREADS SAVES SHARED_DRAFT_ID
Prints "ready", waits for a line on stdin (so both processes start together), then prints one JSON
line: {"outcomes": {...}, "errors": [...], "own": {writer: draft_id}}.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections import Counter


def main() -> None:
    url, workspace_id, user_id, first, threads, saves, shared = sys.argv[1:8]
    first_writer, thread_count, save_count = int(first), int(threads), int(saves)

    from lumina_tui.services import drafts
    from lumina_tui.services.actors import Actor
    from lumina_tui.store import open_database

    db = open_database(url)
    actor = Actor(workspace_id=workspace_id, user_id=user_id)
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    own = {first_writer + k: str(uuid.uuid4()) for k in range(thread_count)}
    lock = threading.Lock()
    start = threading.Barrier(thread_count + 1)

    def writer(index: int) -> None:
        start.wait()
        for i in range(save_count):
            if i % 4 == 0:
                # Every writer of both processes saves the one shared draft, with revisions unique
                # across writers, so the final content must be the highest revision's.
                draft_id, revision = shared, i * 8 + index + 1
                subject = f"shared revision {revision}"
            else:
                draft_id, revision = own[index], i + 1
                subject = f"writer {index} revision {revision}"
            try:
                result = drafts.save(db, actor, draft_id, revision, subject=subject, body=subject * 3)
            except Exception as exc:
                with lock:
                    errors.append(f"{exc.__class__.__name__}: {exc}")
                continue
            with lock:
                outcomes[result.outcome] += 1

    workers = [threading.Thread(target=writer, args=(index,)) for index in own]
    for worker in workers:
        worker.start()
    print("ready", flush=True)
    sys.stdin.readline()
    start.wait()
    for worker in workers:
        worker.join()
    print(json.dumps({"outcomes": outcomes, "errors": errors[:20], "error_count": len(errors), "own": own}))


if __name__ == "__main__":
    main()
