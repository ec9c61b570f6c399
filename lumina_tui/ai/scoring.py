"""Pre-send score: spam risk, reply probability, the signals behind them and what to do about each.

Spam risk adds up points for content rules modelled on SpamAssassin's (all-caps subject, money and
urgency phrases, "Dear Friend", URL shorteners, links to bare IP addresses, a high share of capital
letters, HTML-only or image-only bodies, text and HTML parts that disagree, a missing subject,
many links) and maps the total to 0..1 with 1 - exp(-points / 5): one weak rule stays low,
a handful of typical ones land mid-scale, an extreme message approaches 1.

Reply probability starts from a typical cold-email reply rate (8%) and multiplies factors taken from
published cold-email studies: 50-125 words replies best, emails written at a 3rd-5th grade reading
level get more replies than college-level ones, one to three questions beat none, and messages that
mention something specific to the recipient do better than generic ones. It is a heuristic until
Lumina can calibrate it on the workspace's own outcomes, and the advice says so.

Every signal comes with a sentence a rep can act on. Pure and fast: no I/O, no model.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .facts import find_links_and_money, normalize_url
from .jargon import find_jargon
from .lazy_regex import lazy_regex
from .mime_reader import html_to_text, parse_message
from .readability import flesch_kincaid_grade
from .score_models import Advice, AdviceLevel, Score, ScoreSignals, SpamRuleHit
from .signals import banned_phrases_in, company_fields_used, prospect_fields_used

if TYPE_CHECKING:  # pydantic models: `ai score --file` imports no pydantic (score_models.py)
    from .models import CompanyInput, ProspectInput, SenderProfile

BASE_REPLY_RATE = 0.08
HEURISTIC_NOTE = (
    "Reply probability is a heuristic based on published cold-email studies (length, reading "
    "grade, one clear question, personalization); Lumina will calibrate it on your workspace's "
    "own replies once there are enough of them."
)

SHORTENERS = {
    "bit.ly", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "buff.ly", "rebrand.ly",
    "cutt.ly", "shorturl.at", "rb.gy", "tiny.cc", "t.ly", "bl.ink", "lnkd.in", "shorte.st",
}

# (phrase regex, points, label). Points follow SpamAssassin's scale: ~0.3 weak, ~1 typical,
# 2+ strong. Labels are what the rep sees in spam_keywords.
# (phrase regex, points, label, cheap lowercase substrings of which one must be present before
# the regex runs: forty case-insensitive scans of every draft would blow the 5 ms budget).
_PHRASES: list[tuple[str, float, str, tuple[str, ...]]] = [
    # generic salutations (SpamAssassin DEAR_FRIEND and friends)
    (r"\bdear (?:friend|winner|customer|valued customer|business owner|sir(?:/| or )madam|"
     r"sir|madam|beneficiary)\b", 1.6, "generic salutation",
     ("dear",)),
    (r"\b(?:hi|hello) friend\b", 1.2, "generic salutation",
     ("friend",)),
    (r"\bto whom it may concern\b", 1.0, "generic salutation",
     ("whom",)),
    # money
    (r"\bmake money\b|\bmaking money\b|\bearn \$|\bextra income\b|\bincome from home\b", 1.8, "make money",
     ("money", "earn $", "income")),
    (r"\bwork(?:ing)? from home\b", 1.0, "work from home",
     ("from home",)),
    (r"\$\$+", 1.5, "$$$",
     ("$$",)),
    (r"\bfast cash\b|\bfree money\b|\bcash bonus\b|\bpure profit\b", 1.8, "cash",
     ("cash", "money", "profit")),
    (r"\b(?:lottery|inheritance|beneficiary|next of kin)\b", 2.5, "lottery/inheritance",
     ("lottery", "inheritance", "beneficiary", "next of kin")),
    (r"\bwire transfer\b|\bbank (?:account )?details\b|\bbank account\b", 1.8, "bank details",
     ("wire", "bank")),
    (r"\b(?:you(?:'ve| have)? won|you are a winner|claim your (?:prize|reward|gift))\b", 2.0, "you have won",
     ("won", "winner", "claim your")),
    (r"\bprize\b|\bgift card\b|\bwinner\b", 0.8, "prize",
     ("prize", "gift card", "winner")),
    (r"\bdouble your\b|\btriple your\b|\b\d{3,}% returns?\b|\breturns?\b.{0,20}\bprofits?\b",
     1.2, "double your money",
     ("double", "triple", "return")),
    (r"\b(?:crypto|bitcoin|forex|trading bot)\b", 1.2, "crypto",
     ("crypto", "bitcoin", "forex", "trading bot")),
    (r"\blowest prices?\b|\bbest prices?\b|\bcheap\b", 0.9, "lowest price",
     ("price", "cheap")),
    (r"\b\d{1,2}% off\b|\bsave big\b|\bspecial (?:offer|promotion|deal)\b|\bexclusive (?:deal|"
     r"offer)\b", 1.0, "special offer",
     ("% off", "save big", "special", "exclusive")),
    (r"\bdiscount\b", 0.3, "discount",
     ("discount",)),
    (r"\bmoney back\b|\bmoney-back\b", 1.0, "money back",
     ("money",)),
    (r"\bno credit card\b|\bno experience (?:needed|required)\b|\bno prescription\b", 1.2,
     "no experience needed",
     ("no credit", "no experience", "no prescription")),
    (r"\b(?:meds|viagra|pharmacy|weight loss)\b", 2.5, "pharmacy",
     ("meds", "viagra", "pharmacy", "weight loss")),
    # urgency
    (r"\bact (?:now|immediately|fast)\b", 1.4, "act now",
     ("act ",)),
    (r"\burgent(?:ly)?\b", 1.0, "urgent",
     ("urgent",)),
    (r"\bimmediately\b|\bwithin 24 hours\b|\bfinal notice\b", 0.8, "immediately",
     ("immediately", "24 hours", "final notice")),
    (r"\blimited time\b|\btoday only\b|\bthis week only\b|\boffer (?:ends|expires)\b|"
     r"\bexpires?\b|\bwon'?t last\b|\bvalid for \d+ hours\b", 1.0, "limited time",
     ("limited", "only", "offer", "expire", "last", "valid for")),
    (r"\bdon'?t (?:miss|wait)\b|\blast chance\b|\bhurry\b|\bbefore it'?s too late\b|"
     r"\bonce in a lifetime\b|\bwhile supplies last\b|\bonly \d+ \w+ left\b", 1.2, "don't miss",
     ("miss", "wait", "last chance", "hurry", "too late", "lifetime", "supplies", "left")),
    (r"\basap\b", 0.5, "ASAP",
     ("asap",)),
    # pushy calls to action
    (r"\bclick (?:here|below|the link|now)\b", 1.3, "click here",
     ("click",)),
    (r"\b(?:buy|order|sign up|call|apply|reply|join) (?:now|today)\b", 1.0, "buy now",
     (" now", " today")),
    (r"\bclaim your\b", 1.0, "claim your",
     ("claim your",)),
    # hype and claims
    (r"\b100% (?:free|guaranteed|satisfaction|legitimate|legit)\b|\b100%\s*free\b", 1.5, "100% free",
     ("100%",)),
    (r"\bguarantee(?:d|s)?\b", 0.6, "guaranteed",
     ("guarantee",)),
    (r"\brisk[- ]free\b|\bno risk\b|\bno obligation\b|\bno strings attached\b", 1.0, "risk-free",
     ("risk", "obligation", "strings")),
    (r"\bamazing\b|\bincredible\b|\bunbelievable\b|\bmiracle\b|\byou won'?t believe\b", 0.7, "amazing",
     ("amazing", "incredible", "unbelievable", "miracle", "believe")),
    (r"#1\b|\bnumber one\b|\bbest[- ]in[- ]class\b|\bworld[- ]class\b|\bleading provider\b",
     0.7, "#1",
     ("#1", "number one", "class", "leading provider")),
    (r"\bthis is not spam\b|\bnot a scam\b", 2.5, "this is not spam",
     ("spam", "scam")),
    (r"\byou have been selected\b|\bcongratulations!", 1.5, "you have been selected",
     ("selected", "congratulations")),
    (r"\bfree (?:trial|consultation|audit|demo|shipping|gift|access|quote)\b", 0.7, "free offer",
     ("free ",)),
    (r"\bthousands of (?:people|companies|customers|happy)\b|\bproven (?:solution|system)\b",
     0.6, "thousands of customers",
     ("thousands of", "proven")),
    (r"\bverify (?:your|it)\b|\bwill be (?:removed|suspended|closed)\b", 1.3, "verify your account",
     ("verify", "will be")),
    (r"\bkindly revert\b|\besteemed\b", 1.0, "kindly revert",
     ("revert", "esteemed")),
    (r"\btrick\b|\bsecret\b", 0.5, "trick",
     ("trick", "secret")),
    (r"\bincrease (?:your )?(?:sales|revenue|traffic)\b|\bboost (?:your )?revenue\b", 0.6, "increase sales",
     ("increase", "boost")),
]
_PHRASE_PATTERNS = [
    (lazy_regex(pattern, re.IGNORECASE), points, label, triggers)
    for pattern, points, label, triggers in _PHRASES
]
_FREE = lazy_regex(r"\bfree\b(?!\s+(?:up|time|to|of|from|-))", re.IGNORECASE)
_KNOWN_CAPS = {
    "CRM", "ROI", "API", "KPI", "SAAS", "B2B", "SDR", "SDRS", "BDR", "CEO", "CFO", "CTO", "VP",
    "AWS", "SEO", "HR", "IT", "AI", "SLA", "PDF", "USA", "UK", "EU", "US", "SMB", "ERP", "OKR",
    "FAQ", "ETA", "PS", "ET", "PT", "AM", "PM", "HVAC", "CSV", "SOC", "QA", "UX", "UI",
}
_YOU = lazy_regex(r"\b(?:you|your|yours|yourself|you're|you've|you'll|you'd)\b", re.IGNORECASE)
_ME = lazy_regex(
    r"\b(?:i|i'm|i've|i'll|i'd|me|my|mine|we|we're|we've|we'll|we'd|our|ours|us)\b",
    re.IGNORECASE,
)
_QUESTION = lazy_regex(r"\?+")  # one per question, "??" counts once
_WORDS = lazy_regex(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_SHOUTED = lazy_regex(r"\b[A-Z]{3,}\b")
_NOT_LETTER = lazy_regex(r"[^A-Za-z]+")
_NOT_UPPER = lazy_regex(r"[^A-Z]+")
_RAW_IP = lazy_regex(r"\bhttps?://\d{1,3}(?:\.\d{1,3}){3}")


@dataclass
class _Content:
    """What the rules look at, whether it came from a draft or a parsed message."""

    subject: str
    has_subject: bool
    text: str
    links: list[str]
    html_only: bool = False
    image_only: bool = False
    parts_mismatch: bool = False


def _links(text: str) -> list[str]:
    return [fact.text for fact in find_links_and_money(text) if fact.kind == "url"]


def _readable(text: str) -> str:
    """End every line with punctuation so greetings and sign-offs don't merge into one sentence."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line if line[-1] in ".!?:" else line + "." for line in lines)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade via textstat (0 for an empty text)."""
    prepared = _readable(text)
    if not _WORDS.search(prepared):
        return 0.0
    return round(max(0.0, float(flesch_kincaid_grade(prepared))), 1)


def _spam_rules(content: _Content, signals: ScoreSignals) -> tuple[list[SpamRuleHit], list[str]]:
    hits: list[SpamRuleHit] = []
    keywords: list[str] = []
    text, subject = content.text, content.subject

    def hit(rule: str, points: float, description: str) -> None:
        hits.append(SpamRuleHit(rule=rule, points=round(points, 2), description=description))

    if not content.has_subject or not subject.strip():
        hit("MISSING_SUBJECT", 1.8, "The message has no subject.")
    letters = [c for c in subject if c.isalpha()]
    if len(letters) >= 6 and all(c.isupper() for c in letters):
        hit("SUBJ_ALL_CAPS", 1.6, "The subject is written in capitals.")
    if "!" in subject:
        hit("SUBJ_EXCLAIM", 0.5 + (0.5 if "!!" in subject else 0), "The subject shouts (!).")
    if "$" in subject:
        hit("SUBJ_MONEY", 1.0, "The subject mentions money.")
    combined = f"{subject}\n{text}"
    lowered = combined.lower()
    phrase_points = 0.0
    for pattern, points, label, triggers in _PHRASE_PATTERNS:
        if not any(trigger in lowered for trigger in triggers):
            continue
        matches = pattern.findall(combined)
        if not matches:
            continue
        in_subject = bool(pattern.search(subject))
        gained = points * min(2, len(matches)) * (1.3 if in_subject else 1.0)
        phrase_points += gained
        if label not in keywords:
            keywords.append(label)
    free = [m for m in _FREE.findall(combined)]
    if free:
        phrase_points += 0.4 * min(3, len(free)) + (0.8 if any(m.isupper() for m in free) else 0)
        if "free" not in keywords:
            keywords.append("free")
    if phrase_points:
        hit("SPAM_PHRASES", phrase_points, "Phrases spam filters associate with junk mail: "
            + ", ".join(keywords) + ".")
    if signals.uppercase_ratio > 0.3:
        hit("UPPERCASE_BODY", min(3.0, 1.5 + 5 * (signals.uppercase_ratio - 0.3)),
            f"{round(signals.uppercase_ratio * 100)}% of the letters are capitals.")
    shouted = [w for w in _SHOUTED.findall(text) if w not in _KNOWN_CAPS]
    if len(shouted) >= 3 and signals.uppercase_ratio <= 0.3:
        hit("CAPS_WORDS", min(1.5, 0.25 * len(shouted)), f"{len(shouted)} words in capitals.")
    if signals.exclamation_count >= 3 or "!!" in text:
        hit("EXCESS_EXCLAIM", min(2.0, 0.3 * signals.exclamation_count + 0.4),
            f"{signals.exclamation_count} exclamation marks.")
    if signals.url_shorteners:
        hit("URL_SHORTENER", min(3.0, 1.5 * len(signals.url_shorteners)),
            "Links through a URL shortener: " + ", ".join(signals.url_shorteners) + ".")
    if any(_RAW_IP.match(link) for link in content.links):
        hit("RAW_IP_URL", 2.0, "A link points at a bare IP address.")
    if signals.link_count > 3:
        hit("MANY_LINKS", 0.8 if signals.link_count <= 5 else 1.5,
            f"{signals.link_count} links.")
    money = [fact for part in (subject, text) for fact in find_links_and_money(part)
             if fact.kind == "money"]
    if len(money) >= 2:
        hit("MONEY_AMOUNTS", min(1.2, 0.4 * len(money)), f"{len(money)} money amounts.")
    if content.html_only:
        hit("MIME_HTML_ONLY", 1.1, "HTML only, with no plain-text part.")
    if content.image_only:
        hit("IMAGE_ONLY", 2.5, "The visible content is an image with almost no text.")
    if content.parts_mismatch:
        hit("MPART_ALT_DIFF", 2.2, "The plain-text and HTML parts say different things.")
    return hits, keywords


def _reply_probability(signals: ScoreSignals, spam_risk: float) -> float:
    words = signals.body_length
    value = BASE_REPLY_RATE
    if 50 <= words <= 125:
        value *= 1.4
    elif 25 <= words < 50:
        value *= 1.1
    elif 125 < words <= 200:
        value *= 1.0
    elif 200 < words <= 300:
        value *= 0.8
    elif words > 300:
        value *= 0.6
    else:
        value *= 0.8
    grade = signals.reading_grade
    value *= 1.3 if grade <= 5 else 1.15 if grade <= 8 else 1.0 if grade <= 11 else (
        0.85 if grade <= 14 else 0.7
    )
    questions = signals.question_count
    value *= 1.4 if 1 <= questions <= 3 else 0.85 if questions == 0 else 1.0
    value *= {0: 0.75, 1: 1.0, 2: 1.15}.get(signals.personalization, 1.3)
    if signals.missing_subject:
        value *= 0.6
    elif signals.all_caps_subject:
        value *= 0.7
    elif 2 <= signals.subject_words <= 7:
        value *= 1.05
    value *= 1.1 if signals.you_vs_i_ratio >= 1 else 0.9 if signals.you_vs_i_ratio < 0.5 else 1
    value *= 1.0 if signals.link_count <= 1 else 0.9 if signals.link_count <= 3 else 0.75
    value *= 1.0 - 0.8 * spam_risk
    return round(max(0.01, min(0.6, value)), 3)


def _advice(signals: ScoreSignals, spam_risk: float, hits: list[SpamRuleHit]) -> list[Advice]:
    advice: list[Advice] = []

    def say(signal: str, message: str, level: AdviceLevel = "fix") -> None:
        advice.append(Advice(signal=signal, message=message, level=level))

    words = signals.body_length
    if 50 <= words <= 125:
        say("body_length", f"{words} words: in the 50-125 range that gets the most replies.", "good")
    elif words < 50:
        say("body_length", f"{words} words: short; one more line on why this matters to them "
            "would land it in the 50-125 range that gets the most replies.")
    else:
        say("body_length", f"{words} words: long for a cold email; cut toward 50-125 words, "
            "the range that gets the most replies.")
    if signals.missing_subject:
        say("subject_length", "No subject: filters penalise it and readers skip it; add a short, "
            "specific one (3-7 words).")
    elif signals.all_caps_subject:
        say("subject_length", "The subject is in capitals, which reads as shouting and trips "
            "spam filters; write it in sentence case.")
    elif 2 <= signals.subject_words <= 7:
        say("subject_length", f"Subject is {signals.subject_words} words "
            f"({signals.subject_length} characters): short and specific, as it should be.", "good")
    else:
        say("subject_length", f"Subject is {signals.subject_words} words: aim for 3-7 words that "
            "say what the email is about.")
    grade = signals.reading_grade
    if grade <= 8:
        say("reading_grade", f"Reads at grade {grade:g}: plain and easy to answer; emails at a "
            "3rd-5th grade level get the most replies.", "good")
    else:
        say("reading_grade", f"Reads at grade {grade:g}: shorten sentences and swap long words; "
            "simpler emails (grade 3-8) get more replies.")
    questions = signals.question_count
    if questions == 0:
        say("question_count", "No question: end with one clear question so replying takes "
            "one line.")
    elif questions == 1:
        say("question_count", "One clear question: good, they know exactly what to answer.", "good")
    elif questions <= 3:
        say("question_count", f"{questions} questions: fine, but make sure the last one is the "
            "ask you care about.", "good")
    else:
        say("question_count", f"{questions} questions: too many asks; keep the one that matters.")
    you, me = signals.you_count, signals.i_we_count
    if signals.you_vs_i_ratio >= 1:
        say("you_vs_i_ratio", f"'You/your' {you} times, 'I/we' {me}: the email is about them.", "good")
    else:
        say("you_vs_i_ratio", f"'I/we' {me} times, 'you/your' {you}: turn a sentence around to "
            "their situation.")
    if signals.personalization == 0:
        say("personalization", "Nothing in it is specific to this prospect: mention their "
            "company, role or something they did recently.")
    else:
        fields = ", ".join(
            f.split(".")[-1].replace("_", " ") for f in signals.personalization_fields
        )
        say("personalization", f"Mentions {signals.personalization} thing(s) specific to them "
            f"({fields}): personalised emails get more replies.", "good")
    links = signals.link_count
    if links == 0:
        say("link_count", "No links: good for a first touch; links raise spam scores.", "good")
    elif links == 1:
        say("link_count", "One link: fine; more than one starts to look like a newsletter.", "good")
    else:
        say("link_count", f"{links} links: keep at most one in a cold email; filters count them.")
    if signals.spam_keywords:
        say("spam_keywords", "Spam-filter phrases found (" + ", ".join(signals.spam_keywords)
            + "): rephrase them in plain words.")
    else:
        say("spam_keywords", "No spam-trigger phrases found.", "good")
    if signals.url_shorteners:
        say("url_shorteners", "Link shorteners (" + ", ".join(signals.url_shorteners) + ") are a "
            "strong spam signal; link to the full address on your own domain.")
    if signals.uppercase_ratio > 0.3:
        say("uppercase_ratio", f"{round(signals.uppercase_ratio * 100)}% capitals: write in "
            "normal case; shouting trips filters.")
    if signals.exclamation_count >= 3:
        say("exclamation_count", f"{signals.exclamation_count} exclamation marks: keep one at "
            "most.")
    if signals.html_only:
        say("html_only", "HTML only: add a plain-text part; filters distrust HTML-only mail.")
    if signals.image_only:
        say("image_only", "The content is an image: put the message in text; image-only mail "
            "is filtered and unreadable with images off.")
    if signals.parts_mismatch:
        say("parts_mismatch", "The plain-text and HTML versions differ: send the same message "
            "in both.")
    if signals.banned_phrases:
        say("banned_phrases", "Phrases you asked never to use: "
            + ", ".join(signals.banned_phrases) + ".")
    if signals.jargon:
        say("jargon", "Jargon (" + ", ".join(dict.fromkeys(signals.jargon)) + "): say it "
            "plainly; try the rewrite 'remove jargon'.")
    level = "low" if spam_risk < 0.3 else "moderate" if spam_risk < 0.6 else "high"
    say("spam_risk", f"Spam risk is {level} ({spam_risk:.2f})"
        + (": " + " ".join(h.description for h in hits[:3]) if hits else "."),
        "good" if level == "low" else "fix")
    say("reply_probability", HEURISTIC_NOTE, "info")
    return advice


def _score(
    content: _Content,
    prospect: ProspectInput | None,
    company: CompanyInput | None,
    sender: SenderProfile | None,
) -> Score:
    text = content.text
    words = _WORDS.findall(text)
    letters = len(_NOT_LETTER.sub("", text))
    uppercase_ratio = len(_NOT_UPPER.sub("", text)) / letters if letters >= 40 else 0
    hosts = [normalize_url(link)[0] for link in content.links]
    personal_fields: list[str] = []
    if prospect is not None:
        personal_fields += prospect_fields_used(f"{content.subject}\n{text}", prospect)[0]
    if company is not None:
        for name in company_fields_used(f"{content.subject}\n{text}", company)[0]:
            if name == "name" and "company" in personal_fields:
                continue
            personal_fields.append(f"company.{name}")
    you, me = len(_YOU.findall(text)), len(_ME.findall(text))
    letters_subject = [c for c in content.subject if c.isalpha()]
    signals = ScoreSignals(
        subject_length=len(content.subject),
        subject_words=len(_WORDS.findall(content.subject)),
        body_length=len(words),
        link_count=len(content.links),
        spam_keywords=[],
        reading_grade=reading_grade(text),
        question_count=len(_QUESTION.findall(text)),
        you_vs_i_ratio=round(you / me, 2) if me else float(you),
        you_count=you,
        i_we_count=me,
        personalization=len(personal_fields),
        personalization_fields=personal_fields,
        exclamation_count=text.count("!") + content.subject.count("!"),
        uppercase_ratio=round(uppercase_ratio, 3),
        all_caps_subject=len(letters_subject) >= 6 and all(c.isupper() for c in letters_subject),
        missing_subject=not content.has_subject or not content.subject.strip(),
        url_shorteners=sorted({host for host in hosts if host in SHORTENERS}),
        html_only=content.html_only,
        image_only=content.image_only,
        parts_mismatch=content.parts_mismatch,
        banned_phrases=banned_phrases_in(f"{content.subject}\n{text}", sender.banned_phrases)
        if sender else [],
        jargon=find_jargon(text),
    )
    hits, keywords = _spam_rules(content, signals)
    signals.spam_keywords = keywords
    points = sum(h.points for h in hits)
    spam_risk = round(1.0 - math.exp(-points / 5.0), 3)
    return Score(
        spam_risk=spam_risk,
        reply_probability=_reply_probability(signals, spam_risk),
        signals=signals,
        advice=_advice(signals, spam_risk, hits),
        spam_rules=hits,
    )


def score(
    subject: str | None,
    body: str | None,
    *,
    prospect: ProspectInput | None = None,
    company: CompanyInput | None = None,
    sender: SenderProfile | None = None,
    html: str | None = None,
) -> Score:
    """Score a draft (subject + plain-text body, optionally the HTML it will be sent with)."""
    subject = subject or ""
    text = body or ""
    links = _links(text)
    mismatch = False
    if html:
        html_text, html_links, _ = html_to_text(html)
        links = list(dict.fromkeys([*links, *html_links]))
        mismatch = _parts_differ(text, html_text)
    content = _Content(
        subject=subject, has_subject=bool(subject.strip()), text=text, links=links,
        parts_mismatch=mismatch,
    )
    return _score(content, prospect, company, sender)


def _parts_differ(text: str, html_text: str) -> bool:
    """True when the text and HTML alternatives share less than half their words."""
    a = {w.lower() for w in _WORDS.findall(text)}
    b = {w.lower() for w in _WORDS.findall(html_text)}
    if not a or not b:
        return False
    return len(a & b) / len(a | b) < 0.5


def score_message(
    raw: bytes | str,
    *,
    prospect: ProspectInput | None = None,
    company: CompanyInput | None = None,
    sender: SenderProfile | None = None,
) -> Score:
    """Score a whole RFC 5322 message: headers and MIME structure count, not just the words."""
    parsed = parse_message(raw)
    text_part = parsed.text or ""
    html_words = len(_WORDS.findall(parsed.html_text))
    text = text_part if text_part.strip() else parsed.html_text
    links = list(dict.fromkeys([*_links(text_part), *_links(parsed.html_text), *parsed.html_links]))
    content = _Content(
        subject=parsed.subject,
        has_subject=parsed.has_subject_header and bool(parsed.subject),
        text=text,
        links=links,
        html_only=parsed.html is not None and not text_part.strip(),
        image_only=parsed.images > 0 and html_words < 10 and len(_WORDS.findall(text_part)) < 10,
        parts_mismatch=bool(text_part.strip() and parsed.html_text)
        and _parts_differ(text_part, parsed.html_text),
    )
    return _score(content, prospect, company, sender)
