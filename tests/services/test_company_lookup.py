"""company_data.for_prospect: by email domain, else by the company's name (website-keyed imports)."""

from lumina_tui.services import company_data, prospects


def test_for_prospect_falls_back_to_the_company_name(db, actor) -> None:
    with db.write() as session:
        company_data.upsert(
            session, actor, "brightwave.example", {"name": "Brightwave Logistics", "industry": "Logistics"}
        )
    same_domain = prospects.create(db, actor, email="ana@brightwave.example", company="Other Name")
    other_domain = prospects.create(db, actor, email="bo@bw-mail.example", company="brightwave logistics")
    stranger = prospects.create(db, actor, email="cy@elsewhere.example", company="Nobody Inc")
    assert company_data.for_prospect(db, actor, same_domain).industry == "Logistics"
    assert company_data.for_prospect(db, actor, other_domain).domain == "brightwave.example"
    assert company_data.for_prospect(db, actor, stranger) is None
