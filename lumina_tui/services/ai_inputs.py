"""Store rows → the pure AI package's input values, in one place.

The AI service (suggestions) and the send service (the score stored in the email's snapshot) must
hand the AI exactly the same view of a prospect, a company and the sender, or a score at send time
could disagree with the one the rep saw in the composer.
"""

from __future__ import annotations

from lumina_tui.ai.models import CompanyInput, ProspectInput, SenderProfile
from lumina_tui.store.models import CompanyData, Prospect, UserPreferences


def prospect_input(prospect: Prospect | None) -> ProspectInput | None:
    if prospect is None:
        return None
    return ProspectInput(
        id=prospect.id,
        first_name=prospect.first_name,
        last_name=prospect.last_name,
        email=prospect.email,
        company=prospect.company,
        job_title=prospect.job_title,
        custom_fields=prospect.custom_fields or {},
    )


def company_input(company: CompanyData | None) -> CompanyInput | None:
    if company is None:
        return None
    return CompanyInput(
        name=company.name,
        domain=company.domain,
        industry=company.industry,
        size=company.size,
        location=company.location,
        metadata=company.extra or {},
    )


def sender_profile(prefs: UserPreferences | None) -> SenderProfile:
    if prefs is None:
        return SenderProfile()
    return SenderProfile(
        sender_name=prefs.sender_name,
        sender_title=prefs.sender_title,
        company_name=prefs.company_name,
        company_website=prefs.company_website,
        value_proposition=prefs.value_proposition,
        proof_points=prefs.proof_points or [],
        signature=prefs.signature,
        default_tone=prefs.default_tone,
        banned_phrases=prefs.banned_phrases or [],
    )
