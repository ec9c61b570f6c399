"""CSV import of prospects: a CRM export in, prospects and company data out, a report of every row.

A bad row never stops the import: it is rejected with its physical line number (the header is line
1; a quoted value spanning lines counts every line) and a reason a person understands, and the rows
around it are stored. Existing data is never lost: an empty cell never erases a stored value, and
a later row with an email already known updates that prospect. Rows are written in batches, one
`BEGIN IMMEDIATE` transaction per batch with `INSERT ... ON CONFLICT DO UPDATE`, so 10,000 rows take
about a second rather than 10,000 commits.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import OperationalError

from lumina_tui.providers.headers import header_value_problem
from lumina_tui.services import company_data, validation
from lumina_tui.services.actors import Actor
from lumina_tui.services.errors import NotFoundError, StorageError, ValidationError
from lumina_tui.services.prospects import NAME_LIMIT
from lumina_tui.store import Database, new_id, utcnow
from lumina_tui.store.errors import StoreError

BATCH_ROWS = 500

# Header names as CRM exports spell them (HubSpot, Salesforce, Apollo, LinkedIn Sales Navigator,
# Pipedrive, Excel templates). Matching ignores case and everything but letters and digits, so
# "E-mail", "e_mail" and "EMAIL" are one alias.
# fmt: off
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "Email", "Email Address", "E-mail", "E-mail Address", "Work Email", "Business Email",
        "Work Email Address", "Contact Email", "Primary Email", "Email 1", "Mail", "Emails",
    ),
    "first_name": ("First Name", "Given Name", "First", "Forename", "FName", "Contact First Name"),
    "last_name": ("Last Name", "Surname", "Family Name", "Last", "LName", "Contact Last Name"),
    "full_name": ("Name", "Full Name", "Contact Name", "Contact", "Prospect Name", "Lead Name"),
    "job_title": (
        "Job Title", "Title", "Position", "Role", "Job Role", "Designation", "Current Title",
        "Contact Title", "Job Position",
    ),
    "company": (
        "Company", "Company Name", "Account Name", "Account", "Organization", "Organisation",
        "Organization Name", "Organisation Name", "Employer", "Current Company", "Company Name for Emails",
    ),
    "website": (
        "Website", "Company Website", "Website URL", "Web Site", "URL", "Company URL", "Company Domain",
        "Company Domain Name", "Domain", "Web Domain", "Account Website",
    ),
    "industry": ("Industry", "Company Industry", "Sector", "Vertical", "Account Industry"),
    "size": (
        "Employees", "# Employees", "Number of Employees", "No. of Employees", "Employee Count",
        "Company Size", "Size", "Headcount", "Company Headcount", "Employee Size",
        "Estimated Num Employees", "Employee Range",
    ),
    "city": ("City", "Company City", "Town", "Mailing City", "Billing City"),
    "state": (
        "State", "Region", "State/Region", "Province", "Company State", "Mailing State", "Billing State",
    ),
    "country": ("Country", "Company Country", "Country/Region", "Mailing Country", "Billing Country"),
    "location": ("Location", "Company Location", "Headquarters", "HQ", "Geography", "Company HQ"),
}
# fmt: on

PROSPECT_TEXT_FIELDS = ("first_name", "last_name", "company", "job_title")

# Mailbox providers, not companies: a Gmail address says nothing about where someone works.
# fmt: off
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "hotmail.com", "outlook.com", "live.com",
    "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com",
    "gmx.de", "gmx.net", "web.de", "yandex.ru", "mail.ru", "qq.com", "163.com", "zoho.com",
    "fastmail.com", "hey.com",
})
# fmt: on

_NOT_WORD = re.compile(r"[\W_]+")
_SPACE_RUN = re.compile(r"\s+")
_BAD_BYTE = re.compile("[\udc80-\udcff]")
_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)+$")


def header_key(name: str) -> str:
    """What alias matching compares: `E-mail Address` -> `emailaddress`, `# Employees` -> `employees`."""
    return _NOT_WORD.sub("", name.casefold())


ALIASES: dict[str, str] = {
    header_key(alias): target for target, names in FIELD_ALIASES.items() for alias in names
}


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    reason: str
    email: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "email": self.email}


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    updated: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    companies: int = 0  # company_data rows created or filled in (one per domain)

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "rejected": [row.as_json() for row in self.rejected],
            "companies": self.companies,
        }


@dataclass(frozen=True, slots=True)
class ProspectRow:
    """One good row, cleaned: what gets stored. Only non-empty values are present."""

    line: int
    email: str
    fields: dict[str, str]
    custom_fields: dict[str, str]
    company_domain: str | None
    company: dict[str, str]  # company_data fields: name, industry, size, location


@dataclass(slots=True)
class ParsedCsv:
    rows: list[ProspectRow]
    rejected: list[RejectedRow]


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    target: str  # a FIELD_ALIASES key, or "custom"
    custom_key: str = ""


# ---------------------------------------------------------------------------------------------
# Reading and parsing


def read_source(source: Path | str | BinaryIO) -> bytes:
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    return source.read()


def _decode(data: bytes) -> str:
    """UTF-8 with a BOM stripped; undecodable bytes survive as lone surrogates so only their row fails."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationError(
            "file: this file is UTF-16 text; save it as CSV UTF-8 (comma delimited) and import again",
            field="file",
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    return data.decode("utf-8", errors="surrogateescape")


def _physical_lines(text: str) -> list[str]:
    # io splits on \n, \r\n and \r only (str.splitlines would also split on \x0b, \u2028, ...).
    return io.StringIO(text, newline="").readlines()


def _delimiter(header_line: str) -> str:
    """Comma unless the header clearly uses semicolons or tabs (European Excel, TSV exports)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


class _LineFeed:
    """The physical lines, handed to csv.reader one at a time; `position` can be moved back."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1]


def _records(lines: list[str], delimiter: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first physical line, cells or None, error) for each record.

    A quote that is opened and never closed would swallow the rest of the file into one value; when
    a record spanning several lines does not have the header's shape, only its first line is
    rejected and parsing resumes on the next line, so one stray quote costs one row. In the LAST
    column the swallowed lines do not change the shape (they all land in the last value), so a
    record spanning lines is also rejected when one of its continuation lines is a row of its own:
    the header's number of values with an email address in the email column. A genuine multi-line
    note ("met at the fair / asked about pricing") has no such line.
    """
    feed = _LineFeed(lines)
    reader = csv.reader(feed, delimiter=delimiter)
    expected: int | None = None
    email_at: list[int] = []
    while feed.position < len(lines):
        start = feed.position
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start + 1, None, f"the line could not be read as CSV ({exc})"
        else:
            if expected is None:
                expected = len(cells)
                email_at = [i for i, name in enumerate(cells) if ALIASES.get(header_key(name)) == "email"]
            spanned = lines[start + 1 : feed.position]
            if feed.position - start == 1 or not (
                _shape_mismatch(cells, expected)
                or any(_is_a_row(line, delimiter, expected, email_at) for line in spanned)
            ):
                yield start + 1, cells, None
                continue
            yield start + 1, None, 'a quote (") opened on this line is never closed'
        # Resume on the line after the bad record's first one, with a parser in a clean state.
        feed.position = start + 1
        reader = csv.reader(feed, delimiter=delimiter)


_PLAUSIBLE_EMAIL = re.compile(r"^[^@\s,;\"]+@[^@\s,;\"]+\.[^@\s,;\"]+$")


def _is_a_row(line: str, delimiter: str, expected: int, email_at: list[int]) -> bool:
    """Whether a line, read on its own, is a complete row: the header's shape and an email."""
    if '"' in line or not email_at:
        return False  # a line with quotes of its own is not judged alone
    cells = line.rstrip("\r\n").split(delimiter)
    if _shape_mismatch(cells, expected):
        return False
    return any(i < len(cells) and _PLAUSIBLE_EMAIL.match(cells[i].strip()) for i in email_at)


def _shape_mismatch(cells: list[str], expected: int) -> bool:
    return len(cells) < expected or any(cell.strip() for cell in cells[expected:])


def _map_header(cells: list[str]) -> list[_Column]:
    columns: list[_Column] = []
    used_custom: set[str] = set()
    for position, raw in enumerate(cells, start=1):
        header = raw.replace("\ufeff", "").strip()
        target = ALIASES.get(header_key(header))
        if target is not None:
            columns.append(_Column(header, target))
            continue
        # Unknown columns become custom fields under a template-friendly key: "Recent Initiative"
        # -> recent_initiative, usable as {{recent_initiative}}.
        key = _NOT_WORD.sub("_", header.casefold()).strip("_") or f"column_{position}"
        base, suffix = key, 2
        while key in used_custom:
            key, suffix = f"{base}_{suffix}", suffix + 1
        used_custom.add(key)
        columns.append(_Column(header or f"column {position}", "custom", key))
    if not any(column.target == "email" for column in columns):
        examples = ", ".join(FIELD_ALIASES["email"][:4])
        raise ValidationError(
            f"file: no email column in the header (line 1); name one of: {examples}", field="file"
        )
    return columns


def _bad_byte_reason(columns: list[_Column], cells: list[str]) -> str | None:
    for position, cell in enumerate(cells):
        match = _BAD_BYTE.search(cell)
        if match:
            byte = ord(match.group(0)) - 0xDC00
            where = f"column {columns[position].header!r}" if position < len(columns) else "an extra column"
            return f"not valid UTF-8 text (byte 0x{byte:02X} in {where}); save the file as CSV UTF-8"
    return None


def _readable(text: str) -> str:
    """Undecodable bytes shown as U+FFFD, for the report."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def _single_line(value: str) -> str:
    return _SPACE_RUN.sub(" ", value).strip()


def _company_domain(website: str, email: str) -> str | None:
    if website:
        domain = company_data.normalise_domain(website)
        if _DOMAIN.match(domain):
            return domain
    domain = validation.email_domain(email)
    return None if domain in FREE_MAIL_DOMAINS else domain


def _split_full_name(full: str) -> tuple[str, str]:
    if "," in full:  # "Okafor, Ana"
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    first, _, last = full.partition(" ")
    return first.strip(), last.strip()


def _clean_row(line: int, columns: list[_Column], cells: list[str]) -> ProspectRow | RejectedRow:
    values: dict[str, str] = {}
    custom: dict[str, str] = {}
    for column, cell in zip(columns, cells, strict=False):
        text = cell.strip()
        if not text:
            continue
        if column.target == "custom":
            custom[column.custom_key] = text
        else:
            values.setdefault(column.target, _single_line(text))  # first non-empty column wins
    raw_email = values.get("email")
    try:
        email = validation.email_address(raw_email, "email")
    except ValidationError as exc:
        return RejectedRow(line, exc.message, raw_email)
    if "full_name" in values and not (values.get("first_name") or values.get("last_name")):
        values["first_name"], values["last_name"] = _split_full_name(values["full_name"])
    fields: dict[str, str] = {}
    for name in PROSPECT_TEXT_FIELDS:
        text = values.get(name, "")
        if len(text) > NAME_LIMIT:
            header = next(c.header for c in columns if c.target in (name, "full_name"))
            return RejectedRow(
                line, f"{header}: {len(text)} characters is too long (at most {NAME_LIMIT})", email
            )
        problem = header_value_problem(text)
        if problem is not None:  # a name or company becomes part of a header (To:, a subject)
            header = next(c.header for c in columns if c.target in (name, "full_name"))
            return RejectedRow(line, f"{header}: {problem} is not allowed here", email)
        if text:
            fields[name] = text
    location = values.get("location") or ", ".join(
        values[part] for part in ("city", "state", "country") if values.get(part)
    )
    company = {
        "name": values.get("company", ""),
        "industry": values.get("industry", ""),
        "size": values.get("size", ""),
        "location": location,
    }
    company = {key: value for key, value in company.items() if value}
    domain = _company_domain(values.get("website", ""), email) if company else None
    return ProspectRow(line, email, fields, custom, domain, company if domain else {})


def parse(data: bytes) -> ParsedCsv:
    """Every data row of a CSV export, cleaned or rejected; raises ValidationError for a bad header."""
    lines = _physical_lines(_decode(data))
    if not lines or not "".join(lines).strip():
        raise ValidationError("file: the file is empty; the first line must name the columns", field="file")
    parsed = ParsedCsv(rows=[], rejected=[])
    columns: list[_Column] | None = None
    for line, cells, error in _records(lines, _delimiter(lines[0])):
        if columns is None:
            if cells is None or _bad_byte_reason([], cells):
                raise ValidationError(
                    "file: the header (line 1) is not valid UTF-8 CSV; save the file as CSV UTF-8",
                    field="file",
                )
            columns = _map_header(cells)
            continue
        if cells is None:
            parsed.rejected.append(RejectedRow(line, error or "unreadable line"))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and ",,,," rows are not data
        bad_bytes = _bad_byte_reason(columns, cells)
        email_cell = next(
            (cells[i] for i, c in enumerate(columns) if c.target == "email" and i < len(cells) and cells[i]),
            None,
        )
        if bad_bytes:
            parsed.rejected.append(
                RejectedRow(line, bad_bytes, _readable(email_cell) if email_cell else None)
            )
            continue
        if _shape_mismatch(cells, len(columns)):
            parsed.rejected.append(
                RejectedRow(
                    line,
                    f"{'too few' if len(cells) < len(columns) else 'too many'} columns: "
                    f"{len(cells)} values, but the header has {len(columns)} "
                    "(a value containing a comma needs quotes)",
                    email_cell,
                )
            )
            continue
        result = _clean_row(line, columns, cells)
        if isinstance(result, ProspectRow):
            parsed.rows.append(result)
        else:
            parsed.rejected.append(result)
    return parsed


# ---------------------------------------------------------------------------------------------
# Storing

_UPSERT_PROSPECT = """
INSERT INTO prospects (id, workspace_id, email, first_name, last_name, company, job_title,
                       custom_fields, is_demo, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
ON CONFLICT (workspace_id, email) DO UPDATE SET
    first_name = CASE WHEN excluded.first_name <> '' THEN excluded.first_name ELSE prospects.first_name END,
    last_name = CASE WHEN excluded.last_name <> '' THEN excluded.last_name ELSE prospects.last_name END,
    company = CASE WHEN excluded.company <> '' THEN excluded.company ELSE prospects.company END,
    job_title = CASE WHEN excluded.job_title <> '' THEN excluded.job_title ELSE prospects.job_title END,
    custom_fields = json_patch(prospects.custom_fields, excluded.custom_fields),
    updated_at = excluded.updated_at
RETURNING id
"""


# The same upsert on PostgreSQL (team mode): psycopg's placeholders, a JSONB merge (custom fields
# are flat text, so `||` gives json_patch's result), and a savepoint per row (see _store_batch).
_UPSERT_PROSPECT_PG = (
    _UPSERT_PROSPECT.replace("?", "%s")
    .replace("%s, 0, %s", "%s, FALSE, %s")
    .replace(
        "json_patch(prospects.custom_fields, excluded.custom_fields)",
        "prospects.custom_fields || excluded.custom_fields",
    )
)


def _timestamp() -> str:
    # The text form SQLAlchemy's SQLite DATETIME writes and reads back.
    return utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_integrity_error(on_postgres: bool) -> tuple[type[BaseException], ...]:
    if not on_postgres:
        return ()
    import psycopg

    return (psycopg.IntegrityError,)


def _store_batch(
    db: Database,
    actor: Actor,
    batch: list[ProspectRow],
    companies: dict[str, dict[str, str]],
    report: ImportReport,
) -> None:
    """One transaction: the batch's prospects, then the companies first seen in it."""
    with db.write() as session:
        driver = session.connection().connection.driver_connection
        assert driver is not None  # a pooled connection always holds its driver's
        cursor = driver.cursor()
        on_postgres = db.dialect == "postgresql"
        now: Any = utcnow() if on_postgres else _timestamp()
        integrity_errors: tuple[type[BaseException], ...] = (
            sqlite3.IntegrityError, *_pg_integrity_error(on_postgres)
        )
        for row in batch:
            proposed = new_id()
            fields = row.fields
            if on_postgres:
                # A failed statement aborts a PostgreSQL transaction: a savepoint keeps it to the row.
                cursor.execute("SAVEPOINT prospect_row")
            try:
                cursor.execute(
                    _UPSERT_PROSPECT_PG if on_postgres else _UPSERT_PROSPECT,
                    (
                        proposed,
                        actor.workspace_id,
                        row.email,
                        fields.get("first_name", ""),
                        fields.get("last_name", ""),
                        fields.get("company", ""),
                        fields.get("job_title", ""),
                        json.dumps(row.custom_fields, ensure_ascii=False),
                        now,
                        now,
                    ),
                )
                stored_id = cursor.fetchone()[0]
            except integrity_errors as exc:
                # This row only: SQLite undoes just the statement; PostgreSQL goes back to the savepoint.
                if on_postgres:
                    cursor.execute("ROLLBACK TO SAVEPOINT prospect_row")
                report.rejected.append(RejectedRow(row.line, f"could not be stored ({exc})", row.email))
                continue
            if on_postgres:
                cursor.execute("RELEASE SAVEPOINT prospect_row")
            if stored_id == proposed:
                report.imported += 1
            else:
                report.updated += 1
        cursor.close()
        for domain, values in companies.items():
            company_data.upsert(session, actor, domain, values)
        report.companies += len(companies)


def merge_companies(rows: list[ProspectRow]) -> dict[str, dict[str, str]]:
    """Each company's values merged over the rows, keyed by domain; later non-empty values win."""
    merged: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.company_domain:
            merged.setdefault(row.company_domain, {}).update(row.company)
    return merged


def _companies_per_batch(rows: list[ProspectRow]) -> list[dict[str, dict[str, str]]]:
    """The merged companies, each written once, in the batch where its domain first appears: one
    upsert per company rather than one per row."""
    merged = merge_companies(rows)
    batches: list[dict[str, dict[str, str]]] = [{} for _ in range(0, len(rows), BATCH_ROWS)]
    for index, row in enumerate(rows):
        domain = row.company_domain
        if domain in merged:
            batches[index // BATCH_ROWS][domain] = merged.pop(domain)
    return batches


def import_csv(
    db: Database,
    actor: Actor,
    source: Path | str | BinaryIO,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a CSV export into the actor's workspace; `progress(rows_done, rows_total)` per batch."""
    try:
        data = read_source(source)
    except FileNotFoundError as exc:
        raise NotFoundError(f"file: cannot read {source}: there is no such file", field="file") from exc
    except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        # The rep named a file that cannot be read: their input (exit 2), not an I/O failure.
        raise ValidationError(f"file: cannot read {source}: {exc.strerror or exc}", field="file") from exc
    except OSError as exc:
        raise StorageError(f"file: cannot read {source}: {exc.strerror or exc}", field="file") from exc
    parsed = parse(data)
    report = ImportReport(rejected=list(parsed.rejected))
    total = len(parsed.rows) + len(parsed.rejected)
    done = len(parsed.rejected)
    if progress:
        progress(done, total)
    companies = _companies_per_batch(parsed.rows)
    for number, start in enumerate(range(0, len(parsed.rows), BATCH_ROWS)):
        batch = parsed.rows[start : start + BATCH_ROWS]
        try:
            _store_batch(db, actor, batch, companies[number], report)
        except (StoreError, OperationalError, sqlite3.OperationalError) as exc:
            reason = exc.message if isinstance(exc, StoreError) else getattr(exc, "orig", exc)
            raise StorageError(
                f"the import stopped at line {batch[0].line} ({reason}); "
                f"{report.imported + report.updated} rows before it were saved",
                field="file",
            ) from exc
        done += len(batch)
        if progress:
            progress(done, total)
    report.rejected.sort(key=lambda row: row.line)
    return report
