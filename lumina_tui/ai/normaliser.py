"""Read a source text for what it means, not how it is spelled, so grounding can compare facts.

A prospect's fields arrive as people write them: "twelve SDRs", "the second summit", "4,2 Mio. €",
"3 de marzo de 2026", "14. Mai", "Rückruf Donnerstag um 15 Uhr", "quinze commerciaux". An English
suggestion that says "12 SDRs", "2nd", "€4.2 million", "March 3", "May 14", "Thursday at 3pm" or
"15 reps" states the same facts, and must not be capped as if it had invented them.

This module only widens what the *sources* support; the suggestion (English) is read by `facts.py`
as before. Two readings of each source text:

- `readings(text)`: other spellings of the text with the same facts, for the English fact finder:
  number words in English, German, Spanish and French turned into digits (text2num), decimal commas
  into points ("4,2" -> "4.2"), "Mio."/"millions"/"millones" into "million", "€" after a number
  moved before it.
- `date_values(text)`: canonical dates, weekdays and times written in German, Spanish or French
  (month and day names from the CLDR data that babel ships), in the same forms `facts.py` uses:
  ("md", month, day), ("month", m), ("year", y), ("weekday", iso), ("time", minutes).

Both libraries are imported on first use, never at import time (the CLI's `score` start-up does
not pay for them), and both results are memoised per text: a request's sources repeat on every
rewrite of the same draft.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from .facts import LazyPattern

LANGUAGES = ("en", "de", "es", "fr")
FOREIGN_LOCALES = ("de", "es", "fr")

# -------------------------------------------------------------------------------- numbers

_DECIMAL_COMMA = LazyPattern(r"(?<![\d,.])(\d+),(\d{1,2})(?!\d)")
_THOUSAND_DOTS = LazyPattern(r"(?<![\d.,])(\d{1,3})((?:\.\d{3})+)(?![\d]|[.,]\d)")
_THOUSAND_SPACES = LazyPattern(r"(?<![\d.,])(\d{1,3})((?:[\u00a0\u202f ]\d{3})+)(?![\d]|[.,]\d)")
#: Magnitude words of the four languages (and text2num's spelled-out 10^n, as in "3,5 1000000").
_MAGNITUDE = LazyPattern(
    r"(?P<num>\d+(?:[.,]\d+)?)\s*(?P<mag>mil\s+millones|Mrd\.?|Milliarden?|milliards?|billions?"
    r"|Mio\.?|Millionen|Million|millions?|millones|millón|mill\.|Tsd\.?|Tausend|mille|mil"
    r"|1000000000|1000000|1000)(?![\w])",
    re.IGNORECASE,
)
_MAGNITUDE_WORD = {
    "mil millones": "billion", "mrd": "billion", "milliarde": "billion", "milliarden": "billion",
    "milliard": "billion", "milliards": "billion", "billion": "billion", "billions": "billion",
    "1000000000": "billion", "mio": "million", "millionen": "million", "million": "million",
    "millions": "million", "millones": "million", "millón": "million", "mill": "million",
    "1000000": "million", "tsd": "thousand", "tausend": "thousand", "mille": "thousand",
    "mil": "thousand", "1000": "thousand",
}
_EURO_AFTER = LazyPattern(r"(?P<amount>\d[\d.,]*(?:\s(?:thousand|million|billion))?)\s*(?:€|EUR\b)")
_EURO_WORDS = LazyPattern(r"\s(?:d['’]|de\s+)?(?:euros?|Euro)\b", re.IGNORECASE)
#: Ordinal digits as text2num writes them in Spanish and French ("2ª", "2ème", "1er").
_FOREIGN_ORDINAL = LazyPattern(r"\b(\d+)(?:ª|º|°|ème|ième|e|er|ère|re)\b")


def _magnitude(match: re.Match[str]) -> str:
    word = _MAGNITUDE_WORD[match["mag"].lower().rstrip(".")]
    return f"{match['num'].replace(',', '.')} {word}"


def _spell_english(text: str) -> str:
    """Digits and money the English fact finder reads, whatever the language wrote them as."""
    text = _MAGNITUDE.get().sub(_magnitude, text)
    text = _DECIMAL_COMMA.get().sub(r"\1.\2", text)
    text = _THOUSAND_DOTS.get().sub(lambda m: m[1] + m[2].replace(".", ""), text)
    text = _THOUSAND_SPACES.get().sub(lambda m: m[1] + re.sub(r"\D", "", m[2]), text)
    text = _EURO_AFTER.get().sub(lambda m: "€" + m["amount"], text)
    text = _EURO_WORDS.get().sub(" euros", text)
    return _FOREIGN_ORDINAL.get().sub(r"\1th", text)


#: Text the spelling pass could change: a decimal comma, a thousands point or space, an ordinal
#: suffix (a pattern that starts with a digit, so the engine skips to digits), or one of the
#: magnitude and currency words (substring checks: an alternation of them took 1 ms a draft).
_SPELL_DIGITS = LazyPattern(
    r"\d(?:,\d{1,2}(?!\d)|\.\d{3}|[\u00a0\u202f ]\d{3}|ª|º|°|ème|ième|e\b|er\b|ère|re\b)"
)
_SPELL_WORDS = ("€", "eur", "mio", "mill", "mrd", "tsd", "tausend", " mil ", "1000")


def _spell(text: str) -> str:
    lowered = text.lower()
    if any(word in lowered for word in _SPELL_WORDS) or _SPELL_DIGITS.get().search(text):
        return _spell_english(text)
    return text


#: A sentence or line; a point inside a number ("4.2") or an abbreviation ("Mio.€") stays in.
_SENTENCE = LazyPattern(r"(?:[^.!?\n]|[.!?](?![\s]|$))+[.!?]*")


@lru_cache(maxsize=2048)
def readings(text: str, languages: tuple[str, ...] = LANGUAGES) -> tuple[str, ...]:
    """Other spellings of `text` carrying the same facts (empty when there are none).

    `languages` are those whose number words to read: a prospect's field may be in any of the
    four, the rep's own draft and profile are read as English only.

    Only the sentences a spelling changed are returned, each on its own: a 300-word draft with
    "six hours" in it gives one short reading ("... 6 hours a week ...") for the fact finder,
    whose memo then serves the same sentence in the next edit of the draft.
    """
    if not text:
        return ()
    from text_to_num import alpha2digit  # lazy: only grounding needs it, not the CLI's score

    original = set(_SENTENCE.get().findall(text))
    found: dict[str, None] = {}
    for candidate in (text, *(_alpha2digit(alpha2digit, text, lang) for lang in languages)):
        spelled = _spell(candidate)
        if spelled == text:
            continue
        for sentence in _SENTENCE.get().findall(spelled):
            if sentence not in original:
                found[sentence] = None
    return tuple(found)


def _alpha2digit(convert: Callable[..., str], text: str, lang: str) -> str:
    try:
        return convert(text, lang, threshold=0)
    except (ValueError, TypeError):  # a language the installed text2num lacks: no reading
        return text


# ---------------------------------------------------------------------------------- dates


def _fold(word: str) -> str:
    """Lower-case without accents: "März" and "marz", "février" and "fevrier" read alike."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).rstrip(".")


@lru_cache(maxsize=1)
def _calendar() -> tuple[dict[str, int], dict[str, int], re.Pattern[str], re.Pattern[str]]:
    """Month and weekday names of the foreign locales (CLDR via babel), and the patterns."""
    from babel.dates import get_day_names, get_month_names  # lazy: CLDR data loads on first use

    months: dict[str, int] = {}
    weekdays: dict[str, int] = {}
    for locale in FOREIGN_LOCALES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                folded = _fold(name)
                if width == "wide" or len(folded) >= 3:
                    months.setdefault(folded, number)
        for index, name in get_day_names("wide", locale=locale).items():
            weekdays.setdefault(_fold(name), index + 1)  # babel: 0 = Monday; ISO: 1 = Monday
    month_words = "|".join(sorted(months, key=len, reverse=True))
    day_month = re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:\.|er|ère|º|°)?\s+(?:de\s+)?(?P<m>{month_words})\b\.?"
        rf"(?:\s+(?:de\s+|del\s+)?(?P<y>\d{{4}}))?"
        rf"|\b(?P<bare>{month_words})\b(?:\s+(?:de\s+|del\s+)?(?P<by>\d{{4}}))?",
    )
    weekday = re.compile(r"\b(?:" + "|".join(sorted(weekdays, key=len, reverse=True)) + r")\b")
    return months, weekdays, day_month, weekday


#: Numeric dates the English reader leaves out: "01.06.2026" (day first) and "2026/06/01".
_NUMERIC_DATE = LazyPattern(
    r"(?<![\d.])(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.(?P<dy>\d{4}|\d{2})(?![\d.])"
    r"|(?<![\d/.])(?P<yy>\d{4})[/.](?P<ym>\d{1,2})[/.](?P<yd>\d{1,2})(?![\d/.])"
)
#: "15 Uhr", "15:30 Uhr", "15.30 Uhr", "15h30", "15 h", "a las 10:00", "à 9h".
_FOREIGN_TIME = LazyPattern(
    r"\b(?P<h>[01]?\d|2[0-3])(?:[:.](?P<m>[0-5]\d))?\s*Uhr\b"
    r"|\b(?P<fh>[01]?\d|2[0-3])\s?h\s?(?P<fm>[0-5]\d)?(?![\w])"
    r"|\blas\s+(?P<sh>[01]?\d|2[0-3])(?::(?P<sm>[0-5]\d))?\b",
)


@lru_cache(maxsize=2048)
def date_values(text: str) -> frozenset[object]:
    """Dates, weekdays and times written in German, Spanish or French, as canonical values."""
    if not text or not (_FOREIGN_LETTER.get().search(text) or _foreign_hint(text)):
        return frozenset()
    months, weekdays, day_month, weekday = _calendar()
    folded = _fold(text)
    values: set[object] = set()
    names = set(_LETTERS.get().findall(folded))
    for match in day_month.finditer(folded) if names & months.keys() else ():
        if match["bare"]:
            if len(match["bare"]) < 4:  # "mar", "ago": too like English words to stand alone
                continue
            values.add(("month", months[match["bare"]]))
            if match["by"]:
                values.add(("year", int(match["by"])))
            continue
        month, day = months[match["m"]], int(match["d"])
        if 1 <= day <= 31:
            values.add(("md", month, day))
        if match["y"]:
            values.add(("year", int(match["y"])))
    for match in weekday.finditer(folded) if names & weekdays.keys() else ():
        values.add(("weekday", weekdays[match.group()]))
    for match in _NUMERIC_DATE.get().finditer(text):
        if match["dd"]:  # 01.06.2026: day first, as German, French and Spanish write it
            day, month, year = int(match["dd"]), int(match["dm"]), match["dy"]
        else:  # 2026/06/01 or 2026.06.01: year first
            year, month, day = match["yy"], int(match["ym"]), int(match["yd"])
        if 1 <= month <= 12 and 1 <= day <= 31:
            values.add(("md", month, day))
            if len(year) == 4:
                values.add(("year", int(year)))
    for match in _FOREIGN_TIME.get().finditer(text):
        hour = match["h"] or match["fh"] or match["sh"]
        minute = match["m"] or match["fm"] or match["sm"] or "0"
        values.add(("time", int(hour) * 60 + int(minute)))
    return frozenset(values)


#: Letters of German, Spanish and French that English text rarely has.
_FOREIGN_LETTER = LazyPattern(r"[äöüßéèêëàâçñáíóúûôîÄÖÜÉÈÀÇÑÁÍÓÚ]")
_LETTERS = LazyPattern(r"[^\W\d_]+")

#: ASCII text worth a look for foreign dates: a Spanish, French or German month or weekday
#: written without accents, a time in "Uhr"/"h"/"a las", or a German "14. Mai".
_FOREIGN_HINT_WORDS = frozenset("""
enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre janvier
mars avril mai juin juillet septembre octobre novembre januar februar juni juli oktober dezember
lunes martes jueves viernes lundi mardi mercredi jeudi vendredi samedi dimanche montag dienstag
mittwoch donnerstag freitag samstag sonntag uhr las
""".split())  # noqa: SIM905
_FOREIGN_TIME_HINT = LazyPattern(r"\d\s?h(?:\d\d)?\b|\d\.\s+[A-Z]|\d[./]\d{1,2}[./]\d")


def _foreign_hint(text: str) -> bool:
    words = set(_LETTERS.get().findall(text.lower()))
    return bool(words & _FOREIGN_HINT_WORDS) or bool(_FOREIGN_TIME_HINT.get().search(text))
