"""Find checkable facts in text: URLs, emails, money, percentages, times, dates, numbers, names.

Each fact comes with a canonical value, so the same fact written two ways compares equal:
"1,200" = "1200" = "1.2k"; "40%" = "40 percent" = "forty percent"; "$2M" = "$2 million" =
"$2,000,000"; "3pm" = "15:00"; "https://lumina.example/" = "lumina.example". Grounding compares
canonical values; it never compares raw strings. Facts are found in priority order (a URL before the
numbers inside it, money before its number) and each character belongs to at most one fact.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .lazy_regex import lazy_regex
from .segments import by_sentence

# ------------------------------------------------------------------------------------ the fact


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str  # url, email, money, percent, time, date, number
    text: str
    start: int
    end: int
    values: tuple[object, ...]  # canonical forms; a fact is supported if any one is


class LazyPattern:
    """A pattern compiled on first use: `score` imports this module but rarely meets a fraction."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source, self.flags = source, flags
        self.pattern: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self.pattern is None:
            self.pattern = re.compile(self.source, self.flags)
        return self.pattern


# -------------------------------------------------------------------------------- number words

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
NUMBER_WORDS = lazy_regex(
    rf"\b(?:{_NUMBER_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_NUMBER_WORD}))*\b", re.IGNORECASE
)


def words_to_number(text: str) -> int | None:
    """'forty-five' -> 45, 'two hundred' -> 200, 'fifteen million five hundred thousand' -> ..."""
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", text.lower()):
        if word == "and" or not word:
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


# ----------------------------------------------------------------------------------- patterns

_TLDS = (
    "com|net|org|io|co|ai|app|dev|example|test|invalid|ly|gl|me|us|uk|de|fr|es|it|nl|biz|info|"
    "gd|cc|gy|so|xyz|tech|cloud|edu|gov|ca|au|in|jp|to|sh|link|page|site|online|store|at"
)
EMAIL = lazy_regex(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
URL = lazy_regex(
    r"(?:\bhttps?://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+"
    rf"|(?<![\w@.-])(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})\b(?:/[^\s<>\"')\]]*)?)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\""

_MAGNITUDE = {
    "k": 1_000, "thousand": 1_000, "m": 1_000_000, "mm": 1_000_000, "mn": 1_000_000,
    "million": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000, "billion": 1_000_000_000,
}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MAG = r"(?:\s?(?:k|m|mm|mn|bn|b)\b|\s(?:thousand|million|billion)\b)"
MONEY = lazy_regex(
    rf"(?P<cur>[$€£¥])\s?(?P<num>{_NUM})(?P<mag>{_MAG})?"
    rf"|(?P<num2>{_NUM})(?P<mag2>{_MAG})?\s?(?:dollars|usd|euros?|eur|pounds|gbp)\b"
    rf"|\b(?:usd|eur|gbp)\s?(?P<num3>{_NUM})(?P<mag3>{_MAG})?",
    re.IGNORECASE,
)
MONEY_WORDS = lazy_regex(
    rf"(?P<words>{NUMBER_WORDS.pattern})\s+(?:dollars|euros|pounds)\b", re.IGNORECASE
)
PERCENT = lazy_regex(rf"(?=\d)(?P<num>{_NUM})\s?(?:%|percent\b|per\s?cent\b|pct\b)",
                     re.IGNORECASE)
PERCENT_WORDS = lazy_regex(
    rf"(?P<words>{NUMBER_WORDS.pattern})[\s-]+(?:percent|per\s?cent)\b", re.IGNORECASE
)
_TZ = r"(?:\s?(?:ET|EST|EDT|CT|CST|CDT|MT|MST|MDT|PT|PST|PDT|UTC|GMT|CET|CEST|BST|IST))?"
TIME = lazy_regex(
    rf"\b(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s?(?P<ap>a\.?m\.?|p\.?m\.?)(?![A-Za-z]){_TZ}"
    rf"|\b(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)\b{_TZ}"
    rf"|\b(?P<word>noon|midnight)\b"
    rf"|\b(?P<oc>1[0-2]|[1-9]) o'clock\b",
    re.IGNORECASE,
)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_FULL_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_WEEKDAYS = {
    "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
    "sunday": 7, "tues": 2, "thurs": 4,
}
_DATE_NUMERIC = (
    r"\b(?P<iso>(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2}))\b"
    r"|(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\d/])"
)
_DATE_MONTH = (
    rf"\b(?P<md_m>{_MONTH})\.?\s+(?P<md_d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<md_y>\d{{4}}))?"
    rf"|\b(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm_m>{_MONTH})\b\.?(?:,?\s+(?P<dm_y>\d{{4}}))?"
    rf"|(?P<mo_pre>\b(?:in|by|since|until|till|before|after|from|during|through|early|late|mid|"
    rf"end of|this|next|last|of)\s+)(?P<mo>{_FULL_MONTH})\b(?!\s+(?:I|we|you|he|she|they|it)\b)"
    rf"|\b(?P<mo2>(?!May\b){_FULL_MONTH})\b"
)
_SEASON = r"(?:spring|summer|fall|autumn|winter)"
_PERIOD_UNIT = r"(?:day|week|month|quarter|year)s?"
_COUNT_WORD = r"(?:a\s+few|a\s+couple(?:\s+of)?|several|some|a|an|one|two|three|four|five|six|seven|" \
    r"eight|nine|ten|eleven|twelve|\d{1,2})"
#: Relative dates are facts too ("last spring", "two weeks ago", "earlier this year"): a
#: suggestion may state one only if an input does.
_RELATIVE = (
    r"tomorrow|tonight|yesterday"
    rf"|(?:next|this|last|past|coming|upcoming|previous)\s+(?:week|month|quarter|year|{_SEASON})"
    r"|end\s+of\s+(?:the\s+)?(?:week|month|quarter|year)"
)
#: The rarer relative dates, in a pattern of their own run only when a hint word is present
#: (an alternation that starts at every "a" and "the" of a draft cost 2 ms a check).
_RELATIVE_MORE = LazyPattern(
    r"\b(?:(?:earlier|later)\s+this\s+(?:week|month|quarter|year)"
    rf"|(?:in|over|during|through|by|until|before|after)\s+the\s+{_SEASON}"
    rf"|{_COUNT_WORD}\s+{_PERIOD_UNIT}\s+ago)\b",
    re.IGNORECASE,
)
#: "the third quarter" is Q3 and "the second half" H2: periods, like "Q3" and "H2".
_PERIOD_WORD = LazyPattern(r"\b(?:first|second|third|fourth)\s+quarter\b|\b(?:first|second)\s+half\b",
                           re.IGNORECASE)
_PERIOD_WORD_HINT = ("first quarter", "second quarter", "third quarter", "fourth quarter",
                     "first half", "second half")
_RELATIVE_MORE_HINT = ("ago", "earlier this", "later this", "the spring", "the summer", "the fall",
                       "the autumn", "the winter")
_REL_MODIFIER = {"past": "last", "previous": "last", "coming": "next", "upcoming": "next",
                 "autumn": "fall", "earlier": "", "later": "", "over": "the", "during": "the",
                 "through": "the", "in": "the", "by": "the", "until": "the", "before": "the",
                 "after": "the"}
_FEW = {"a few": "few", "a couple": "few", "a couple of": "few", "several": "few", "some": "few",
        "a": "1", "an": "1", "one": "1"}


def _relative_value(text: str) -> tuple[object, ...]:
    """'this past spring' and 'last spring' alike; 'two weeks ago' = '2 weeks ago'."""
    words = re.sub(r"\s+", " ", text.lower()).strip()
    ago = re.fullmatch(r"(.+?) (day|week|month|quarter|year)s? ago", words)
    if ago:
        count = _FEW.get(ago[1]) or (str(words_to_number(ago[1]) or ago[1]))
        return ("ago", count, ago[2])
    parts = [_REL_MODIFIER.get(word, word) for word in words.split()]
    parts = [word for word in parts if word not in {"", "the"}]
    return ("relative", " ".join(parts))


_DATE_OTHER = (
    r"\b(?<!Happy )(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Tues|Thurs)"
    r"\b(?!s\b|'s\b)"
    r"|\b(?P<q>Q[1-4]|H[12])\b(?:\s+(?P<qy>\d{4}))?"
    rf"|\b(?P<rel>{_RELATIVE})\b"
    r"|\b(?<![\d,.$€£-])(?P<year>19[5-9]\d|20\d\d)\b(?![\d%]|,\d|-\d)"
)
#: Dates in three passes, most specific first, each run only when its cheap hint is present.
DATE_PASSES = (
    (lazy_regex(r"\d[/-]\d"), lazy_regex(_DATE_NUMERIC)),
    (lazy_regex(rf"\b{_FULL_MONTH}\b|\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+\d"),
     lazy_regex(_DATE_MONTH)),
    # Every alternative starts a word with one of these letters: the look-around rejects the
    # other positions with one test instead of trying each alternative (2x faster, same matches).
    (None, lazy_regex(rf"(?<!\w)(?=[MTWFSQHtynlpcue12])(?:{_DATE_OTHER})")),
)
PHONE = lazy_regex(r"(?:\+?\d{1,2}[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])?\d{3}[.-]\d{4}\b")
RANGE = lazy_regex(
    rf"(?=\d|between\s)(?<![\w.$€£])(?:between\s+)?(?P<lo>{_NUM})\s?(?:-|–|to|and)\s?(?P<hi>{_NUM})(?![\w%])"
)
NUMBER = lazy_regex(
    rf"(?=\d)(?<![\w.])(?P<num>{_NUM})(?:(?P<mag>\s?(?:k|m|mm|bn)\b|\s(?:thousand|million|billion)\b)"
    r"|(?P<mult>\s?[x×](?![\w]))|(?P<ord>st|nd|rd|th)\b)?"
)
#: Idioms that contain digits but state nothing ("24/7", "1:1 meetings", "Office 365").
NOT_FACTS = lazy_regex(r"\b(?:24/7|24x7|1:1|1-on-1|one-on-one|365|2FA|B2B|B2C|P\.S\.)", re.I)


_CURRENCY_SIGNS = ("$", "€", "£", "¥")
_CURRENCY_WORDS = ("dollar", "usd", "euro", "eur ", "pound", "gbp")
_URL_HINT = lazy_regex(r"://|www\.|[A-Za-z0-9]\.[A-Za-z]")
_TIME_HINT = lazy_regex(r"(?=[\dnmo])(?:\d ?[ap]\.?m\b|\d:\d\d|noon|midnight|o'clock)")  # lowered text
_PHONE_HINT = lazy_regex(r"\d{3}[.-]\d{4}")
_BIG_NUMBER_WORDS = frozenset([*list(_UNITS)[11:], *_TENS, *_SCALES])


# ------------------------------------------------------------ fractions, multiples, ordinals

#: "a third faster", "cut in half", "two thirds of", "doubled", "three times more", "a dozen",
#: "the fifth summit": quantities written as words. Each is a checkable claim ("a third faster"
#: needs a 33% in the inputs, "doubled" a 2x), and a source that writes them supports the digits.
_FRACTION_DEN = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
                 "fifth": 5, "fifths": 5, "tenth": 10, "tenths": 10}
_COMPARATIVE = (r"(?:more|less|fewer|faster|slower|quicker|cheaper|higher|lower|bigger|smaller|"
                r"larger|longer|shorter|better|sooner)")
#: Tried only where a denominator word was found (a scan from every "a" of a draft cost 0.2 ms).
_FRACTION_PATTERN = LazyPattern(
    rf"\b(?P<n>a|one|two|three|four)[\s-]+(?P<d>thirds?|quarters?|fifths?|tenths?)\b"
    rf"(?P<ctx>(?=\s+(?:of\b|{_COMPARATIVE}\b)))?",
    re.IGNORECASE,
)
_HALF_PATTERN = LazyPattern(
    r"\b(?P<half>(?:in|by)\s+half|half\s+(?:of|the|as)|halv(?:e|es|ed|ing))\b", re.IGNORECASE
)
_FRACTION_VERB = LazyPattern(r"(?:^|\W)(?:by|to|cut|saves?|saved)\s+$", re.IGNORECASE)
_NOT_HALF_PATTERN = LazyPattern(r"(?:first|second|back|other|latter|front)\s+$", re.IGNORECASE)
_MULTIPLE_WORD = {"doubl": 2, "twice": 2, "tripl": 3, "thrice": 3, "quadrupl": 4}
_MULTIPLE_PATTERN = LazyPattern(
    r"\b(?P<w>doubl(?:e|es|ed|ing)|twice|tripl(?:e|es|ed|ing)|thrice|quadrupl(?:e|es|ed|ing))\b"
    r"(?![\s-]*(?:check|checks|checked|checking|down|booked|click|clicks|clicked|edged|digits?|"
    r"opt-in|team|bed|room|espresso)\b)"
    rf"|\b(?P<n>two|three|four|five|six|seven|eight|nine|ten|\d+(?:\.\d+)?)\s+times\s+"
    rf"(?=(?:{_COMPARATIVE}|as|the|over)\b)",
    re.IGNORECASE,
)
_DOZEN_PATTERN = LazyPattern(r"\b(?P<half>half\s+a\s+)?(?:a|one)\s+dozen\b", re.IGNORECASE)
_ORDINAL_WORDS = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "hundredth": 100,
}
#: "first" and "second" are left out: "first, a question", "a second look" state nothing.
_ORDINAL_WORD_PATTERN = LazyPattern(
    r"\b(?:(?P<tens>twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[\s-])?"
    r"(?P<o>" + "|".join(_ORDINAL_WORDS) + r")\b"
    r"(?![\s-]+(?:party|parties|quarter|half)\b)",
    re.IGNORECASE,
)
_ORDINAL_HINT = LazyPattern(
    r"third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|teenth|tieth|hundredth"
)
_WORD_FACT_HINT = lazy_regex(
    r"half|halv|third|quarter|fifth|tenth|doubl|twice|tripl|thrice|quadrupl|times|dozen|"
    r"fourth|sixth|seventh|eighth|ninth|eleventh|twelfth|teenth|tieth|hundredth"
)
_SMALL = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}


def _percent_values(numerator: int, denominator: int) -> tuple[object, ...]:
    """A fraction as the percentages people round it to: a third = 33%, 33.3%, 33.33%."""
    exact = Decimal(100 * numerator) / Decimal(denominator)
    forms = {_canon(exact.quantize(Decimal(step))) for step in ("1", "0.1", "0.01")}
    forms.add(_canon(Decimal(int(exact))))
    return tuple(("percent", form) for form in sorted(forms))


def _fractions(text: str, lowered: str) -> list[re.Match[str]]:
    """'a third', 'two thirds', 'a quarter' where a denominator word occurs."""
    found: list[re.Match[str]] = []
    for word in ("third", "quarter", "fifth", "tenth"):
        at = lowered.find(word)
        while at != -1:
            match = _FRACTION_PATTERN.get().search(text, max(0, at - 7))
            if match and match.start("d") == at and (not found or found[-1].start() != match.start()):
                found.append(match)
            at = lowered.find(word, at + 1)
    return found


def word_facts(text: str) -> list[tuple[str, int, int, tuple[object, ...]]]:
    """Fractions, multiples, dozens and ordinals written as words, with canonical values."""
    found: list[tuple[str, int, int, tuple[object, ...]]] = []
    lowered = text.lower()
    for match in _HALF_PATTERN.get().finditer(text) if "half" in lowered or "halv" in lowered else ():
        if _NOT_HALF_PATTERN.get().search(text[max(0, match.start() - 10) : match.start()]):
            continue  # "the first half", "the back half": a period or a place
        found.append(("percent", match.start(), match.end(), _percent_values(1, 2)))
    for match in _fractions(text, lowered):
        before = text[max(0, match.start() - 8) : match.start()]  # a slice: a prefix is O(text)
        preceded = _FRACTION_VERB.get().search(before)
        if match["ctx"] is None and not preceded:
            continue  # "1,200 meetings a quarter.": a rate, not a fraction
        numerator = _SMALL[match["n"].lower()]
        denominator = _FRACTION_DEN[match["d"].lower()]
        found.append(("percent", match.start(), match.end(),
                      _percent_values(numerator, denominator)))
    multiples = any(word in lowered for word in ("doubl", "twice", "tripl", "thrice", "quadrupl", "times"))
    for match in _MULTIPLE_PATTERN.get().finditer(text) if multiples else ():
        if match["w"]:
            word = match["w"].lower()
            factor = next(v for k, v in _MULTIPLE_WORD.items() if word.startswith(k))
            found.append(("number", match.start(), match.end(), (("multiple", str(factor)),)))
        else:
            amount = _number(match["n"]) if match["n"][0].isdigit() else words_to_number(match["n"])
            if amount is not None:
                end = match.start() + len(match.group().rstrip())
                found.append(("number", match.start(), end, (("multiple", _canon(amount)),)))
    for match in _DOZEN_PATTERN.get().finditer(text) if "dozen" in lowered else ():
        dozens = "6" if match["half"] else "12"
        found.append(("number", match.start(), match.end(), (("number", dozens),)))
    ordinals = _ORDINAL_HINT.get().search(lowered)
    for match in _ORDINAL_WORD_PATTERN.get().finditer(text) if ordinals else ():
        value = _ORDINAL_WORDS[match["o"].lower()] + (_TENS[match["tens"].lower()]
                                                       if match["tens"] else 0)
        found.append(("number", match.start(), match.end(), (("ordinal", str(value)),)))
    return found


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10}
_COUNT_WORD_PATTERN = LazyPattern(r"\b(?:" + "|".join(_COUNT_WORDS) + r")\b(?!-)", re.IGNORECASE)


def find_counts(text: str, facts: tuple[Fact, ...]) -> tuple[Fact, ...]:
    """Small counts in words ("four warehouses") outside `facts`. Not claims by themselves ("two
    quick ideas"), but grounding checks them against the inputs' count of the same thing."""
    lowered = text.lower()
    if not text or not any(word in lowered for word in _COUNT_WORDS):
        return ()
    taken = bytearray(len(text))
    for fact in facts:
        taken[fact.start : fact.end] = b"\x01" * (fact.end - fact.start)
    return tuple(
        Fact("number", match.group(), match.start(), match.end(),
             (("number", str(_COUNT_WORDS[match.group().lower()])),))
        for match in _COUNT_WORD_PATTERN.get().finditer(text)
        if not any(taken[match.start() : match.end()])
    )


def _date_matches(text: str) -> list[re.Match[str]]:
    found: list[re.Match[str]] = []
    for hint, pattern in DATE_PASSES:
        if hint is None or hint.search(text):
            found += pattern.finditer(text)
    return found


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _magnitude(text: str | None) -> int:
    return _MAGNITUDE.get(text.strip().lower(), 1) if text else 1


def _canon(value: Decimal | int) -> str:
    """One spelling per quantity: 1200, 1200.0 and 1.2e3 all become '1200'."""
    text = format(Decimal(value).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def normalize_url(text: str) -> tuple[str, str]:
    """(host without www, host+path without scheme, trailing slash or case) for comparison."""
    lowered = text.strip().rstrip(_TRAILING)
    lowered = re.sub(r"^[a-z]+://", "", lowered, flags=re.IGNORECASE)
    host, _, rest = lowered.partition("/")
    host = host.lower().removeprefix("www.")
    path = rest.rstrip("/")
    return host, f"{host}/{path}" if path else host


class _Claimed:
    """Character spans already taken by an earlier, more specific fact."""

    def __init__(self, size: int) -> None:
        self.taken = bytearray(size)

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def take(self, start: int, end: int) -> None:
        self.taken[start:end] = b"\x01" * (end - start)


def find_facts(text: str) -> tuple[Fact, ...]:
    """Every checkable fact in `text`, ordered by position. Read sentence by sentence
    (`segments.py`) and memoised per sentence: a suggestion repeats most of the draft's sentences,
    drafts are re-checked on every tone change, and the sender's fields on every request."""
    return by_sentence(text, _find_facts, _moved) if text else ()


def _moved(fact: Fact, offset: int) -> Fact:
    return Fact(fact.kind, fact.text, fact.start + offset, fact.end + offset, fact.values)


def find_links_and_money(text: str) -> tuple[Fact, ...]:
    """The email, URL and money facts of `text`: exactly those of `find_facts(text)` (they are
    found first, so nothing found later can take their place), without finding the rest. The
    score needs only these, and finding every other kind was a third of its time."""
    return _find_facts(text, links_and_money_only=True) if text else ()


@lru_cache(maxsize=4096)
def _find_facts(text: str, links_and_money_only: bool = False) -> tuple[Fact, ...]:
    lowered = text.lower()
    claimed = _Claimed(len(text))
    facts: list[Fact] = []

    def add(kind: str, start: int, end: int, values: tuple[object, ...]) -> None:
        if end > start and claimed.free(start, end):
            claimed.take(start, end)
            facts.append(Fact(kind, text[start:end], start, end, values))

    for match in NOT_FACTS.finditer(text):
        claimed.take(match.start(), match.end())
    for match in EMAIL.finditer(text) if "@" in text else ():
        add("email", match.start(), match.end(), (match.group().lower(),))
    for match in URL.finditer(text) if _URL_HINT.search(text) else ():
        raw = match.group().rstrip(_TRAILING)
        if not claimed.free(match.start(), match.start() + len(raw)):
            continue
        host, full = normalize_url(raw)
        add("url", match.start(), match.start() + len(raw), (full, host))
    currency_words = any(word in lowered for word in _CURRENCY_WORDS)
    if currency_words or any(sign in text for sign in _CURRENCY_SIGNS):
        for match in MONEY.finditer(text):
            number = match["num"] or match["num2"] or match["num3"]
            mag = match["mag"] or match["mag2"] or match["mag3"]
            base = _number(number)
            if base is not None:
                add("money", match.start(), match.end(), (("money", _canon(base * _magnitude(mag))),))
    for match in MONEY_WORDS.finditer(text) if currency_words else ():
        amount = words_to_number(match["words"])
        if amount is not None:
            add("money", match.start(), match.end(), (("money", _canon(amount)),))
    if links_and_money_only:
        facts.sort(key=lambda fact: fact.start)
        return tuple(facts)
    percent_words = "percent" in lowered or "per cent" in lowered
    for match in PERCENT.finditer(text) if percent_words or "%" in text or "pct" in lowered else ():
        value = _number(match["num"])
        if value is not None:
            add("percent", match.start(), match.end(), (("percent", _canon(value)),))
    for match in PERCENT_WORDS.finditer(text) if percent_words else ():
        amount = words_to_number(match["words"])
        if amount is not None:
            add("percent", match.start(), match.end(), (("percent", _canon(amount)),))
    if _WORD_FACT_HINT.search(lowered):
        for kind, start, end, word_values in word_facts(text):
            add(kind, start, end, word_values)
    for match in TIME.finditer(text) if _TIME_HINT.search(lowered) else ():
        if match["word"]:
            minutes = 720 if match["word"].lower() == "noon" else 0
        elif match["oc"]:
            minutes = int(match["oc"]) * 60
        elif match["h24"] is not None:
            minutes = int(match["h24"]) * 60 + int(match["m24"])
        else:
            hour = int(match["h"]) % 12 + (12 if match["ap"].lower().startswith("p") else 0)
            minutes = hour * 60 + int(match["m"] or 0)
        # An hour without am/pm ("at 3") is too vague to check; "3pm" is a claim.
        add("time", match.start(), match.end(), (("time", minutes),))
    if any(hint in lowered for hint in _PERIOD_WORD_HINT):
        for match in _PERIOD_WORD.get().finditer(text):
            first, unit = match.group().lower().split()
            index = ["first", "second", "third", "fourth"].index(first) + 1
            add("date", match.start(), match.end(),
                (("period", f"{'Q' if unit == 'quarter' else 'H'}{index}"),))
    if any(hint in lowered for hint in _RELATIVE_MORE_HINT):
        for match in _RELATIVE_MORE.get().finditer(text):
            add("date", match.start(), match.end(), (_relative_value(match.group()),))
    for match in _date_matches(text):
        g = defaultdict(str, match.groupdict(default=""))  # a pattern without a group: ""
        values: tuple[object, ...]
        kind = "date"
        if g["iso"]:
            values = (("md", int(g["im"]), int(g["id"])),)
        elif g["a"]:
            a, b = int(g["a"]), int(g["b"])
            if not (1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)):
                continue
            values = (("md", a, b), ("md", b, a))  # US or European order: either counts
        elif g["md_m"]:
            values = (("md", _MONTHS[g["md_m"][:3].lower()], int(g["md_d"])),)
        elif g["dm_m"]:
            values = (("md", _MONTHS[g["dm_m"][:3].lower()], int(g["dm_d"])),)
        elif g["mo"] or g["mo2"]:
            month = g["mo"] or g["mo2"]
            start = match.start("mo") if g["mo"] else match.start()
            if claimed.free(start, start + len(month)):
                add("date", start, start + len(month), (("month", _MONTHS[month[:3].lower()]),))
            continue
        elif g["wd"]:
            values = (("weekday", _WEEKDAYS[g["wd"].lower()]),)
        elif g["q"]:
            values = (("period", g["q"].upper()),)
        elif g["rel"]:
            values = (_relative_value(g["rel"]),)

        else:
            values = (("year", int(g["year"])),)
        add(kind, match.start(), match.end(), values)
    for match in PHONE.finditer(text) if _PHONE_HINT.search(text) else ():
        digits = re.sub(r"\D", "", match.group())
        add("number", match.start(), match.end(), (("phone", digits[-7:]),))
    for match in RANGE.finditer(text):
        lo, hi = _number(match["lo"]), _number(match["hi"])
        if lo is None or hi is None or hi <= lo:
            continue
        add("number", match.start(), match.end(), (("range", _canon(lo), _canon(hi)),))
    for match in NUMBER.finditer(text):
        base = _number(match["num"])
        if base is None:
            continue
        value = base * _magnitude(match["mag"])
        if match["mult"]:  # "3x" is a multiple: "tripled", "three times" say the same
            add("number", match.start(), match.end(), (("multiple", _canon(value)),))
        elif match["ord"]:  # "2nd", "the 14th": an ordinal, not a count
            add("number", match.start(), match.end(), (("ordinal", _canon(value)),))
        else:
            add("number", match.start(), match.end(), (("number", _canon(value)),))
    # A word of _BIG_NUMBER_WORDS as a whole word; the substring test first spares most texts
    # the word split.
    big = any(word in lowered for word in _BIG_NUMBER_WORDS) and bool(
        set(re.findall(r"[a-z]+", lowered)) & _BIG_NUMBER_WORDS)
    for match in NUMBER_WORDS.finditer(text) if big else ():
        amount = words_to_number(match.group())
        # "one quick question", "two teams": small counts are figures of speech, not claims.
        if amount is None or amount <= 10:
            continue
        add("number", match.start(), match.end(), (("number", _canon(amount)),))
    facts.sort(key=lambda fact: fact.start)
    return tuple(facts)
