"""Template performance: the Wilson interval and the ranking by its lower bound."""

from __future__ import annotations

import pytest

from lumina_tui.services.stats import Z_95, rank_templates, wilson_interval


def test_wilson_interval_known_values() -> None:
    # Textbook value (Newcombe 1998, table I): 81/263 at 95 % -> 0.2553 .. 0.3662.
    low, high = wilson_interval(81, 263, Z_95)
    assert low == pytest.approx(0.2553, abs=5e-4) and high == pytest.approx(0.3662, abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0) and 0 < high < 1
    low, high = wilson_interval(10, 10)
    assert 0 < low < 1 and high == pytest.approx(1.0)


def test_two_of_three_does_not_outrank_sixty_of_three_hundred() -> None:
    rows = [("lucky", "Lucky", 3, 2, 0), ("proven", "Proven", 300, 60, 0)]
    assert [r.template_id for r in rank_templates(rows)] == ["proven", "lucky"]
    assert [r.template_id for r in rank_templates(rows[::-1])] == ["proven", "lucky"]
    # Why the ranking uses the 99 % interval: at 95 % the lucky template would still win.
    assert [r.template_id for r in rank_templates(rows, Z_95)] == ["lucky", "proven"]
    lucky = next(r for r in rank_templates(rows) if r.template_id == "lucky")
    assert lucky.reply_rate > 0.6 and lucky.low < 0.15


def test_the_mirror_case() -> None:
    # Mirror: 1 reply in 3 against 240 in 300 (the non-replies swapped): the proven template leads,
    # and a small sample with a low rate is not buried below templates it may well beat.
    rows = [("unlucky", "Unlucky", 3, 1, 0), ("proven", "Proven", 300, 240, 0), ("weak", "Weak", 300, 6, 0)]
    ranked = [r.template_id for r in rank_templates(rows)]
    assert ranked[0] == "proven"
    assert ranked.index("unlucky") < ranked.index("weak")
