"""Tone transforms the offline engine applies: greetings, sign-offs, contractions, word choice.

Each transform moves text along the same scale `tone.measure_tone` reads, so "more formal" is
measurably more formal. Transforms change words, never facts: no transform adds a name, number,
date or link.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# ------------------------------------------------------------------------------- greetings

GREETINGS = {"formal": "Dear {name},", "neutral": "Hi {name},", "casual": "Hey {name},"}
NAMELESS_GREETINGS = {"formal": "Hello,", "neutral": "Hi there,", "casual": "Hey there,"}
SIGN_OFFS = {"formal": "Kind regards,", "neutral": "Best,", "casual": "Cheers,"}


def greeting_for(band: str, first_name: str) -> str:
    return GREETINGS[band].format(name=first_name) if first_name else NAMELESS_GREETINGS[band]


def sign_off_for(band: str) -> str:
    return SIGN_OFFS[band]


# ---------------------------------------------------------------------------- contractions

_CONTRACT: list[tuple[str, str]] = [
    ("I am", "I'm"), ("you are", "you're"), ("we are", "we're"), ("they are", "they're"),
    ("it is", "it's"), ("that is", "that's"), ("there is", "there's"), ("here is", "here's"),
    ("what is", "what's"), ("do not", "don't"), ("does not", "doesn't"), ("did not", "didn't"),
    ("cannot", "can't"), ("will not", "won't"), ("would not", "wouldn't"),
    ("could not", "couldn't"), ("should not", "shouldn't"), ("is not", "isn't"),
    ("are not", "aren't"), ("was not", "wasn't"), ("were not", "weren't"),
    ("have not", "haven't"), ("has not", "hasn't"), ("I will", "I'll"), ("we will", "we'll"),
    ("you will", "you'll"), ("I would", "I'd"), ("we would", "we'd"), ("you would", "you'd"),
    ("I have been", "I've been"), ("we have been", "we've been"), ("I have", "I've"),
    ("we have", "we've"),
]
_EXPAND: list[tuple[str, str]] = [
    ("won't", "will not"), ("can't", "cannot"), ("let's", "let us"), ("I'm", "I am"),
    ("I've", "I have"), ("I'll", "I will"), ("I'd", "I would"), ("you're", "you are"),
    ("you've", "you have"), ("you'll", "you will"), ("you'd", "you would"),
    ("we're", "we are"), ("we've", "we have"), ("we'll", "we will"), ("we'd", "we would"),
    ("they're", "they are"), ("they've", "they have"), ("they'll", "they will"),
    ("they'd", "they would"), ("it's", "it is"), ("that's", "that is"),
    ("there's", "there is"), ("here's", "here is"), ("what's", "what is"), ("who's", "who is"),
    ("he's", "he is"), ("she's", "she is"), ("don't", "do not"), ("doesn't", "does not"),
    ("didn't", "did not"), ("wouldn't", "would not"), ("couldn't", "could not"),
    ("shouldn't", "should not"), ("isn't", "is not"), ("aren't", "are not"),
    ("wasn't", "was not"), ("weren't", "were not"), ("haven't", "have not"),
    ("hasn't", "has not"), ("hadn't", "had not"),
]


def _keep_case(replacement: str) -> Callable[[re.Match[str]], str]:
    def swap(match: re.Match[str]) -> str:
        original = match.group()
        if original[0].isupper() and not replacement.startswith("I"):
            return replacement[0].upper() + replacement[1:]
        return replacement
    return swap


def _compile(pairs: list[tuple[str, str]], *, before_word: bool) -> list[tuple[re.Pattern[str], str]]:
    compiled = []
    for source, target in pairs:
        pattern = re.escape(source).replace("'", "['’]").replace(r"\ ", r"\s+")
        # A contraction cannot end a clause ("that's what it is." -> not "what it's.").
        suffix = r"(?=\s+[A-Za-z])" if before_word else ""
        compiled.append((re.compile(rf"\b{pattern}\b{suffix}", re.IGNORECASE), target))
    return compiled


_CONTRACT_RE = _compile(_CONTRACT, before_word=True)
_EXPAND_RE = _compile(_EXPAND, before_word=False)


def contract(text: str) -> str:
    for pattern, target in _CONTRACT_RE:
        text = pattern.sub(_keep_case(target), text)
    return text


def expand(text: str) -> str:
    for pattern, target in _EXPAND_RE:
        text = pattern.sub(_keep_case(target), text)
    return text


# -------------------------------------------------------------------------------- word choice

_TO_FORMAL: list[tuple[str, str]] = [
    (r"\bno worries if not\b", "I understand if not"),
    (r"\bno worries\b", "that is perfectly fine"),
    (r"\bthanks so much\b", "thank you very much"),
    (r"\bthanks\b(?! to)", "thank you"),
    (r"\b(?:yeah|yep)\b", "yes"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\b(?:kinda|sorta)\b", "somewhat"),
    (r"\bawesome\b", "excellent"),
    (r"\bsuper (?=[a-z])", "very "),
    (r"\b(?:lots of|a ton of)\b", "many"),
    (r"\ba quick chat\b", "a brief conversation"),
    (r"\bquick chat\b", "brief conversation"),
    (r"\bquick call\b", "brief call"),
    (r"\bchat\b", "conversation"),
    (r"\bgrab (?:a |some )?(?:time|coffee)\b", "schedule a meeting"),
    (r"\bping me\b", "contact me"),
    (r"\bshoot me (?:a|an) (?:note|email|line)\b", "send me a note"),
    (r"\bfigured\b", "thought"),
    (r"\bstuff\b", "material"),
    (r"\bbtw\b", "incidentally"),
    (r"\bfyi\b", "for your information"),
    (r"\bjust (?=[a-z])", ""),
    (r"\bget back to me\b", "reply"),
    (r"\bworth a\b", "worth a brief"),
]
_TO_CASUAL: list[tuple[str, str]] = [
    (r"\bI would like to\b", "I'd love to"),
    (r"\bI am writing to\b", "I'm reaching out to"),
    (r"\bI am writing because\b", "I'm reaching out because"),
    (r"\b(?:with regard to|regarding)\b", "about"),
    (r"\bassistance\b", "help"),
    (r"\bassist\b", "help"),
    (r"\butili[sz]e\b", "use"),
    (r"\bkindly\s+", ""),
    (r"\bplease do not hesitate to (?:contact|reach out to) me\b", "just let me know"),
    (r"\bat your earliest convenience\b", "when you get a chance"),
    (r"\bwould you be available for a (?:brief|short) (call|conversation)\b", "up for a quick \\1"),
    (r"\bconversation\b", "chat"),
    (r"\b(?:furthermore|moreover|additionally)\b", "also"),
    (r"\btherefore\b", "so"),
    (r"\bI believe\b", "I think"),
    (r"\bapproximately\b", "about"),
    (r"\bobtain\b", "get"),
    (r"\brequire\b", "need"),
    (r"\bpurchase\b", "buy"),
    (r"\binquire\b", "ask"),
    (r"\bcommence\b", "start"),
    (r"\bsufficient\b", "enough"),
    (r"\bthank you very much\b", "thanks so much"),
    (r"\bthank you\b", "thanks"),
]


def _apply(pairs: list[tuple[str, str]], text: str) -> str:
    for pattern, target in pairs:
        def swap(match: re.Match[str], target: str = target) -> str:
            replaced = match.expand(target)
            if match.group()[0].isupper() and replaced:
                return replaced[0].upper() + replaced[1:]
            return replaced
        text = re.sub(pattern, swap, text, flags=re.IGNORECASE)
    return _recapitalise(text)


def _recapitalise(text: str) -> str:
    """A sentence whose first word was dropped ("Kindly let me know") starts with a capital."""
    return re.sub(r"(^|[.!?]\s+|\n)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def to_formal_words(text: str) -> str:
    return _apply(_TO_FORMAL, text)


def to_casual_words(text: str) -> str:
    return _apply(_TO_CASUAL, text)


def calm_exclamations(text: str) -> str:
    """'!' becomes '.' (only at the end of a sentence, so links are left alone)."""
    return re.sub(r"!+(?=\s|$)", ".", text)


def strip_emoticons(text: str) -> str:
    return re.sub(r"\s?(?::\)|:-\)|;\)|:D|[\U0001F300-\U0001FAFF\u2600-\u27BF])", "", text)
