"""One sent email with its event, written with raw SQL: the guards' tests need a row to attack on
each engine (sqlite3 and psycopg connections both have `execute` and `commit`)."""

from __future__ import annotations

from typing import Any


def seed_email(conn: Any) -> None:
    conn.execute("INSERT INTO workspaces (id, name, created_at) VALUES ('w1', 'W', '2026-01-01')")
    conn.execute(
        "INSERT INTO users (id, workspace_id, email, name, created_at)"
        " VALUES ('u1','w1','a@b.test','','2026-01-01')"
    )
    conn.execute(
        """INSERT INTO emails (id, workspace_id, user_id, provider, from_email, from_name, to_email, to_name,
           cc, bcc, subject, body_text, body_html, prospect_snapshot, score_snapshot, accepted_suggestion_ids,
           idempotency_key, request_fingerprint, message_id, send_after, created_at, status, attempts,
           updated_at)
           VALUES ('e1','w1','u1','smtp','a@b.test','','c@d.test','','[]','[]','Hi','Body','','{}','{}','[]',
           'k1','','<m@b.test>','2026-01-01','2026-01-01','PENDING_SEND',0,'2026-01-01')"""
    )
    conn.execute(
        """INSERT INTO email_events (id, workspace_id, email_id, provider, provider_event_id, event_type,
           event_data, occurred_at, recorded_at) VALUES ('v1','w1','e1','lumina','e1:sent','sent','{}',
           '2026-01-01','2026-01-01')"""
    )
    conn.commit()
