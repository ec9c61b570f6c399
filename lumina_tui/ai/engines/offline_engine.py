"""The offline engine: deterministic personalize and rewrite with no network and no model.

It is the default, so it must produce email a rep would actually send. Personalize fills template
fields, greets the prospect by name, adds one line tying the email to their role, company,
industry, size and location (only facts from the inputs), adds recent news from a custom field when
there is some, and sets greeting, sign-off and contractions to the requested tone. The rep's own
sentences are kept. Rewrite follows the common instructions (see `instructions.py`) and each one
does measurably what it says; an instruction it does not understand is an error, not a no-op.

It never writes a broken sentence to hide a gap, and never hides what it did not do: a template
field with no value becomes a whole-sentence stand-in ("your area") or stays `{{erp}}` for the rep
to fill, and the part of an instruction it could not follow ("… about Antwerp") is named. Both are
reported in `EngineOutput` (notes, unfilled fields, parts not applied), which lowers the confidence.
"""

from __future__ import annotations

import re

from ..email_parts import EmailParts, paragraphs, sentences, split_email
from ..errors import AIError
from ..facts import find_facts
from ..grounding import is_common_word, looks_like_instruction
from ..instructions import SUPPORTED_HELP, Intent, parse_instruction, unapplied_parts
from ..jargon import find_jargon, replace_jargon
from ..models import EngineOutput, EngineRequest
from ..placeholders import PLACEHOLDER
from ..style import (
    calm_exclamations,
    contract,
    expand,
    greeting_for,
    sign_off_for,
    strip_emoticons,
    to_casual_words,
    to_formal_words,
)
from ..templating import _lookup, field_values, fill, tidy
from ..tone import measure_tone, tone_label

OFFLINE_MODEL = "lumina-offline-1"
_NEWS_KEYS = {"recent_news", "news", "trigger", "trigger_event", "recent_event",
              "recent_activity", "company_news", "recent_initiative", "initiative"}
#: News phrased as a past event ("opened a Denver office") reads "I saw that Acme opened ...".
_NEWS_PAST = re.compile(
    r"^(?:just |recently )?(?:\w+ed|raised|won|hired|cut|built|set|made|took|ran|began|became|"
    r"grew|hit|led|sold|bought|spun|shut|went|wrote|spoke|brought)\b",
    re.IGNORECASE,
)
#: News phrased as work in progress ("moving close to SAP") reads "I saw that Acme is moving ...".
_NEWS_ONGOING = re.compile(r"^[a-z][a-z-]*ing\b")
_MASS_NOUNS = {"logistics", "services", "analytics", "electronics", "goods", "sports",
               "communications", "systems", "solutions", "pharmaceuticals", "materials",
               "chemicals", "textiles", "semiconductors", "robotics", "biosciences", "sciences",
               "media", "news", "aerospace", "mechanics", "graphics", "devices", "products",
               "saas", "paas", "ops", "devops", "sales", "payments", "insurance"}
_PLEASANTRY = re.compile(
    r"^(?:i hope (?:this|you|all|your)|hope (?:this|you|all|your)|i trust (?:this|you)|"
    r"i know (?:you're|you are) (?:busy|swamped)|i hope you are|my name is|allow me to introduce|"
    r"i'?m sure you(?:'re| are) busy|thank you for (?:taking the time to read|reading)|"
    r"thanks for (?:taking the time to read|reading))",
    re.IGNORECASE,
)
_FILLERS: list[tuple[str, str]] = [
    (r"\bI just wanted to\b", "I wanted to"),
    (r"\bjust (?=[a-z])", ""),
    (r"\breally (?=[a-z])", ""),
    (r"\bvery (?=[a-z])", ""),
    (r"\bactually,? ", ""),
    (r"\bbasically,? ", ""),
    (r"\bsimply (?=[a-z])", ""),
    (r"\bquite (?=[a-z])", ""),
    (r"\bin order to\b", "to"),
    (r"\bat this point in time\b", "now"),
    (r"\bdue to the fact that\b", "because"),
    (r"\bin the event that\b", "if"),
    (r"\bfor the purpose of\b", "for"),
    (r"\bI was wondering if you would be\b", "Would you be"),
    (r"^I (?:just )?wanted to reach out (?:to you )?(?:because|since) ", ""),
    (r"^I(?:'m| am) reaching out (?:to you )?(?:because|since) ", ""),
]
#: The engine's own introduction line ("I'm reaching out to you as VP of Sales at ...").
_INTRODUCTION = re.compile(
    r"^(?:i'?m reaching out|i am reaching out|i am writing|reaching out)\s+"
    r"(?:to you\b|since you)", re.IGNORECASE)
_FOLLOW_UP = re.compile(
    r"^(?:following up|follow(?:ing)? up|circling back|bumping|floating this|just following|"
    r"as promised|thanks for (?:the|your) (?:call|time|reply|note))", re.IGNORECASE)
_WARM_OPENER = re.compile(r"\bhope (?:this|your|you|all|the)\b", re.IGNORECASE)
_ASK = re.compile(r"\b(?:call|chat|meeting|meet|time|open to|worth|interested|demo|calendar)\b",
                  re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _usable(value: str) -> str:
    """A field value the engine may print: present and not an instruction in disguise."""
    return value.strip() if value and not looks_like_instruction(value) else ""


def _article(phrase: str) -> str:
    first = phrase.split(" ")[0].lower()
    vowel = first[:1] in set("aeiou") or first.startswith("8") or re.match(r"1[18](?!\d)", first)
    return "an" if vowel else "a"


def _size_phrase(size: str) -> str:
    text = re.sub(r"\s*(?:employees|people|staff|emps?\.?|fte)$", "", size.strip(), flags=re.I)
    if re.fullmatch(r"\d[\d,]*\s*(?:-|–|to)\s*\d[\d,]*", text):
        low, high = re.split(r"\s*(?:-|–|to)\s*", text)
        return f"{low}-{high} person"
    if re.fullmatch(r"\d[\d,]*\+?", text):
        return f"{text} person" if text.endswith("+") else f"{text}-person"
    if re.fullmatch(r"[A-Za-z][A-Za-z -]{1,30}", text) and len(text.split()) <= 3:
        return text.lower()
    return ""


def _industry_phrase(industry: str) -> str:
    words = []
    industry = re.sub(r"\s*\([^)]*\)", "", industry).strip() or industry
    for word in industry.split():
        # Keep acronyms and brand casing (SaaS, B2B); lower-case ordinary capitalised words.
        words.append(word.lower() if word[1:].islower() or len(word) == 1 else word)
    phrase = " ".join(words)
    return re.sub(r"\s+(?:company|companies|industry)$", "", phrase)


class _Facts:
    """The facts the engine may use, cleaned once per request."""

    def __init__(self, request: EngineRequest) -> None:
        prospect, company, sender = request.prospect, request.company, request.sender
        self.first_name = _usable(prospect.first_name)
        self.title = _usable(prospect.job_title)
        self.company = _usable(prospect.company) or _usable(company.name)
        self.industry = _usable(company.industry)
        self.size = _usable(company.size)
        self.location = _usable(company.location)
        self.sender_name = _usable(sender.sender_name)
        self.signature = sender.signature.strip() if _usable(sender.signature) else ""
        self.value_proposition = _usable(sender.value_proposition)
        self.proof_points = [p for p in (_usable(p) for p in sender.proof_points) if p]
        self.sender_company = _usable(sender.company_name)
        self.news = ""
        self.news_raw = ""
        for key, value in prospect.custom_fields.items():
            value = _usable(value)
            if key.lower() not in _NEWS_KEYS or not value or len(value) >= 120:
                continue
            if _NEWS_PAST.match(value):
                self.news = value.rstrip(".")
            elif _NEWS_ONGOING.match(value):
                self.news = "is " + value.rstrip(".")
            if self.news:
                self.news_raw = value.rstrip(".")
                break

    def descriptor(self) -> str:
        """'a 201-500 person logistics company based in Austin, TX' from what is known."""
        size = _size_phrase(self.size) if self.size else ""
        industry = _industry_phrase(self.industry) if self.industry else ""
        last = industry.split(" ")[-1].lower() if industry else ""
        if industry and last.endswith("s") and last not in _MASS_NOUNS:
            # "Healthcare Clinics" is not an adjective: "a company in healthcare clinics".
            noun = f"{size} company in {industry}".strip() if size else f"company in {industry}"
            phrase = f"{_article(noun)} {noun}"
        else:
            noun = " ".join(part for part in (size, industry) if part)
            phrase = f"{_article(noun)} {noun} company" if noun else ""
        if self.location:
            phrase = f"{phrase} based in {self.location}" if phrase else f"based in {self.location}"
        return phrase


# --------------------------------------------------------------------------- personalize


def _bridge(ctx: _Facts, band: str, existing: str, *, after_news: bool = False) -> str:
    """One sentence tying the email to the prospect; empty when there is nothing new to say.

    After a news line ("I saw that Brightwave opened ..."), the company has just been named, so the
    bridge only ties in the role: repeating the company with its size and city reads like a CRM card.
    """
    lower = existing.lower()
    new_facts = [
        value for value in (ctx.title, ctx.company, ctx.industry, ctx.size, ctx.location)
        if value and value.lower() not in lower
    ]
    if not new_facts:
        return ""
    if after_news and ctx.title:
        return _role_bridge(ctx, band)
    descriptor = ctx.descriptor()
    at_company = ""
    if ctx.company:
        at_company = f" at {ctx.company}" + (f", {descriptor}," if descriptor else "")
    elif descriptor.startswith(("a ", "an ")):
        at_company = f" at {descriptor}"
    if ctx.title:
        who = {"formal": f"to you as {ctx.title}{at_company}",
               "neutral": f"to you as {ctx.title}{at_company}",
               "casual": f"since you're {ctx.title}{at_company}"}[band]
    elif ctx.company:
        who = {"formal": f"to you{at_company}", "neutral": f"to you{at_company}",
               "casual": f"since you're{at_company}"}[band]
    elif ctx.industry:
        return {
            "formal": f"I am writing because this may be relevant to teams in "
                      f"{_industry_phrase(ctx.industry)}.",
            "neutral": f"I'm reaching out because this seemed relevant to teams in "
                       f"{_industry_phrase(ctx.industry)}.",
            "casual": f"Reaching out since this seemed right up the alley of teams in "
                      f"{_industry_phrase(ctx.industry)}.",
        }[band]
    else:
        return ""
    if band == "formal":
        return f"I am writing {who} since I believe this may be relevant to your team."
    if band == "neutral":
        return f"I'm reaching out {who} since this seemed relevant to your team."
    return f"Reaching out {who.rstrip(',')}, as this seemed right up your alley."


def _role_bridge(ctx: _Facts, band: str) -> str:
    """'I'm reaching out to you as VP Operations, since this seemed relevant to logistics teams
    like yours.' The industry keeps the company tie without repeating the name just said."""
    teams = f"{_industry_phrase(ctx.industry)} teams like yours" if ctx.industry else "your team"
    return {
        "formal": f"I am writing to you as {ctx.title}, since I believe this may be relevant to {teams}.",
        "neutral": f"I'm reaching out to you as {ctx.title}, since this seemed relevant to {teams}.",
        "casual": f"Reaching out since you're {ctx.title}, as this seemed right up the alley of {teams}.",
    }[band]


def _news_sentence(ctx: _Facts, band: str, existing: str) -> str:
    if not ctx.news or ctx.news_raw.lower() in existing.lower():
        return ""
    subject = ctx.company or "you"
    return {
        "formal": f"I noticed that {subject} {ctx.news}.",
        "neutral": f"I saw that {subject} {ctx.news}.",
        "casual": f"Saw that {subject} {ctx.news}!",
    }[band]


def _greeting_name(greeting: str) -> str:
    """The name in an existing greeting ('Hi Dana,' -> 'Dana'; 'Hi there,' -> '')."""
    name = re.sub(r"^\s*(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening))"
                  r"\b", "", greeting, flags=re.IGNORECASE)
    name = name.strip().rstrip(",!:.").strip()
    return "" if name.lower() in {"", "there", "all", "team", "everyone", "folks"} else name


def _with_greeting(parts: EmailParts, greeting: str) -> EmailParts:
    if parts.greeting:
        return parts.with_(greeting=greeting)
    return parts.with_(greeting=greeting, after_greeting="\n\n")


def _with_sign_off(parts: EmailParts, ctx: _Facts, sign_off: str | None) -> EmailParts:
    """Set the sign-off word (None keeps the rep's); add one with the sender's name if missing."""
    if parts.sign_off:
        parts = parts.with_(sign_off=sign_off or parts.sign_off)
        if not parts.signature.strip() and ctx.sender_name:
            parts = parts.with_(signature="\n" + (ctx.signature or ctx.sender_name))
        return parts
    closing_name = ctx.signature or ctx.sender_name
    if not closing_name:
        return parts
    word = sign_off or "Best,"
    middle = parts.middle
    # The rep may have ended with their name but no sign-off: put the sign-off above it.
    last_line = middle.rsplit("\n", 1)[-1].strip()
    if ctx.sender_name and last_line and last_line in {
        ctx.sender_name, ctx.sender_name.split(" ")[0]
    }:
        head = middle[: len(middle) - len(middle.rsplit("\n", 1)[-1])].rstrip("\n")
        return parts.with_(middle=head, before_closing="\n\n", sign_off=word,
                           signature="\n" + last_line)
    return parts.with_(before_closing="\n\n", sign_off=word, signature="\n" + closing_name)


def _prepend_paragraph(middle: str, paragraph: str) -> str:
    if not paragraph:
        return middle
    return f"{paragraph}\n\n{middle}" if middle.strip() else paragraph


def _append_paragraph(middle: str, paragraph: str) -> str:
    if not paragraph:
        return middle
    return f"{middle.rstrip()}\n\n{paragraph}" if middle.strip() else paragraph


def _cta(ctx: _Facts, band: str) -> str:
    target = ctx.company or "your team"
    return {
        "formal": f"Would you be available for a brief call to discuss whether this is relevant "
                  f"to {target}?",
        "neutral": f"Would you be open to a short call to see if this fits {target}?",
        "casual": f"Worth a quick chat to see if this fits {target}?",
    }[band]


def _question(ctx: _Facts, band: str) -> str:
    target = ctx.company or "your team"
    return {
        "formal": f"How is {target} currently approaching this?",
        "neutral": f"How is {target} handling this today?",
        "casual": f"How's {target} handling this today?",
    }[band]


def _tone_middle(middle: str, band: str) -> str:
    if band == "formal":
        return calm_exclamations(expand(strip_emoticons(middle)))
    if band == "casual":
        return contract(middle)
    return middle


def _subject(request: EngineRequest, values: dict[str, str], ctx: _Facts, gaps: _Gaps) -> str | None:
    subject = _fill_whole(request.draft.subject, values, gaps).strip()
    if subject:
        return subject
    if ctx.company and ctx.sender_company:
        return f"{ctx.company} and {ctx.sender_company}"
    if ctx.company:
        return f"A question for {ctx.company}"
    return None


#: Name fields: the template repairs keep their sentences whole ("Hi there,", "Thanks.").
_NAME_FIELDS = frozenset({"first_name", "last_name", "full_name"})
_KEPT = "\x01{}\x01"
_KEPT_RE = re.compile(r"\x01(\d+)\x01")


class _Gaps:
    """The template fields with no value met while filling one draft, for the notes."""

    def __init__(self) -> None:
        self.stand_ins: dict[str, str] = {}  # field -> what was written instead
        self.unnamed: list[str] = []  # name fields left out ("Hi there,")
        self.kept: list[str] = []  # placeholders left as they are, e.g. "{{erp}}"

    def fields(self) -> tuple[str, ...]:
        kept = [m["key"].strip() for m in map(PLACEHOLDER.fullmatch, self.kept) if m]
        return tuple(dict.fromkeys([*self.unnamed, *self.stand_ins, *kept]))

    def notes(self) -> tuple[str, ...]:
        notes = [
            f"No {field.replace('_', ' ')} for this prospect: the email goes without it (“Hi there,”)."
            for field in self.unnamed
        ]
        notes += [
            f"No {field.replace('_', ' ')} for this prospect: wrote “{text}” instead."
            for field, text in self.stand_ins.items()
        ]
        if self.kept:
            fields = ", ".join(dict.fromkeys(self.kept))
            notes.append(
                f"No usable value for {fields}: left in place for you to fill "
                "(a send refuses it until then)."
            )
        return tuple(notes)


_GREETING_BEFORE = re.compile(r"\s*(?:hi|hello|hey|dear)\s+$", re.IGNORECASE)


def _name_repairs_whole(text: str, match: re.Match[str]) -> bool:
    """Where the template repairs drop a missing name and keep the sentence: a greeting ("Hi
    {{first_name}}," -> "Hi there,"), after a comma ("Thanks, {{first_name}}."), or opening a line
    before a comma ("{{first_name}}, a question ..." -> "A question ..."). Elsewhere ("I told
    {{first_name}} that") dropping it would break the sentence, so the placeholder stays."""
    line_before = text[: match.start()].rsplit("\n", 1)[-1]
    after = text[match.end() :]
    return bool(
        _GREETING_BEFORE.fullmatch(line_before)
        or line_before.rstrip().endswith(",")
        or (not line_before.strip() and after.lstrip(" ").startswith(","))
    )


def _fill_whole(text: str, values: dict[str, str], gaps: _Gaps) -> str:
    """`fill`, except that a field with no value and no stand-in keeps its `{{placeholder}}`.

    Dropping it ("without replacing {{erp}}." -> "without replacing.") breaks the sentence; a
    stand-in ("your area") keeps it whole but is recorded, and so is every kept placeholder.
    """
    if "{" not in text:
        return text
    kept: list[str] = []

    def protect(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        if match["default"]:
            return placeholder  # the rep's own fallback ("{{first_name | there}}")
        canonical, value = _lookup(match["key"], values)
        if value:
            return placeholder
        stand_in = fill(placeholder, {})
        if stand_in:
            gaps.stand_ins.setdefault(canonical, stand_in[0].lower() + stand_in[1:])
            return placeholder
        if canonical in _NAME_FIELDS and _name_repairs_whole(text, match):
            if canonical not in gaps.unnamed:
                gaps.unnamed.append(canonical)
            return placeholder
        kept.append(placeholder)
        gaps.kept.append(placeholder)
        return _KEPT.format(len(kept) - 1)

    filled = fill(PLACEHOLDER.sub(protect, text), values)
    return _KEPT_RE.sub(lambda m: kept[int(m.group(1))], filled) if kept else filled


def personalize(request: EngineRequest) -> EngineOutput:
    ctx = _Facts(request)
    band = tone_label(request.tone)
    values = field_values(request)
    gaps = _Gaps()
    body = _fill_whole(request.draft.body, values, gaps)
    if ctx.company and ctx.news != ctx.news_raw:
        # A template's "{{company}} {{recent_initiative}}" with "moving ..." needs its "is".
        body = body.replace(f"{ctx.company} {ctx.news_raw}", f"{ctx.company} {ctx.news}")
    parts = split_email(body)
    existing = body
    follow_up = request.draft.subject.lower().startswith(("re:", "fwd:")) or bool(
        _FOLLOW_UP.match(parts.middle.strip())
    )
    if not parts.middle.strip():
        # An empty draft: write a short one from the sender's profile alone.
        middle = ctx.value_proposition.rstrip(".") + "." if ctx.value_proposition else ""
        middle = _append_paragraph(middle, _cta(ctx, band))
        parts = parts.with_(middle=middle)
    name = ctx.first_name
    if band == "neutral" and parts.greeting and ctx.first_name and (
        _greeting_name(parts.greeting).lower() == ctx.first_name.lower()
    ):
        greeting = parts.greeting  # the rep's own greeting already fits
    else:
        greeting = greeting_for(band, name)
    parts = _with_greeting(parts, greeting)
    # A follow-up does not introduce the rep again; news is still worth a line.
    news = _news_sentence(ctx, band, existing)
    bridge = "" if follow_up else _bridge(ctx, band, existing, after_news=bool(news))
    opener = " ".join(s for s in (news, bridge) if s)
    middle = _tone_middle(parts.middle, band)
    parts = parts.with_(middle=_prepend_paragraph(middle, opener))
    parts = _with_sign_off(parts, ctx, None if band == "neutral" else sign_off_for(band))
    subject = _subject(request, values, ctx, gaps)
    return EngineOutput(
        subject=subject,
        body=tidy(parts.join()).strip(),
        notes=gaps.notes(),
        unfilled_fields=gaps.fields(),
    )


# ------------------------------------------------------------------------------- rewrite


def _sentence_value(sentence: str, index: int, ctx: _Facts) -> float:
    value = -word_count(sentence) / 40
    if "?" in sentence:
        value += 5
    if find_facts(sentence):
        value += 2
    lowered = sentence.lower()
    if any(v and v.lower() in lowered for v in (ctx.first_name, ctx.company, ctx.title)):
        value += 1.5
    if index == 0:
        value += 1.5
    if _INTRODUCTION.match(sentence):
        value -= 3  # "I'm reaching out to you as ..." says least once the rest is there
    value -= len(find_jargon(sentence))
    return value


def _shorten(middle: str, ctx: _Facts) -> str:
    before = word_count(middle)
    blocks = paragraphs(middle)
    kept_blocks: list[list[str]] = []
    for block in blocks:
        kept = []
        for sentence in sentences(block):
            if _PLEASANTRY.match(sentence):
                continue
            for pattern, replacement in _FILLERS:
                sentence = re.sub(pattern, replacement, sentence)
            sentence = sentence.strip()
            kept.append(sentence[0].upper() + sentence[1:] if sentence else sentence)
        kept_blocks.append(kept)
    flat = [(b, i) for b, block in enumerate(kept_blocks) for i in range(len(block))]
    total = sum(word_count(s) for block in kept_blocks for s in block)
    if total > 0.8 * before and len(flat) >= 3:
        ranked = sorted(
            flat,
            key=lambda pos: _sentence_value(kept_blocks[pos[0]][pos[1]], flat.index(pos), ctx),
        )
        dropped: set[tuple[int, int]] = set()
        for position in ranked:
            if total <= 0.7 * before or len(flat) - len(dropped) <= 2:
                break
            sentence = kept_blocks[position[0]][position[1]]
            if "?" in sentence and not any(
                "?" in kept_blocks[b][i] for b, i in flat if (b, i) not in dropped | {position}
            ):
                continue  # never drop the only question: it is the ask
            dropped.add(position)
            total -= word_count(sentence)
        kept_blocks = [
            [s for i, s in enumerate(block) if (b, i) not in dropped]
            for b, block in enumerate(kept_blocks)
        ]
    rebuilt = []
    for original, kept in zip(blocks, kept_blocks, strict=True):
        if kept == sentences(original):
            rebuilt.append(original.strip("\n"))
        elif kept:
            rebuilt.append(" ".join(kept))
    return "\n\n".join(rebuilt)


def _lengthen(middle: str, ctx: _Facts, band: str) -> str:
    lower = middle.lower()
    bridge = _bridge(ctx, band, middle)
    additions = []
    if ctx.value_proposition and ctx.value_proposition.lower().rstrip(".") not in lower:
        additions.append(ctx.value_proposition.rstrip(".") + ".")
    words = set(re.findall(r"[a-z0-9%$]+", lower))
    fresh = [
        point for point in ctx.proof_points
        if len(set(re.findall(r"[a-z0-9%$]+", point.lower())) - words)
        > 0.5 * len(set(re.findall(r"[a-z0-9%$]+", point.lower())))
    ]
    if fresh:
        point = fresh[0].rstrip(".")
        first = point.split(" ")[0]
        if first.isalpha() and not first.isupper() and is_common_word(first.lower()):
            point = point[0].lower() + point[1:]
        lead = {"formal": "For reference", "neutral": "One result worth sharing",
                "casual": "One result I'm proud of"}[band]
        additions.append(f"{lead}: {point}.")
    if not additions and not bridge:
        additions.append({"formal": "I would be glad to share more detail if it would help.",
                          "neutral": "Happy to share more detail if it would help.",
                          "casual": "Happy to share more detail if that helps."}[band])
    middle = _prepend_paragraph(middle, bridge)
    block = " ".join(additions)
    if not block:
        return middle
    blocks = paragraphs(middle)
    if blocks and "?" in blocks[-1] and len(blocks) > 1:
        # Keep the ask last: the new detail goes just above it.
        return "\n\n".join([*blocks[:-1], block, blocks[-1]])
    return _append_paragraph(middle, block)


def rewrite(request: EngineRequest) -> EngineOutput:
    instruction = (request.instruction or "").strip()
    intents = parse_instruction(instruction)
    if not intents:
        raise AIError(
            "unsupported_instruction",
            f"The offline engine can't follow {instruction!r}. It understands: {SUPPORTED_HELP}. "
            "Configure an OpenAI-compatible engine (LUMINA_AI_BASE_URL or LUMINA_AI_API_KEY) for "
            "free-form instructions.",
            engine="offline",
        )
    ctx = _Facts(request)
    body = request.draft.body
    parts = split_email(body)
    band = ("formal" if "formal" in intents else "casual"
            if {"casual", "friendly"} & set(intents) else tone_label(measure_tone(body)))
    name = _greeting_name(parts.greeting) or ctx.first_name
    for intent in intents:
        parts = _apply_intent(intent, parts, ctx, band, name)
    result = tidy(parts.join()).strip()
    if "shorter" in intents and word_count(result) >= word_count(body):
        raise AIError(
            "unsupported_instruction",
            "This draft is already as short as the offline engine can make it without losing "
            "the ask.",
            engine="offline",
        )
    not_applied = tuple(unapplied_parts(instruction))
    notes: tuple[str, ...] = ()
    if not_applied:
        quoted = ", ".join(f"“{part}”" for part in not_applied)
        notes = (f"Not done: {quoted}. The offline engine follows only: {SUPPORTED_HELP}.",)
    return EngineOutput(subject=None, body=result, notes=notes, not_applied=not_applied)


def _apply_intent(
    intent: Intent, parts: EmailParts, ctx: _Facts, band: str, name: str
) -> EmailParts:
    middle = parts.middle
    if intent == "plain":
        return parts.with_(middle=replace_jargon(middle))
    if intent == "shorter":
        return parts.with_(middle=_shorten(middle, ctx))
    if intent == "longer":
        return parts.with_(middle=_lengthen(middle, ctx, band))
    if intent == "question":
        if "?" in middle:
            return parts
        return parts.with_(middle=_append_paragraph(middle, _question(ctx, band)))
    if intent == "cta":
        questions = [s for s in sentences(middle) if s.endswith("?")]
        if questions and _ASK.search(questions[-1]):
            return parts
        return parts.with_(middle=_append_paragraph(middle, _cta(ctx, band)))
    if intent == "formal":
        parts = _with_greeting(parts, greeting_for("formal", name))
        middle = calm_exclamations(to_formal_words(expand(strip_emoticons(parts.middle))))
        return _with_sign_off(parts.with_(middle=middle), ctx, sign_off_for("formal"))
    if intent == "casual":
        parts = _with_greeting(parts, greeting_for("casual", name))
        middle = contract(to_casual_words(parts.middle))
        return _with_sign_off(parts.with_(middle=middle), ctx, sign_off_for("casual"))
    # friendly: a warm opener, contractions, and a warmer greeting and sign-off.
    parts = _with_greeting(parts, f"Hi {name}!" if name else "Hi there!")
    middle = contract(to_casual_words(parts.middle))
    if not _WARM_OPENER.search(middle):
        middle = _prepend_paragraph(middle, "Hope your week is going well.")
    return _with_sign_off(parts.with_(middle=middle), ctx, "Thanks so much,")


class OfflineEngine:
    """Deterministic, local, instant; the default engine."""

    name = "offline"
    model = OFFLINE_MODEL

    def generate(self, request: EngineRequest) -> EngineOutput:
        if request.operation == "personalize":
            return personalize(request)
        return rewrite(request)
