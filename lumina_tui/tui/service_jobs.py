"""Running a service call off the event loop, and the one way its result comes back.

The UI thread rule (docs/invariants.md): no screen calls a service on the event loop. A screen hands
`run_service` a job, a function that calls the services and returns a typed message (its result
or its failure, as the screen wants to show it); the job runs in a thread worker and the message is
posted to the screen, whose `on_...` handler shows it. Not `call_from_thread`, not `worker.result`:
one way, so every screen reads alike. `tests/tui/test_ui_thread.py` checks the rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, get_current_worker

from lumina_tui.tui.messages import error_text

log = logging.getLogger(__name__)


@dataclass
class ServiceFailed(Message):
    """A job raised what it did not expect (a bug, not a service's refusal): the app says it once."""

    group: str
    text: str


def run_service(
    node: DOMNode,
    job: Callable[[], Message | None],
    *,
    group: str,
    exclusive: bool = True,
    owner: DOMNode | None = None,
) -> Worker[None]:
    """Run `job` in a thread worker and post the message it returns to `node`. A job replaced by a
    newer one of its group (`exclusive`) posts nothing: its answer is out of date.

    `owner` (default `node`) is the node the worker belongs to: it gets the worker's state-change
    messages and cancels the worker when it is removed. A screen under a modal must not own a job
    that runs while the modal is up: Textual repaints a background screen, and the whole modal over
    it, for every message it handles (the send review's send: `compose/send_flow.py`)."""

    def work() -> None:
        try:
            message = job()
        except Exception as exc:  # jobs return their expected failures as messages
            log.exception("%s: the job failed", group)
            message = ServiceFailed(group, error_text(exc))
        if message is not None and not get_current_worker().is_cancelled:
            node.post_message(message)

    return (owner or node).run_worker(
        work, thread=True, group=group, exclusive=exclusive, exit_on_error=False, name=group
    )
