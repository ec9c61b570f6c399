"""`lumina ai personalize|rewrite|score|feedback`: the AI service as commands.

Personalize and rewrite print a suggestion (nothing is applied to the draft: accepting it is the
rep's move, in the composer or with `lumina drafts save`). Score reads a stored draft, or a whole
RFC 5322 message from a file or stdin (`--file MESSAGE.eml`, `--file -` or just `-`). With `--json`
stdout is one JSON document; errors go to stderr; exit 2 for bad input, 1 for an AI failure.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lumina_tui.cli.output import emit_json, json_option, revision_type, run_guarded
from lumina_tui.services.errors import NotFoundError, ValidationError


@click.group()
def ai() -> None:
    """Personalize, rewrite and score drafts; record feedback."""


def _print_suggestion(suggestion: Any) -> None:
    from lumina_tui.services.terminal_text import terminal_safe as safe

    content = suggestion.suggestion
    signals = suggestion.source_signals
    click.echo(f"suggestion {suggestion.suggestion_id}  ({suggestion.engine}/{suggestion.model})")
    click.echo(f"confidence {suggestion.confidence:.2f}  prospect {signals.prospect_match:.2f}  "
               f"company {signals.company_match:.2f}  tone {signals.tone_match:.2f}")
    for claim in suggestion.unsupported_claims:
        click.echo(f"unsupported {claim.kind}: {safe(claim.text)}")
    for note in getattr(suggestion, "notes", ()):
        click.echo(f"note: {safe(note)}")
    click.echo("")
    if content.subject is not None:
        click.echo(f"Subject: {safe(content.subject)}")
        click.echo("")
    click.echo(safe(content.body or "", multiline=True))


def _print_score(result: Any) -> None:
    from lumina_tui.services.terminal_text import terminal_safe as safe

    click.echo(f"spam risk {result.spam_risk:.2f}  reply probability {result.reply_probability:.2f}")
    for advice in result.advice:
        click.echo(f"- {advice.signal}: {safe(advice.message)}")


@ai.command("personalize")
@click.option("--draft", "draft_id", required=True, metavar="ID", help="The draft to personalize.")
@click.option("--tone", metavar="formal|neutral|casual|0..1",
              help="Formal 0.0 .. casual 1.0 (default: your profile's tone).")
@click.option("--revision", type=revision_type, metavar="N",
              help="Fail if the stored draft is no longer at this revision.")
@json_option
def personalize_command(draft_id: str, tone: str | None, revision: int | None,
                        as_json: bool) -> None:
    """Suggest the draft written for its prospect, in the given tone."""
    from lumina_tui.services import ai as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.personalize(rt.db, rt.actor, draft_id, tone=tone, revision=revision,
                                   settings=rt.settings)

    suggestion = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.suggestion_json(suggestion))
    else:
        _print_suggestion(suggestion)


@ai.command("rewrite")
@click.option("--draft", "draft_id", required=True, metavar="ID", help="The draft to rewrite.")
@click.option("--instruction", required=True, metavar="TEXT",
              help="What to change, e.g. 'shorter', 'more formal', 'add a call to action'.")
@click.option("--revision", type=revision_type, metavar="N",
              help="Fail if the stored draft is no longer at this revision.")
@json_option
def rewrite_command(draft_id: str, instruction: str, revision: int | None, as_json: bool) -> None:
    """Suggest the draft rewritten as the instruction says."""
    from lumina_tui.services import ai as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.rewrite(rt.db, rt.actor, draft_id, instruction, revision=revision,
                               settings=rt.settings)

    suggestion = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.suggestion_json(suggestion))
    else:
        _print_suggestion(suggestion)


def _read_message(path: str) -> bytes:
    """The message's bytes, at most the scorer's size limit (a bigger file is refused unread)."""
    from lumina_tui.ai.mime_reader import MAX_MESSAGE_BYTES

    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        else:
            with Path(path).open("rb") as handle:
                data = handle.read(MAX_MESSAGE_BYTES + 1)
    except FileNotFoundError as exc:
        raise NotFoundError(f"file: {path} does not exist", field="file") from exc
    except OSError as exc:
        raise ValidationError(f"file: cannot read {path}: {exc.strerror or exc}",
                              field="file") from exc
    if len(data) > MAX_MESSAGE_BYTES:
        shown = "stdin" if path == "-" else path
        raise ValidationError(
            f"file: {shown} is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB, the most "
            "ai score reads", field="file", limit_bytes=MAX_MESSAGE_BYTES)
    return data


@ai.command("score")
@click.argument("source", required=False, metavar="[-]")
@click.option("--draft", "draft_id", metavar="ID", help="Score a stored draft.")
@click.option("--file", "message_file", metavar="MESSAGE.eml|-",
              help="Score a whole RFC 5322 message (headers and MIME parts); '-' reads stdin.")
@json_option
def score_command(source: str | None, draft_id: str | None, message_file: str | None,
                  as_json: bool) -> None:
    """Spam risk, reply probability and advice for a draft or a message."""
    from lumina_tui.services import ai as service

    def run() -> Any:
        if source not in (None, "-"):
            raise ValidationError(f"source: use '-' for stdin, --file or --draft, not {source!r}",
                                  field="source")
        message = "-" if source == "-" else message_file
        if (draft_id is None) == (message is None):
            raise ValidationError("score: give exactly one of --draft ID, --file MESSAGE.eml or -",
                                  field="draft")
        if message is not None:
            return service.score_message(_read_message(message))
        from lumina_tui.services.runtime import runtime

        rt = runtime()
        assert draft_id is not None  # exactly one of the two was given (checked above)
        return service.score(rt.db, rt.actor, draft_id)

    result = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.score_json(result))
    else:
        _print_score(result)


@ai.command("feedback")
@click.argument("suggestion_id", metavar="SUGGESTION_ID")
@click.argument("action", type=click.Choice(["accepted", "rejected", "edited"]))
@click.option("--note", metavar="TEXT", help="Why (kept for calibrating suggestions later).")
@click.option("--draft", "draft_id", metavar="ID", help="The draft the suggestion was for.")
@click.option("--tone", type=float, metavar="0..1",
              help="The suggestion's tone (its JSON's `tone`): learning sets your default tone from it.")
@click.option("--kind", type=click.Choice(["personalize", "rewrite"]),
              help="The suggestion's kind (its JSON's `operation`).")
@json_option
def feedback_command(suggestion_id: str, action: str, note: str | None, draft_id: str | None,
                     tone: float | None, kind: str | None, as_json: bool) -> None:
    """Record what you did with a suggestion."""
    from lumina_tui.services import ai as service
    from lumina_tui.services.runtime import runtime

    def run() -> Any:
        rt = runtime()
        return service.feedback(rt.db, rt.actor, suggestion_id, action, note=note,
                                draft_id=draft_id, tone=tone, kind=kind)

    row = run_guarded(run, as_json=as_json)
    if as_json:
        emit_json(service.feedback_json(row))
    else:
        click.echo(f"recorded: {action} {row.suggestion_id}")
