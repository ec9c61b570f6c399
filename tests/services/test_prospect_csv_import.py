"""CSV import: every good row in, every bad row reported by its physical line, nothing stored lost."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from db_snapshot import count, snapshot

from lumina_tui.services import company_data, prospect_import, prospects
from lumina_tui.services.errors import ValidationError

HEADER = (
    "Email Address,First Name,Last Name,Job Title,Company Name,Website,Industry,# Employees,City,Country,"
    "Lead Source\n"
)
COLUMNS = HEADER.count(",") + 1


@dataclass
class CsvPlan:
    """A CSV built line by line, with what the import must report for it."""

    chunks: list[bytes] = field(default_factory=lambda: [b"\xef\xbb\xbf" + HEADER.encode()])
    next_line: int = 2
    rejected: dict[int, str] = field(default_factory=dict)  # line -> a word the reason must contain
    good_emails: list[str] = field(default_factory=list)
    repeats: int = 0

    def add(self, raw: bytes, *, reject: str | None = None, email: str | None = None) -> None:
        if reject:
            self.rejected[self.next_line] = reject
        elif email:
            if email in self.good_emails:
                self.repeats += 1
            else:
                self.good_emails.append(email)
        self.chunks.append(raw)
        self.next_line += raw.count(b"\n")

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _row(i: int, **overrides: str) -> list[str]:
    company = i % 50
    cells = {
        "email": f"person{i}@co{company}.test",
        "first": f"First{i}",
        "last": f"Last{i}",
        "title": "Head of Operations",
        "company": f"Company {company}",
        "website": f"https://www.co{company}.test/about",
        "industry": "Logistics" if company % 2 else "Retail",
        "employees": "201-500",
        "city": "Rotterdam",
        "country": "Netherlands",
        "source": "webinar",
    }
    cells.update(overrides)
    return list(cells.values())


def _line(cells: list[str]) -> bytes:
    return (",".join(cells) + "\n").encode()


def build_10k_rows() -> CsvPlan:
    """10,000 data rows: mostly good, with bad emails, short and long rows, invalid UTF-8, blank
    lines, multi-line quoted values, and emails repeated later in the file."""
    plan = CsvPlan()
    for i in range(10_000):
        if i % 997 == 5:
            plan.add(_line(_row(i, email=f"not-an-email-{i}")), reject="invalid email")
        elif i % 1499 == 7:
            plan.add(f"person{i}@co1.test,Only two\n".encode(), reject="too few columns")
        elif i % 2003 == 11:
            plan.add(_line(_row(i, first="@@")).replace(b"@@", b"Bad\xff\xfeName"), reject="UTF-8")
        elif i == 4321:
            plan.add(_line([*_row(i), "unexpected", "extra"]), reject="too many columns")
        elif i == 4322:
            plan.add(_line(_row(i, email="")), reject="required")
        elif i % 1000 == 13:
            # A quoted value spanning three physical lines is one good row.
            row = _row(i, source='"met at the fair\nasked about pricing\nfollow up in May"')
            plan.add(_line(row), email=f"person{i}@co{i % 50}.test")
        elif i % 2500 == 17:
            plan.add(b"\n")  # a blank line is not data and not an error
            plan.add(_line(_row(i)), email=f"person{i}@co{i % 50}.test")
        elif i >= 9_980:
            # The last 20 rows repeat earlier prospects: a new title, an empty first name.
            k = i - 9_980 + 20
            plan.add(
                _line(_row(k, first="", title="Chief Operating Officer")), email=f"person{k}@co{k % 50}.test"
            )
        else:
            plan.add(_line(_row(i)), email=f"person{i}@co{i % 50}.test")
    return plan


def test_a_10k_row_csv_with_malformed_rows_imports_every_good_row(db, actor, tmp_path: Path) -> None:
    plan = build_10k_rows()
    path = tmp_path / "export.csv"
    path.write_bytes(plan.data())
    calls: list[tuple[int, int]] = []

    report = prospect_import.import_csv(
        db, actor, path, progress=lambda done, total: calls.append((done, total))
    )

    assert report.imported == len(plan.good_emails)
    assert report.updated == plan.repeats == 20
    assert {row.line: row.reason for row in report.rejected}.keys() == plan.rejected.keys()
    for row in report.rejected:
        assert plan.rejected[row.line].lower() in row.reason.lower(), (row.line, row.reason)
    assert count(db.path, "prospects") == len(plan.good_emails)
    # The repeats updated the title and kept the first name an empty cell did not erase.
    repeated = prospects.get(db, actor, "person23@co23.test")
    assert (repeated.first_name, repeated.job_title) == ("First23", "Chief Operating Officer")
    # A multi-line quoted value arrives whole, in the custom fields.
    multi = prospects.get(db, actor, "person13@co13.test")
    assert multi.custom_fields["lead_source"] == "met at the fair\nasked about pricing\nfollow up in May"
    # Company columns filled company_data, keyed by the website's domain.
    company = company_data.lookup(db, actor, "someone@co7.test")
    assert company is not None
    assert (company.name, company.industry, company.size, company.location) == (
        "Company 7",
        "Logistics",
        "201-500",
        "Rotterdam, Netherlands",
    )
    assert count(db.path, "company_data") == 50
    # Progress: monotonic, ending at total.
    assert calls[-1][0] == calls[-1][1] == len(plan.good_emails) + plan.repeats + len(plan.rejected)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_the_reasons_and_emails_a_person_reads(db, actor) -> None:
    data = (
        b"Email,First Name,Company\n"
        b"ana@brightwave.example,Ana,Brightwave\n"
        b"bob@,Bob,X\n"
        b"carl@x.test,Carl\n"
        b"dora@x.test,Dora,X,surplus\n"
    ) + b"eve@x.test,\xe9ve,X\n"
    report = prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert report.imported == 1
    by_line = {row.line: row for row in report.rejected}
    assert by_line[3].email == "bob@" and "invalid email address 'bob@'" in by_line[3].reason
    assert by_line[4].reason.startswith("too few columns: 2 values, but the header has 3")
    assert by_line[5].reason.startswith("too many columns: 4 values, but the header has 3")
    assert "byte 0xE9 in column 'First Name'" in by_line[6].reason
    assert by_line[6].email == "eve@x.test"
    assert report.as_json()["rejected"][0] == {"line": 3, "reason": by_line[3].reason, "email": "bob@"}


def test_a_quote_never_closed_costs_one_row(db, actor) -> None:
    data = (
        b'Email,First Name,Notes\n"broken@x.test,Broken,oops\n'
        b'fine@x.test,Fine,ok\nalso@x.test,Also,"two\nlines"\n'
    )
    report = prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert [row.line for row in report.rejected] == [2]
    assert "never closed" in report.rejected[0].reason
    assert report.imported == 2
    assert prospects.get(db, actor, "also@x.test").custom_fields == {"notes": "two\nlines"}


def test_header_aliases_from_common_crm_exports(db, actor) -> None:
    exports = {
        "hubspot": "Email,First Name,Last Name,Job Title,Company Name,Company Domain Name,Industry,"
        "Number of Employees,City,Country/Region\n"
        "ana@bright.test,Ana,Okafor,VP Ops,Brightwave,bright.test,Logistics,250,Rotterdam,Netherlands\n",
        "salesforce": "Email,First Name,Last Name,Title,Account Name,Website,Industry,Employees,Mailing City,"
        "Mailing Country\n"
        "ana@bright.test,Ana,Okafor,VP Ops,Brightwave,www.bright.test,Logistics,250,Rotterdam,Netherlands\n",
        "apollo": "First Name,Last Name,Title,Company,Email,# Employees,Industry,Website,City,Country\n"
        "Ana,Okafor,VP Ops,Brightwave,ana@bright.test,250,Logistics,http://bright.test,Rotterdam,Netherlands\n",
        "sales navigator": "Full Name,Position,Organization,E-mail,Company Size,Sector,Location\n"
        'Ana Okafor,VP Ops,Brightwave,ana@bright.test,250,Logistics,"Rotterdam, Netherlands"\n',
        "snake case": "work_email,given_name,surname,job_title,company_name,company_website,INDUSTRY,"
        "company-size,city,country\n"
        "ana@bright.test,Ana,Okafor,VP Ops,Brightwave,bright.test,Logistics,250,Rotterdam,Netherlands\n",
    }
    for name, text in exports.items():
        with db.write() as session:
            from sqlalchemy import text as sql

            session.execute(sql("DELETE FROM prospects"))
            session.execute(sql("DELETE FROM company_data"))
        report = prospect_import.import_csv(db, actor, io.BytesIO(text.encode()))
        assert (report.imported, report.rejected) == (1, []), name
        prospect = prospects.get(db, actor, "ana@bright.test")
        assert (prospect.first_name, prospect.last_name, prospect.job_title, prospect.company) == (
            "Ana",
            "Okafor",
            "VP Ops",
            "Brightwave",
        ), name
        assert prospect.custom_fields == {}, name
        company = company_data.lookup(db, actor, "bright.test")
        assert company is not None, name
        assert (company.name, company.industry, company.size, company.location) == (
            "Brightwave",
            "Logistics",
            "250",
            "Rotterdam, Netherlands",
        ), name


def test_unknown_columns_become_template_friendly_custom_fields(db, actor) -> None:
    data = b"Email,Recent Initiative,CRM,LinkedIn URL,Recent-Initiative\nana@x.test,new hub,HubSpot,,again\n"
    prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert prospects.get(db, actor, "ana@x.test").custom_fields == {
        "recent_initiative": "new hub",
        "crm": "HubSpot",
        "recent_initiative_2": "again",
    }


def test_existing_data_is_never_lost(db, actor) -> None:
    prospects.create(
        db,
        actor,
        email="ana@bright.test",
        first_name="Ana",
        last_name="Okafor",
        job_title="VP Operations",
        custom_fields={"erp": "SAP"},
    )
    with db.write() as session:
        company_data.upsert(session, actor, "bright.test", {"name": "Brightwave", "industry": "Logistics"})
    data = (
        b"Email,First Name,Last Name,Title,Company,Industry,# Employees,CRM\n"
        b"ANA@Bright.test,,,,,,250,HubSpot\n"
    )
    report = prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert (report.imported, report.updated) == (0, 1)
    prospect = prospects.get(db, actor, "ana@bright.test")
    assert (prospect.first_name, prospect.last_name, prospect.job_title) == ("Ana", "Okafor", "VP Operations")
    assert prospect.custom_fields == {"erp": "SAP", "crm": "HubSpot"}
    company = company_data.lookup(db, actor, "bright.test")
    assert (company.name, company.industry, company.size) == ("Brightwave", "Logistics", "250")


def test_company_domain_comes_from_the_website_else_the_email_but_never_a_mailbox_provider(db, actor) -> None:
    data = (
        b"Email,Company,Website,Industry\n"
        b"a@corp-mail.test,Corp,https://corp.test,Energy\n"
        b"b@solo.test,Solo,,Retail\n"
        b"c@gmail.com,Freelance,,Design\n"
        b"d@yahoo.com,Studio,studio.test,Design\n"
        b"e@dash.test,Dash,n/a,Food\n"
    )
    prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert company_data.lookup(db, actor, "corp.test").name == "Corp"
    assert company_data.lookup(db, actor, "corp-mail.test") is None
    assert company_data.lookup(db, actor, "solo.test").industry == "Retail"
    assert company_data.lookup(db, actor, "gmail.com") is None
    assert company_data.lookup(db, actor, "studio.test").name == "Studio"
    assert company_data.lookup(db, actor, "dash.test").name == "Dash"


def test_semicolon_exports_and_crlf_line_ends(db, actor) -> None:
    data = b"E-Mail;Vorname;Firma\r\nana@x.test;Ana;Brightwave\r\nbad;Bob;X\r\n"
    report = prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert report.imported == 1
    assert [row.line for row in report.rejected] == [3]
    prospect = prospects.get(db, actor, "ana@x.test")
    assert prospect.custom_fields == {"vorname": "Ana", "firma": "Brightwave"}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"First Name,Company\nAna,X\n", "no email column"),
        ("Email,Name\n".encode("utf-16"), "UTF-16"),
        (b"Em\xffail,Name\na@x.test,A\n", "header"),
    ],
)
def test_a_file_that_cannot_be_imported_says_why_and_stores_nothing(
    db, actor, data: bytes, words: str
) -> None:
    before = snapshot(db.path)
    with pytest.raises(ValidationError) as caught:
        prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert caught.value.field == "file"
    assert words.lower() in caught.value.message.lower()
    assert snapshot(db.path) == before


def test_a_missing_file_is_not_found_the_callers_input(db, actor, tmp_path: Path) -> None:
    from lumina_tui.services.errors import NotFoundError

    with pytest.raises(NotFoundError) as caught:
        prospect_import.import_csv(db, actor, tmp_path / "nope.csv")
    assert caught.value.field == "file"
    assert caught.value.exit_code == 2  # the contract: a missing input file is exit 2 on every verb


def test_a_header_only_file_imports_nothing(db, actor) -> None:
    report = prospect_import.import_csv(db, actor, io.BytesIO(b"Email,First Name\n"))
    assert report.as_json() == {"imported": 0, "updated": 0, "rejected": [], "companies": 0}


def test_an_unreadable_line_costs_that_line_only(db, actor) -> None:
    data = b"Email,Notes\na@x.test,ok\nb@x.test," + b"x" * 200_000 + b"\nc@x.test,fine\n"
    report = prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert report.imported == 2
    assert [(row.line, "could not be read as CSV" in row.reason) for row in report.rejected] == [(3, True)]


def test_one_company_upsert_per_domain_with_later_values_filling_in(db, actor) -> None:
    rows = "".join(f"p{i}@acme.test,Acme,,\n" for i in range(1_200))
    data = ("Email,Company,Industry,City\n" + rows + "last@acme.test,,Robotics,Lyon\n").encode()
    report = prospect_import.import_csv(db, actor, io.BytesIO(data))
    assert (report.imported, report.companies) == (1_201, 1)
    company = company_data.lookup(db, actor, "acme.test")
    assert (company.name, company.industry, company.location) == ("Acme", "Robotics", "Lyon")


def test_a_quote_never_closed_in_the_last_column_costs_one_row(db, actor) -> None:
    """The same stray quote as above, but in the LAST column: every following line used to land in
    that one value (1,000 rows lost, nothing reported)."""
    rows = [b"Email,First Name,Notes\n", b"ok@x.test,Ok,fine\n"]
    rows.append(b'multi@x.test,Multi,"met at the fair\nasked about pricing"\n')  # lines 3-4: a real note
    rows.append(b'broken@x.test,Broken,"never closed\n')  # line 5
    rows += [f"row{i}@x.test,Row{i},note {i}\n".encode() for i in range(1000)]
    report = prospect_import.import_csv(db, actor, io.BytesIO(b"".join(rows)))
    assert [row.line for row in report.rejected] == [5]
    assert "never closed" in report.rejected[0].reason
    assert report.imported == 2 + 1000
    assert prospects.get(db, actor, "row999@x.test").custom_fields == {"notes": "note 999"}
    multi = prospects.get(db, actor, "multi@x.test")
    assert multi.custom_fields == {"notes": "met at the fair\nasked about pricing"}
