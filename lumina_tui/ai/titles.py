"""Role titles and honorifics: what a title says, so "CRO" and "Chief Revenue Officer" compare equal
and "SVP" for a VP does not.

A title is read as (rank, function): the rank on the seniority ladder Manager < Director < Head <
VP < SVP < EVP < C-level (with Founder and President beside the C-level), the function as a set of
canonical words ({"sales"}, {"sales", "operations"}, {"revenue"}). Abbreviations ("VP", "Sr.",
"Ops", "CRO") and the common Spanish, French and German words of a prospect's job title
("Directora de Ventas", "Directeur commercial", "Leiter Vertrieb") read into the same pair.

Grounding uses it both ways: the sources' titles (job title, sender title, fields) say which
(rank, function) pairs a suggestion may give a person; a title in a suggestion that claims a higher
rank or another function than any source title, or an honorific ("Dr.", "Prof.", "PhD") that no
source carries, is a hard claim. Dropping a "Senior" is not a claim (a Senior Director is a
Director); adding one is.

The tables are data: one line per rank or function, abbreviations beside the words they stand for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .facts import LazyPattern

# ------------------------------------------------------------------------------- the ladder

#: rank -> (seniority, base rank). A source title supports a suggestion's title of the same base
#: rank and the same function when its seniority is at least as high ("Senior Director" supports
#: "Director", not the reverse).
RANKS: dict[str, tuple[int, str]] = {
    "manager": (10, "manager"),
    "senior manager": (15, "manager"),
    "director": (20, "director"),
    "senior director": (25, "director"),
    "head": (27, "head"),
    "vp": (30, "vp"),
    "svp": (40, "vp"),
    "evp": (45, "vp"),
    "c-level": (50, "c-level"),
    "president": (50, "president"),
    "founder": (60, "founder"),
    "account executive": (5, "account executive"),
    "sdr": (3, "sdr"),
    "bdr": (3, "bdr"),
}

#: C-level abbreviations and the function they name (some name two: a CPO runs product or people).
C_LEVEL: dict[str, tuple[frozenset[str], ...]] = {
    "CEO": (frozenset({"executive"}),),
    "CFO": (frozenset({"finance"}),),
    "COO": (frozenset({"operations"}),),
    "CTO": (frozenset({"technology"}),),
    "CMO": (frozenset({"marketing"}),),
    "CRO": (frozenset({"revenue"}),),
    "CIO": (frozenset({"information"}),),
    "CISO": (frozenset({"information", "security"}), frozenset({"security"})),
    "CSO": (frozenset({"sales"}), frozenset({"security"}), frozenset({"strategy"})),
    "CPO": (frozenset({"product"}), frozenset({"people"})),
    "CCO": (frozenset({"customer"}), frozenset({"commercial"})),
    "CHRO": (frozenset({"people"}),),
    "CDO": (frozenset({"data"}), frozenset({"digital"})),
}

#: Words of a function, in English and in the languages prospects' job titles arrive in.
_FUNCTION_WORDS = """
sales: sales ventas ventes vente vertrieb vertriebs commercial commerciale comercial verkauf
revenue: revenue revenues ingresos umsatz
finance: finance financial finanzas finances finanzen financiero financier
marketing: marketing mercadotecnia
operations: operations ops operaciones opérations operativ betrieb
technology: technology technical engineering tecnología technologie technik
information: information informatique
security: security seguridad sécurité sicherheit
people: people hr personal personnel rrhh
human: human humanos humaines
resources: resources recursos ressources
product: product producto produit produkt
customer: customer customers cliente clientes client clients kunden
success: success éxito
business: business negocio
development: development desarrollo développement entwicklung
growth: growth crecimiento croissance wachstum
data: data datos données daten
partnerships: partnerships partners alianzas partenariats
strategy: strategy estrategia stratégie strategie
executive: executive
"""
FUNCTIONS: dict[str, str] = {
    word: canonical
    for line in _FUNCTION_WORDS.strip().splitlines()
    for canonical, words in [line.split(":", 1)]
    for word in words.split()
}
#: Abbreviated functions that stand for two words.
_FUNCTION_PAIRS = {"revops": ("revenue", "operations"), "salesops": ("sales", "operations"),
                   "bizdev": ("business", "development")}
#: "Human Resources" and "HR" are one function.
_SAME_FUNCTION = {frozenset({"human", "resources"}): frozenset({"people"})}

# ---------------------------------------------------------------------------- the patterns

_SENIOR = r"(?:Senior|Sr\.?|Snr\.?)"
_EXEC = r"(?:Executive|Exec\.?)"
_WORD = r"[A-Za-zÀ-ÿ]+"
_JOIN = r"(?:\s*[,/&]\s*|\s+(?:and|y|et|und)\s+|\s+)"


def _tail(name: str) -> str:
    """Up to four words that may name a function; `_function_span` keeps those that do (a
    generic word here keeps the pattern small: an alternation of every function word took
    ~90 ms to compile)."""
    return rf"(?P<{name}>{_WORD}(?:{_JOIN}{_WORD}){{0,3}})"


# Order matters: longer, more specific forms first; each character belongs to one title.
_TITLE_PARTS = (
        # Chief Revenue Officer, Chief Information Security Officer
        r"\b(?P<chief>Chief\s+(?P<chief_f>(?:[A-Z][a-z]+\s+){1,3})Officer)\b",
        # C-level and VP abbreviations (case-sensitive: "cro" is not a title)
        r"\b(?P<cabbr>CEO|CFO|COO|CTO|CMO|CRO|CIO|CISO|CSO|CPO|CCO|CHRO|CDO)s?\b",
        rf"\b(?P<vpabbr>SVP|EVP|AVP|VP)s?\b(?:(?:,|\s+of|\s+-|\s*–|\s)\s*(?:the\s+)?{_tail('vp_f')})?",
        # Senior/Executive Vice President (of) X
        rf"\b(?P<vp>(?:(?P<vp_sen>{_SENIOR}|{_EXEC}|Assistant)\s+)?Vice[\s-]+Presidents?)"
        rf"(?:(?:,|\s+of|\s+-|\s)\s*(?:the\s+)?{_tail('vpw_f')})?",
        # Head of X / Leiter(in) X / Jefe de X
        rf"\b(?P<head>Head|Leiter(?:in)?|Jef[ea]|Responsable)s?(?:\s+(?:of|de|du|des|der|la)"
        rf"(?:\s+la|\s+los|\s+las)?)?\s+{_tail('head_f')}",
        # (Senior) Director (of) X / Directora de X / Directeur commercial / Sales Director
        rf"\b(?P<dir>(?:(?P<dir_sen>{_SENIOR})\s+)?(?:Director[ae]?s?|Directeur|Directrice|Direktor(?:in)?))"
        rf"(?:(?:,|\s+of|\s+de|\s+du|\s+des|\s+der|\s)(?:\s*(?:the|la|los|las)\s+)?\s*{_tail('dir_f')})?",
        # Manager of X, Gerente de X
        # (Senior) Manager of X, Gerente de X, and "Sales Manager" (read back from "Manager")
        rf"\b(?P<mgr>(?:(?P<mgr_sen>{_SENIOR})\s+)?(?:Manager|Gerente))s?\b"
        rf"(?:\s+(?:of|de)\s+{_tail('mgr_f')})?",
        r"\b(?P<founder>(?:Co-?)?[Ff]ounders?|Cofounders?|Gründer(?:in)?|Fundador[a]?|Fondat(?:eur|rice))\b",
        r"(?<!Vice )(?<!Vice-)\b(?P<president>President|Präsident(?:in)?|Presidente|Président[e]?)\b",
        r"\b(?P<ae>Account\s+Executives?|AEs?)\b",
        r"\b(?P<sdr>SDRs?|Sales\s+Development\s+Rep(?:resentative)?s?)\b",
        r"\b(?P<bdr>BDRs?|Business\s+Development\s+Rep(?:resentative)?s?)\b",
)


@lru_cache(maxsize=1)
def _title_pattern() -> re.Pattern[str]:
    """Compiled on first use: `score` imports grounding but never reads a title."""
    # The look-ahead lets the engine skip to capitals (and "founder") instead of trying every
    # alternative at every position: 0.06 ms instead of 0.85 ms on a 300-word draft.
    return re.compile(r"(?=[A-Zcf])(?:" + "|".join(_TITLE_PARTS) + ")")
#: Honorifics a suggestion could give a person who does not have them.
_HONORIFIC = LazyPattern(
    r"(?=[A-Z])\b(?P<dr>Dr|Dra|Doctor|Docteur)\.?(?=\s+[A-Z])"
    r"|\b(?P<prof>Prof|Professor|Professeur|Profesor[a]?)\.?(?=\s+[A-Z])"
    r"|(?<=,\s)(?P<phd>Ph\.?\s?D\.?|PhD|MD|M\.D\.)(?![A-Za-z])",
)
_HONORIFIC_KIND = {"dr": "doctor", "prof": "professor", "phd": "doctor"}
#: Words in a source that show a person holds an honorific.
_HONORIFIC_SOURCE = LazyPattern(
    r"(?=[DdPpMm])\b(?:(?P<doctor>Dr|Dra|Doctor|Docteur|PhD|Ph\.D|MD)|(?P<professor>Prof|Professor|Professeur|"
    r"Profesora?))\b\.?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Title:
    """A title as written: its span, rank, function words, and whether it names a person."""

    text: str
    start: int
    end: int
    rank: str  # a RANKS key, or an honorific: "doctor", "professor"
    functions: tuple[frozenset[str], ...]  # readings of the function; (frozenset(),) = none said
    plural: bool = False


_FUNCTION_JOINERS = frozenset({"and", "y", "et", "und", "of", "de", "the", "la", "des", "du",
                               "der"})
_TOKEN = re.compile(r"[A-Za-zÀ-ÿ]+")


def _function_span(text: str, start: int, end: int) -> tuple[frozenset[str], int]:
    """The function named by the words in text[start:end] ('Sales Ops' -> {'sales',
    'operations'}) and where its last word ends; the first word that names no function ends it."""
    found: set[str] = set()
    last = start
    for token in _TOKEN.finditer(text, start, end):
        word = token.group().lower()
        if word in _FUNCTION_PAIRS:
            found.update(_FUNCTION_PAIRS[word])
        elif word in FUNCTIONS:
            found.add(FUNCTIONS[word])
        elif word in _FUNCTION_JOINERS and found:
            continue
        else:
            break
        last = token.end()
    result = frozenset(found)
    return _SAME_FUNCTION.get(result, result), last


_SENIOR_WORD = re.compile(r"(?:Senior|Sr\.?|Snr\.?)\s+$")


def _function_before(text: str, start: int) -> tuple[frozenset[str], int, bool]:
    """The function words right before `start` ("As Sales Ops Director" -> {'sales',
    'operations'}), where they start, and whether "Senior" precedes them."""
    position = start
    words: list[re.Match[str]] = []
    for token in reversed(list(_TOKEN.finditer(text, max(0, start - 60), start))):
        gap = text[token.end() : position]
        if gap.strip(" &/") or not gap:
            break
        word = token.group().lower()
        if word not in FUNCTIONS and word not in _FUNCTION_PAIRS:
            break
        words.append(token)
        position = token.start()
    if not words:
        return frozenset(), start, False
    function, _ = _function_span(text, position, start)
    senior = _SENIOR_WORD.search(text, max(0, position - 8), position)
    return function, senior.start() if senior else position, bool(senior)


_Read = tuple[str, tuple[frozenset[str], ...], bool, int, int]


def _with_tail(match: re.Match[str], rank: str, group: str, plural: bool,
               *, needs_function: bool = False) -> _Read | None:
    """A title whose function follows it ("VP of Sales"): the span ends after the function."""
    start, end = match.start(), match.end()
    function: frozenset[str] = frozenset()
    if match[group]:
        function, function_end = _function_span(match.string, match.start(group), match.end(group))
        end = function_end if function else match.start(group)
    if needs_function and not function:
        return None
    return rank, (function,), plural, start, end


def _rank_of(match: re.Match[str]) -> _Read | None:
    g = match.groupdict()
    text, start, end = match.group(), match.start(), match.end()
    if g["chief"]:
        function, _ = _function_span(match.string, match.start("chief_f"), match.end("chief_f"))
        return ("c-level", (function,), False, start, end) if function else None
    if g["cabbr"]:
        return "c-level", C_LEVEL[g["cabbr"]], text.endswith("s"), start, end
    if g["vpabbr"]:
        rank = {"SVP": "svp", "EVP": "evp", "AVP": "director", "VP": "vp"}[g["vpabbr"]]
        return _with_tail(match, rank, "vp_f", bool(re.match(r"[A-Z]+s\b", text)))
    if g["vp"]:
        senior = (g["vp_sen"] or "").lower().rstrip(".")
        rank = {"senior": "svp", "sr": "svp", "snr": "svp", "executive": "evp", "exec": "evp",
                "assistant": "director"}.get(senior, "vp")
        return _with_tail(match, rank, "vpw_f", "Presidents" in g["vp"])
    if g["head"]:
        return _with_tail(match, "head", "head_f", g["head"].endswith("s"), needs_function=True)
    if g["dir"]:
        plural = bool(re.search(r"(?:ors|ras|res)$", g["dir"]))
        read = _with_tail(match, "director", "dir_f", plural)
        senior = bool(g["dir_sen"])
    else:
        read, senior = None, False
    if g["mgr"]:
        plural = text[len(g["mgr"]) : len(g["mgr"]) + 1] == "s"
        read = _with_tail(match, "manager", "mgr_f", plural)
        senior = bool(g["mgr_sen"])
    if read is not None:
        rank, functions, plural, start, end = read
        if functions == (frozenset(),):  # "Sales Director": the function comes first
            function, start, before_senior = _function_before(match.string, match.start())
            if function:
                functions, senior = (function,), senior or before_senior
            elif rank == "manager":
                return None  # "your manager" names no role
        return (f"senior {rank}" if senior else rank), functions, plural, start, end
    for group, rank in (("founder", "founder"), ("president", "president"),
                        ("ae", "account executive"), ("sdr", "sdr"), ("bdr", "bdr")):
        if g[group]:
            return rank, (frozenset(),), text.endswith("s") and rank != "president", start, end
    return None


@lru_cache(maxsize=2048)
def find_titles(text: str) -> tuple[Title, ...]:
    """Every role title and honorific in `text`, in order (memoised: sources repeat per request).
    Read whole: the pattern skips to capitals, so reading a sentence at a time (`segments.py`)
    saved nothing."""
    if not text:
        return ()
    found: list[Title] = []
    pattern = _title_pattern()
    position = 0
    while (match := pattern.search(text, position)) is not None:
        read = _rank_of(match)
        if read is None:
            position = match.start() + 1
            continue
        rank, functions, plural, start, end = read
        raw = text[start:end].rstrip(" ,")
        found.append(Title(raw, start, start + len(raw), rank, functions, plural))
        position = max(end, match.start() + 1)
    for match in _HONORIFIC.get().finditer(text):
        kind = next(name for name, value in match.groupdict().items() if value)
        found.append(Title(match.group(), match.start(), match.end(), _HONORIFIC_KIND[kind],
                           (frozenset(),)))
    found.sort(key=lambda title: title.start)
    return tuple(found)


@lru_cache(maxsize=2048)
def source_honorifics(text: str) -> frozenset[str]:
    """Honorifics a source text gives someone: {'doctor'} for "Dr." or "PhD", {'professor'}."""
    return frozenset(
        kind for match in _HONORIFIC_SOURCE.get().finditer(text)
        for kind, value in match.groupdict().items() if value
    )


def supports(source: Title, claimed: Title) -> bool:
    """A source title supports a claimed one of the same base rank, at most the source's
    seniority, and the same function (a claim that names no function names none extra)."""
    if claimed.rank not in RANKS or source.rank not in RANKS:
        return False
    claimed_level, claimed_base = RANKS[claimed.rank]
    source_level, source_base = RANKS[source.rank]
    if claimed_base != source_base or claimed_level > source_level:
        return False
    return any(
        not claimed_function or claimed_function == source_function
        for claimed_function in claimed.functions
        for source_function in source.functions
    )
