"""No new facts: list every fact in a suggestion that none of the request's inputs supports.

Applied to every suggestion from every engine, because no engine can be trusted to obey "do not
invent": the offline engine is checked by the same code as a remote model.

What counts as support
- Sources are the draft, the prospect, the company, the sender's profile (proof points included)
  and the rep's own instruction. Facts are compared by canonical value (see `facts.py`), so
  "1,200"/"1200", "40%"/"40 percent", "$2M"/"$2 million" and "Acme's"/"Acme" match.
- Prospect and company fields are *data*, never instructions. Free-text fields (custom fields,
  company metadata) may support names, numbers and dates, but never a URL or an email address:
  a link is the classic payload of an injected "add a link to ...". A field that reads like an
  instruction to the writer ("ignore previous instructions", "add a link", "SYSTEM:") supports
  nothing at all, and copying a run of its words is itself flagged (kind `injection`).
- Meaning, not spelling (issue 15): a source's facts are also read in other spellings
  (`normaliser.py`): number words in English, German, Spanish and French ("twelve", "zwölf",
  "quinze"), decimal commas and "Mio."/"millions", foreign dates and times ("14. Mai", "3 de
  marzo", "15 Uhr", "15h30"). Fractions and multiples in words are facts ("a third faster" needs a
  33%, "doubled" a 2x), relative dates are facts ("last spring" needs a "last spring"), and a
  count of a thing the inputs count must be their count ("four warehouses" when a field says
  "three warehouses"; "two quick ideas" counts nothing the inputs count and is no claim).
- Titles (`titles.py`): a role or honorific given to someone is a hard claim (kind `title`)
  unless a source title has the same function at the same or a higher rank of the same ladder
  step ("CRO" for a Chief Revenue Officer passes; "SVP" for a VP, "CFO" for a Finance Manager and
  a "Dr." nobody has do not). A title after "your"/"most"/"a" or in the plural is a role in
  general ("your CFO"), not a claim.
- Whose result (`attribution.py`): a proof point naming a customer ("Brightline saw 2x more
  replies") supports that value only where the suggestion states it as that customer's result;
  "Lumina doubles reply rates" generalises one customer to the product and is flagged.
- Names: a capitalised word or run of words ("Sequoia", "Mark Ellison") is a claim unless every
  word appears in the sources. Not entities: sentence-initial capitals of ordinary words, "I",
  greetings and sign-offs, weekday and month words (dates are checked as dates; "Happy Friday" and
  "Mondays" are generic), and title-case words of a subject line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from . import readability
from .attribution import attributed_in_context, customers_in
from .facts import Fact, find_counts, find_facts, normalize_url
from .injection import looks_like_instruction as looks_like_instruction
from .models import Claim, EngineOutput, EngineRequest
from .normaliser import LANGUAGES, date_values, readings
from .titles import Title, find_titles, source_honorifics, supports

# ----------------------------------------------------------------------------- common words

# Word lists are data; a list literal of 300 quoted words would be harder to read and edit.
_EXTRA_COMMON = """
about above absolutely according actually additionally after again against ago ahead all also
although always am among an and another any anyone anything anyway appreciate are around as at
based because been before being below best better between both but by can certainly cheers
clearly congrats congratulations could curious currently dear definitely did do does doing done
during each either else especially even eventually every everyone everything exactly feel
finally first following for from further furthermore given glad good great had happy has have
having he hello help her here hey hi his hope hopefully how however if importantly in indeed
instead is it its just kind last lately let like likely looking lots many maybe meanwhile might
more moreover most much must my naturally nearly need never next no none nor not nothing
noticed now of off often on once one only or other otherwise our out over overall perhaps plus
possibly probably quick quite rather really recently regarding regards right saw seeing seems
several shall she should similarly simply since sincerely so some someone something sometimes
soon sorry still such sure thank thanks that the their them then there therefore these they
this those though through thus to today together too typically ultimately under unfortunately
unless unlike until up us usually very was we well were what whatever when where whether which
while who whoever why will with within without worth would yes yet you your yours
claim book schedule imagine picture wondering reaching following circling checking attached
enclosed sharing quickly briefly totally honestly frankly personally interestingly separately
speaking assuming considering including alternatively ideally bottom read heard spotted caught
came loved enjoyed kudos welcome apologies excited thrilled pleased delighted grateful reach
reply respond send share check see take try join explore consider review compare ask question
brief short simple teams companies reps leaders customers clients few suppose agree understand
prospect research pipeline outbound inbound revenue sales marketing hiring scaling growing
onboarding forecasting reporting figured wanted thought open free
""".split()  # noqa: SIM905
#: Generic business acronyms: capitalised, but they name no one ("your CRM", "the SDRs").
_GENERIC_ACRONYMS = frozenset("""
crm roi api apis kpi kpis saas b2b b2c sdr sdrs bdr bdrs ae aes smb erp hr it ai ml faq pdf
csv seo ux ui qa okr okrs sla slas eta fyi asap ceo cfo cto coo cmo cro ciso vp vps svp evp gtm
""".split())  # noqa: SIM905

_NEVER_ENTITY = {
    "i", "i'm", "i've", "i'll", "i'd", "ok", "okay", "ps", "p.s", "hi", "hello", "hey", "dear",
    "greetings", "thanks", "thank", "cheers", "best", "regards", "sincerely", "warmly", "mr",
    "mrs", "ms", "dr", "am", "pm", "a.m", "p.m", "et", "pt", "ct", "mt", "est", "edt", "pst",
    "pdt", "cst", "cdt", "utc", "gmt", "cet", "bst", "happy",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays",
    "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "tues", "thurs",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}
_COMPANY_SUFFIXES = {"inc", "corp", "corporation", "llc", "ltd", "co", "gmbh", "plc", "sa", "ag"}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Ordinary English words (textstat's Dale-Chall list plus sentence openers of sales email)."""
    resource = readability.resource("resources/en/easy_words.txt")  # no NLTK
    with resource.open(encoding="utf-8") as handle:
        words = {line.strip().lower() for line in handle if line.strip()}
    return frozenset(words | set(_EXTRA_COMMON))


def is_common_word(word: str) -> bool:
    """An ordinary English word (or a plural/inflection of one), not a name."""
    return _is_common(word)


def _is_common(word: str) -> bool:
    common = common_words()
    if word in common:
        return True
    stems = [word[:-1], word[:-2], word[:-3] + "y", word[:-2] + "e", word[:-3], word[:-3] + "e"]
    if word.endswith(("s", "es", "ies", "ed", "ing", "ly", "er")):
        return any(stem in common for stem in stems if len(stem) > 2)
    return False


# --------------------------------------------------------------------------------- sources

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9&'’.-]*[A-Za-z0-9]|[A-Za-z]")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
#: The parts of a hyphenated, dotted or joined word ("Salesforce-native", "Q&A"); compiled once
#: (a pattern string looked up in `re`'s cache per word cost more than the split).
_PARTS = re.compile(r"[-.&]")
#: The `_WORD` tokens that start with a capital, found by the regex engine: a token is a run of
#: letters, digits and &'’.- from its first letter to its last letter or digit, so one starts
#: with a capital exactly where such a run's first letter is one. (Looping over every word of a
#: 300-word body in Python to skip the lower-case ones was most of the entity scan.)
_CAPITAL_WORD = re.compile(
    r"(?<![A-Za-z0-9&'’.-])[0-9&'’.-]*(?P<w>[A-Z][A-Za-z0-9&'’.-]*[A-Za-z0-9]|[A-Z])"
)
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]+\b")


@lru_cache(maxsize=2048)
def _words(text: str) -> frozenset[str]:
    found: set[str] = set()
    for token in set(_WORD.findall(text)):  # each distinct token once: a draft repeats words
        if token[-1] in "'’s":
            token = _POSSESSIVE.sub("", token)
        token = token.rstrip(".").lower()
        found.add(token)
        if "-" in token or "." in token or "&" in token:
            found.update(part for part in _PARTS.split(token) if part)
    return frozenset(found)


#: Words between a count and its noun that do not change what is counted ("four new warehouses").
_COUNT_FILLER = frozenset("""
new more additional other extra full-time part-time open active big large small great key top
major different separate regional local global main existing current dedicated quick short
""".split())  # noqa: SIM905
_NOUN = re.compile(r"[\s-]*([A-Za-z][A-Za-z'’]*)")


def _counted_noun(text: str, end: int) -> str | None:
    """The thing a count at `end` counts: "12 SDRs" -> "sdr", "a 20-minute call" -> "minute"."""
    position = end
    for _ in range(2):
        match = _NOUN.match(text, position)
        if not match:
            return None
        word = _POSSESSIVE.sub("", match[1]).lower()
        if word in _COUNT_FILLER:
            position = match.end()
            continue
        if len(word) < 2 or word in {"of", "a", "an", "the", "and", "or", "to", "in", "per", "at"}:
            return None
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
            return word[:-1]
        return word
    return None


@dataclass
class Sources:
    """Everything a suggestion may state, reduced to comparable forms."""

    values: set[object] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    injected: list[str] = field(default_factory=list)
    #: noun -> the counts the inputs give it ("warehouse" -> {3}): "four warehouses" contradicts.
    counted: dict[str, set[object]] = field(default_factory=dict)
    titles: list[Title] = field(default_factory=list)
    honorifics: set[str] = field(default_factory=set)
    #: value -> the customers whose proof point alone gives it ("Brightline saw 2x more replies":
    #: ("multiple", "2") -> {"brightline"}); see attribution.py.
    attributed: dict[object, frozenset[str]] = field(default_factory=dict)

    def add_text(self, text: str, *, links_allowed: bool, foreign: bool = False) -> None:
        """Add what `text` says; `foreign` when it is a prospect's or company's field, which may
        be written in German, Spanish or French (the rep's own text is read as English)."""
        if not text:
            return
        self.words |= _words(text)
        for fact in find_facts(text):
            if fact.kind == "url":
                if links_allowed:
                    full, host = fact.values
                    self.urls.add(str(full))
                    self.domains.add(str(host))
                continue
            if fact.kind == "email":
                if links_allowed:
                    address = str(fact.values[0])
                    self.emails.add(address)
                    self.domains.add(address.rpartition("@")[2])
                continue
            self._add_fact(text, fact)
        # The same facts spelled another way: number words (en/de/es/fr) as digits, "4,2 Mio. €"
        # as "€4.2 million", "14. Mai" as May 14 (see normaliser.py).
        for reading in readings(text, LANGUAGES if foreign else ("en",)):
            for fact in find_facts(reading):
                if fact.kind not in {"url", "email"}:
                    self._add_fact(reading, fact)
        for value in date_values(text):
            self.values.add(value)
            self._add_equivalents(value)
        self.titles += find_titles(text)
        self.honorifics |= source_honorifics(text)

    def _add_fact(self, text: str, fact: Fact) -> None:
        for value in fact.values:
            self.values.add(value)
            self._add_equivalents(value)
        if fact.kind == "number":
            noun = _counted_noun(text, fact.end)
            if noun:
                self.counted.setdefault(noun, set()).update(fact.values)

    def _add_equivalents(self, value: object) -> None:
        """A source fact also supports the plainer facts it implies ("March 14" -> "March").

        A range does not support its endpoints: "201-500 employees" must not support
        "we work with 500 logistics companies".
        """
        if not isinstance(value, tuple):
            return
        tag = value[0]
        if tag == "md":
            self.values.add(("month", value[1]))
            self.values.add(("ordinal", str(value[2])))  # "June 1" supports "the 1st"
        elif tag in {"money", "percent"}:
            self.values.add(("number", value[1]))
        elif tag == "year":
            self.values.add(("number", str(value[1])))
        elif tag == "number" and str(value[1]).isdigit() and 1950 <= int(str(value[1])) <= 2099:
            self.values.add(("year", int(str(value[1]))))

    def add_customer_result(self, text: str, customers: frozenset[str]) -> None:
        """A proof point about named customers: what it alone says is theirs, not the product's.

        Call after every other source is in, so a value some other input also gives stays plain.
        """
        own = Sources()
        own.add_text(text, links_allowed=True)
        for value in own.values - self.values:
            self.attributed[value] = self.attributed.get(value, frozenset()) | customers
        self.values |= own.values
        self.urls |= own.urls
        self.domains |= own.domains
        self.emails |= own.emails
        self.words |= own.words
        for noun, counts in own.counted.items():
            self.counted.setdefault(noun, set()).update(counts)
        self.titles += own.titles
        self.honorifics |= own.honorifics

    def add_field(self, text: str, *, links_allowed: bool) -> None:
        """A prospect/company field: data, unless it reads like an instruction (then nothing)."""
        if not text:
            return
        if looks_like_instruction(text):
            self.injected.append(text)
            return
        self.add_text(text, links_allowed=links_allowed, foreign=True)


def build_sources(request: EngineRequest) -> Sources:
    """Collect what the rep, the prospect record and the sender profile allow a suggestion to say."""
    sources = Sources()
    draft, sender = request.draft, request.sender
    for text in (draft.subject, draft.body, request.instruction or ""):
        sources.add_text(text, links_allowed=True)
    for text in (
        sender.sender_name, sender.sender_title, sender.company_name, sender.company_website,
        sender.value_proposition, sender.signature,
    ):
        sources.add_text(text, links_allowed=True)
    # A proof point naming a customer is that customer's result (attribution.py): added last.
    not_customers = frozenset(_words(sender.company_name) | _GENERIC_ACRONYMS | _NEVER_ENTITY
                              | _COMPANY_SUFFIXES)
    customer_results: list[tuple[str, frozenset[str]]] = []
    for text in sender.proof_points:
        customers = customers_in(text, ignore=not_customers, is_common=_is_common)
        if customers:
            customer_results.append((text, customers))
        else:
            sources.add_text(text, links_allowed=True)
    prospect, company = request.prospect, request.company
    for text in (prospect.first_name, prospect.last_name, prospect.company, prospect.job_title):
        sources.add_field(text, links_allowed=False)
    for text in (company.name, company.industry, company.size, company.location):
        sources.add_field(text, links_allowed=False)
    # The prospect's own address and their company's domain are structured, so they may be cited.
    if prospect.email and "@" in prospect.email and not looks_like_instruction(prospect.email):
        sources.add_text(prospect.email, links_allowed=True)
    if company.domain and not looks_like_instruction(company.domain):
        host, full = normalize_url(company.domain)
        sources.domains.add(host)
        sources.urls.add(full)
        sources.words |= _words(company.domain)
    for text in (*prospect.custom_fields.values(), *company.metadata.values()):
        sources.add_field(text, links_allowed=False)
    for text, customers in customer_results:
        sources.add_customer_result(text, customers)
    return sources


# ---------------------------------------------------------------------------------- checking


def _fact_supported(fact: Fact, sources: Sources, text: str = "") -> bool:
    if fact.kind == "url":
        full, host = fact.values
        return full in sources.urls or (full == host and host in sources.domains)
    if fact.kind == "email":
        return fact.values[0] in sources.emails
    if fact.kind == "number" and text:
        # A count of something the inputs count too must be their count: "a dozen hours a week"
        # is invented when the inputs say 6 hours, even if a 12 appears elsewhere.
        noun = _counted_noun(text, fact.end)
        if noun and noun in sources.counted:
            counted = [value for value in fact.values if value in sources.counted[noun]]
            return bool(counted) and _theirs_said_so(counted, sources, text, fact.start)
    matched: list[object] = []
    for value in fact.values:
        if value in sources.values:
            matched.append(value)
        elif (
            isinstance(value, tuple)
            and value[0] == "range"
            and ("number", value[1]) in sources.values
            and ("number", value[2]) in sources.values
        ):
            matched += [("number", value[1]), ("number", value[2])]
    return bool(matched) and _theirs_said_so(matched, sources, text, fact.start)


def _theirs_said_so(matched: Sequence[object], sources: Sources, text: str, start: int) -> bool:
    """Supported values that only a customer's proof point gives must be stated as that
    customer's result where they appear ("Lumina doubles reply rates" is not Brightline's 2x)."""
    if not sources.attributed or not text:
        return True
    customers: frozenset[str] = frozenset()
    for value in matched:
        owners = sources.attributed.get(value)
        if owners is None:
            return True  # another input says it plainly
        customers |= owners
    return attributed_in_context(text, start, customers)


def _count_supported(fact: Fact, sources: Sources, text: str) -> bool:
    """A small count in words ("two quick ideas") is a claim only about a thing the inputs count."""
    noun = _counted_noun(text, fact.end)
    if not noun or noun not in sources.counted:
        return True
    counted = [value for value in fact.values if value in sources.counted[noun]]
    return bool(counted) and _theirs_said_so(counted, sources, text, fact.start)


#: Words before a title that make it a role in general, not this person's title ("your CFO",
#: "most VPs of Sales"); "as a CFO" and "you're the VP" are about the reader again.
_GENERIC_BEFORE = re.compile(
    r"(?:\b(?:your|our|their|his|her|its|my|every|any|most|many|other|each|some|no|which|"
    r"whose|a|an|the|new|former|future|which|that|this)\s+)$",
    re.IGNORECASE,
)
_PERSONAL_BEFORE = re.compile(
    r"(?:\b(?:as|you're|you are|you’re|i'm|i’m|i am|being|promoted to|named|appointed)\s+"
    r"(?:(?:a|an|the)\s+)?)$",
    re.IGNORECASE,
)
_HONORIFIC_RANKS = frozenset({"doctor", "professor"})


def _title_claims(text: str, facts: list[Fact], sources: Sources) -> tuple[list[Title], list[Title]]:
    """(every title mentioned, the ones that give someone a rank or honorific no input gives)."""
    taken = bytearray(len(text))
    for fact in facts:
        taken[fact.start : fact.end] = b"\x01" * (fact.end - fact.start)
    mentioned: list[Title] = []
    claims: list[Title] = []
    for title in find_titles(text):
        if any(taken[title.start : title.end]):
            continue
        mentioned.append(title)
        if title.rank in _HONORIFIC_RANKS:
            if title.rank not in sources.honorifics:
                claims.append(title)
            continue
        before = text[max(0, title.start - 40) : title.start]
        if title.plural or (
            _GENERIC_BEFORE.search(before) and not _PERSONAL_BEFORE.search(before)
        ):
            continue
        if not any(supports(source, title) for source in sources.titles):
            claims.append(title)
    return mentioned, claims


def _sentence_initial(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] in " \t\"'“‘(*•-–—>":
        index -= 1
    return index < 0 or text[index] in ".!?\n:;"


def _entity_claims(
    text: str, facts: list[Fact], sources: Sources, *, is_subject: bool,
    titles: Sequence[Title] = (),
) -> list[tuple[str, int, int]]:
    taken = bytearray(len(text))
    spans: list[Fact | Title] = [*facts, *titles]
    for span in spans:
        taken[span.start : span.end] = b"\x01" * (span.end - span.start)
    lowered_words: set[str] | None = None  # read only if a sentence opens with a rare word

    groups: list[list[tuple[str, int, int]]] = []
    current: list[tuple[str, int, int]] = []
    for match in _CAPITAL_WORD.finditer(text):
        word, start, end = match["w"], match.start("w"), match.end("w")
        if any(taken[start:end]):
            current = []
            continue
        key = _POSSESSIVE.sub("", word).rstrip(".").lower()
        if key in _NEVER_ENTITY:
            current = []
            continue
        # A lower-case word between two capitals ends a run too: the gap is then not " ".
        joined = bool(current) and text[current[-1][2] : start] in {" ", " & "}
        joined = joined and not _POSSESSIVE.search(current[-1][0])
        if joined:
            current.append((word, start, end))
        else:
            current = [(word, start, end)]
            groups.append(current)

    claims: list[tuple[str, int, int]] = []
    for group in groups:
        words = list(group)
        first_word, first_start, _ = words[0]
        first_key = _POSSESSIVE.sub("", first_word).rstrip(".").lower()
        if _sentence_initial(text, first_start):
            common = _is_common(first_key)
            if not common and lowered_words is None:
                lowered_words = {w.lower() for w in _LOWER_WORD.findall(text)}
            if common or first_key in (lowered_words or ()):
                words = words[1:]
        unsupported = False
        for word, _, _ in words:
            key = _POSSESSIVE.sub("", word).rstrip(".").lower()
            parts = [part for part in _PARTS.split(key) if part]
            if key in sources.words or key in _COMPANY_SUFFIXES or key in _GENERIC_ACRONYMS:
                continue
            if parts and all(p in sources.words or _is_common(p) for p in parts) and len(parts) > 1:
                continue
            if is_subject and _is_common(key):
                continue
            unsupported = True
        if unsupported and words:
            start, end = words[0][1], words[-1][2]
            claim_text = _POSSESSIVE.sub("", text[start:end])
            claims.append((claim_text, start, start + len(claim_text)))
    return claims


_INJECTION_RUN = 5
_TOKEN = re.compile(r"[\w'$.@/-]+")


def _injection_claims(text: str, sources: Sources) -> list[tuple[str, int, int]]:
    """Runs of five or more words copied from an instruction-like field (linear: 5-gram sets)."""
    if not sources.injected:
        return []
    grams: set[tuple[str, ...]] = set()
    for injected in sources.injected:
        words = [w.lower().strip(".") for w in _TOKEN.findall(injected)]
        grams.update(tuple(words[i : i + _INJECTION_RUN])
                     for i in range(len(words) - _INJECTION_RUN + 1))
    tokens = list(_TOKEN.finditer(text))
    lowered = [t.group().lower().strip(".") for t in tokens]
    claims: list[tuple[str, int, int]] = []
    run_end = -1
    for i in range(len(tokens) - _INJECTION_RUN + 1):
        if tuple(lowered[i : i + _INJECTION_RUN]) not in grams:
            continue
        last = i + _INJECTION_RUN - 1
        if claims and i <= run_end + 1:
            start = claims[-1][1]
        else:
            start = tokens[i].start()
            claims.append(("", start, start))
        end = tokens[last].end()
        claims[-1] = (text[start:end], start, end)
        run_end = last
    return claims


def find_unsupported(
    text: str, sources: Sources, *, field_name: str = "body"
) -> list[Claim]:
    """Claims in one text (a body or a subject), ordered by position."""
    if not text:
        return []
    facts = find_facts(text)
    claims = [
        Claim(text=f.text, kind=f.kind, start=f.start, end=f.end, field=field_name)
        for f in facts
        if not _fact_supported(f, sources, text)
    ]
    counts = find_counts(text, facts)
    claims += [
        Claim(text=f.text, kind=f.kind, start=f.start, end=f.end, field=field_name)
        for f in counts
        if not _count_supported(f, sources, text)
    ]
    mentioned, title_claims = _title_claims(text, [*facts, *counts], sources)
    claims += [
        Claim(text=t.text, kind="title", start=t.start, end=t.end, field=field_name)
        for t in title_claims
    ]
    for claim_text, start, end in _entity_claims(
        text, [*facts, *counts], sources, is_subject=field_name == "subject", titles=mentioned
    ):
        claims.append(
            Claim(text=claim_text, kind="entity", start=start, end=end, field=field_name)
        )
    for claim_text, start, end in _injection_claims(text, sources):
        claims.append(
            Claim(text=claim_text, kind="injection", start=start, end=end, field=field_name)
        )
    claims.sort(key=lambda c: (c.start, c.end))
    return claims


def check_output(output: EngineOutput, request: EngineRequest,
                 sources: Sources | None = None) -> list[Claim]:
    """Unsupported claims in a suggestion's subject (if it has one) and body. `sources`:
    `build_sources(request)` made beforehand (the orchestrator builds it while the model runs)."""
    sources = sources if sources is not None else build_sources(request)
    claims: list[Claim] = []
    if output.subject:
        claims += find_unsupported(output.subject, sources, field_name="subject")
    claims += find_unsupported(output.body, sources, field_name="body")
    return claims
