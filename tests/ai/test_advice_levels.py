"""Each advice item says whether the signal is already right, needs fixing, or is context."""

from lumina_tui.ai import scoring

GOOD_BODY = (
    "Hi Ana,\n\nTeams like yours at Brightwave often lose a day each week to manual reporting. "
    "We connect the tools you already use and keep the numbers in sync, so your weekly report "
    "is ready on Monday morning and your team can act on it before the week gets away from them. "
    "It usually takes an afternoon to set up and nothing changes in how your team works.\n\n"
    "Would a short call next week be useful?\n\nBest,\nSam"
)


def _levels(subject: str, body: str) -> dict[str, str]:
    return {item.signal: item.level for item in scoring.score(subject, body).advice}


def test_a_good_email_is_marked_good_where_it_is_good() -> None:
    levels = _levels("Reporting at Brightwave", GOOD_BODY)
    assert levels["body_length"] == "good"
    assert levels["question_count"] == "good"
    assert levels["link_count"] == "good"
    assert levels["spam_risk"] == "good"
    assert levels["reply_probability"] == "info"


def test_problems_are_marked_fix() -> None:
    levels = _levels("", "BUY NOW!!! Act now, limited time, click http://bit.ly/x http://bit.ly/y")
    assert levels["body_length"] == "fix"
    assert levels["question_count"] == "fix"
    assert levels["link_count"] == "fix"
    assert levels["subject_length"] == "fix"
    assert levels["spam_risk"] == "fix"
