"""The composer's flows, each in one file, apart from its screen (`tui/screens/compose.py`).

The screen owns the layout, the widgets and the edit loop (typing pauses, the status line). Each flow
is a plain object with its own state and an explicit host interface (a `Protocol` in its module),
the pattern of `DraftAutosave`:

- `reads.py`: every store read and write the composer makes, as functions that run in a thread
  worker and return one typed message (the only way a result comes back to the event loop);
- `draft_session.py`: `DraftSession`, the open draft (open, switch, new, duplicate, prospect,
  template, From account, $EDITOR);
- `suggestions.py`: `SuggestionSession`, the AI requests and the rep's decision on their answer
  (request numbers, basis, staleness, accept/reject, feedback) and the score;
- `send_flow.py`: `SendFlow`, the send (review, in-flight flag, undo countdown, undo).

Nothing here calls a service on the event loop: `tests/tui/test_ui_thread.py` fails if one does.
"""
