"""Every SQL statement the embedded (SQLite) store runs, in one place.

Kept apart from :mod:`rjflow.store`; the PostgreSQL store has its own copy of these statements,
under the same names, in :mod:`rjflow._pgsql`.
"""

from __future__ import annotations

from functools import lru_cache

#: The store's own schema version, kept in ``rjflow_meta``.
#: 2: free text kept in ``rjflow_texts``, beside the hashed events, so that it can be erased.
#: 3: the caseload summaries (``rjflow_summaries``) and append-only triggers on the events;
#: a store at 2 is migrated when it is opened (its summaries built from its events).
#: 4: each case's report facts (``rjflow_facts``, :func:`rjflow.reporting.case_facts` as JSON),
#: written with its events; a store at 2 or 3 is migrated when it is opened.
STORE_SCHEMA_VERSION = 4

#: The oldest store schema this release migrates on open.
MIGRATES_FROM = 2

CREATE = (
    """
    CREATE TABLE IF NOT EXISTS rjflow_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_events (
        case_id       TEXT    NOT NULL,
        sequence      INTEGER NOT NULL CHECK (sequence >= 1),
        at            TEXT    NOT NULL,
        actor         TEXT    NOT NULL,
        action        TEXT    NOT NULL,
        data          TEXT    NOT NULL,
        from_state    TEXT,
        to_state      TEXT,
        previous_hash TEXT    NOT NULL,
        hash          TEXT    NOT NULL,
        occurred_at   TEXT,
        PRIMARY KEY (case_id, sequence)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_texts (
        case_id  TEXT    NOT NULL,
        sequence INTEGER NOT NULL,
        pointer  TEXT    NOT NULL,
        salt     TEXT    NOT NULL,
        text     TEXT    NOT NULL,
        PRIMARY KEY (case_id, sequence, pointer)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_integrity (
        case_id TEXT    PRIMARY KEY,
        key_id  TEXT    NOT NULL,
        version INTEGER NOT NULL,
        head    TEXT    NOT NULL,
        mac     TEXT    NOT NULL
    ) WITHOUT ROWID
    """,
    # A case migrated from an older schema: where from (see serialization.migrated_from).
    """
    CREATE TABLE IF NOT EXISTS rjflow_migrations (
        case_id        TEXT    PRIMARY KEY,
        schema_version INTEGER NOT NULL,
        version        INTEGER NOT NULL,
        head           TEXT    NOT NULL
    ) WITHOUT ROWID
    """,
    # Schema 3: events are never changed or deleted, whoever holds the file through rjflow's
    # SQL or any other (a tool that drops the triggers first is outside what SQLite can stop;
    # the hash chain and the keyed seal detect what it does).
    """
    CREATE TRIGGER IF NOT EXISTS rjflow_events_no_update BEFORE UPDATE ON rjflow_events
    BEGIN SELECT RAISE(ABORT, 'rjflow_events is append-only: events are never changed'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS rjflow_events_no_delete BEFORE DELETE ON rjflow_events
    BEGIN SELECT RAISE(ABORT, 'rjflow_events is append-only: events are never deleted'); END
    """,
    # Schema 3: one summary per case (rjflow.projection), written with its events. Times are
    # UTC ISO 8601 text of one fixed width, so text order is time order.
    """
    CREATE TABLE IF NOT EXISTS rjflow_summaries (
        case_id          TEXT    PRIMARY KEY,
        stage            TEXT    NOT NULL,
        version          INTEGER NOT NULL,
        opened_at        TEXT    NOT NULL,
        updated_at       TEXT    NOT NULL,
        offence_category TEXT    NOT NULL,
        lead_facilitator TEXT,
        closure_reason   TEXT,
        outcome          TEXT,
        closed_at        TEXT,
        sessions_held    INTEGER NOT NULL,
        due_at           TEXT,
        actionable       INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_stage ON rjflow_summaries (stage, case_id)",
    """
    CREATE INDEX IF NOT EXISTS rjflow_summaries_lead
    ON rjflow_summaries (lead_facilitator, case_id)
    """,
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_due ON rjflow_summaries (due_at)",
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_opened ON rjflow_summaries (opened_at)",
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_closed ON rjflow_summaries (closed_at)",
    # Schema 4: one case's report facts (rjflow.reporting.CaseFacts.to_dict as JSON text) at
    # the version they were computed from, written with its events. A rowid table: its rows
    # (about a kilobyte) are too large for WITHOUT ROWID to pay.
    """
    CREATE TABLE IF NOT EXISTS rjflow_facts (
        case_id TEXT    PRIMARY KEY,
        version INTEGER NOT NULL,
        facts   TEXT    NOT NULL
    )
    """,
)

#: The tables and triggers the store needs; opening a store that has them takes no write lock.
OBJECT_NAMES = frozenset(
    {
        "rjflow_meta",
        "rjflow_events",
        "rjflow_texts",
        "rjflow_integrity",
        "rjflow_migrations",
        "rjflow_summaries",
        "rjflow_facts",
        "rjflow_events_no_update",
        "rjflow_events_no_delete",
    }
)

OBJECTS = "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"

GET_META = "SELECT value FROM rjflow_meta WHERE key = ?"
PUT_META = "INSERT OR IGNORE INTO rjflow_meta (key, value) VALUES (?, ?)"
SET_META = "INSERT OR REPLACE INTO rjflow_meta (key, value) VALUES (?, ?)"

LAST_EVENT = (
    "SELECT sequence, hash FROM rjflow_events WHERE case_id = ? ORDER BY sequence DESC LIMIT 1"
)

INSERT_EVENT = """
    INSERT INTO rjflow_events
        (case_id, sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
         occurred_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

#: A case's next event, inserted only if the event it follows (case, sequence, hash) is
#: stored: the optimistic-concurrency check and the insert in one statement.
INSERT_EVENT_AFTER = """
    INSERT INTO rjflow_events
        (case_id, sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
         occurred_at)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
    WHERE EXISTS (
        SELECT 1 FROM rjflow_events WHERE case_id = ? AND sequence = ? AND hash = ?
    )
"""

#: Whether the event a save's new events follow is stored with this copy's hash.  The SQLite
#: store checks with this read, then inserts with INSERT_EVENT (see
#: :meth:`rjflow.store.SQLiteStore._insert_events`).
HAS_EVENT = "SELECT 1 FROM rjflow_events WHERE case_id = ? AND sequence = ? AND hash = ?"

CASE_EVENTS = """
    SELECT sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
           occurred_at
    FROM rjflow_events WHERE case_id = ? ORDER BY sequence
"""

CASE_IDS = "SELECT DISTINCT case_id FROM rjflow_events ORDER BY case_id"

#: The data of a case's opening event, which names the case it opened.
OPENING_DATA = "SELECT data FROM rjflow_events WHERE case_id = ? AND sequence = 1"

COUNT_EVENTS = "SELECT COUNT(*) FROM rjflow_events WHERE case_id = ?"

INSERT_TEXT = (
    "INSERT INTO rjflow_texts (case_id, sequence, pointer, salt, text) VALUES (?, ?, ?, ?, ?)"
)

CASE_TEXTS = "SELECT sequence, pointer, salt, text FROM rjflow_texts WHERE case_id = ?"

DELETE_TEXT = "DELETE FROM rjflow_texts WHERE case_id = ? AND sequence = ? AND pointer = ?"

PUT_INTEGRITY = """
    INSERT OR REPLACE INTO rjflow_integrity (case_id, key_id, version, head, mac)
    VALUES (?, ?, ?, ?, ?)
"""

GET_INTEGRITY = "SELECT key_id, case_id, version, head, mac FROM rjflow_integrity WHERE case_id = ?"

PUT_MIGRATION = """
    INSERT OR IGNORE INTO rjflow_migrations (case_id, schema_version, version, head)
    VALUES (?, ?, ?, ?)
"""

GET_MIGRATION = "SELECT schema_version, version, head FROM rjflow_migrations WHERE case_id = ?"

# -- the caseload summaries (schema 3) ---------------------------------------------------------

_SUMMARY_COLUMNS = """case_id, stage, version, opened_at, updated_at, offence_category,
    lead_facilitator, closure_reason, outcome, closed_at, sessions_held, due_at, actionable"""

PUT_SUMMARY = f"""
    INSERT OR REPLACE INTO rjflow_summaries ({_SUMMARY_COLUMNS})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

GET_SUMMARY = f"SELECT {_SUMMARY_COLUMNS} FROM rjflow_summaries WHERE case_id = ?"

#: The summary's columns, in the order of PUT_SUMMARY's values and GET_SUMMARY's row.
SUMMARY_COLUMNS = tuple(name.strip() for name in _SUMMARY_COLUMNS.split(","))


@lru_cache(maxsize=64)
def update_summary(changed: tuple[int, ...]) -> str:
    """The statement setting the summary columns at the indexes ``changed`` (values in that
    order, then the case id).  SQLite rewrites an index whenever an UPDATE sets one of its
    columns, changed or not, so a save sets only the columns whose values changed: appending
    an event to a case usually moves its version, times and counts, not its stage, lead or
    opening, and their indexes are then left alone."""
    columns = ", ".join(f"{SUMMARY_COLUMNS[i]} = ?" for i in changed)
    return f"UPDATE rjflow_summaries SET {columns} WHERE case_id = ?"


DELETE_SUMMARY = "DELETE FROM rjflow_summaries WHERE case_id = ?"

SUMMARY_IDS = "SELECT case_id FROM rjflow_summaries"

#: One page of summaries; ``{where}`` is the conjunction of FIND_WHERE's clauses.
FIND = f"""
    SELECT {_SUMMARY_COLUMNS} FROM rjflow_summaries WHERE {{where}} ORDER BY case_id LIMIT ?
"""

FIND_WHERE = {
    "stage": "stage = ?",
    "facilitator": "lead_facilitator = ?",
    "overdue": "due_at < ?",
    "opened": "opened_at >= ? AND opened_at < ?",
    "closed": "closed_at >= ? AND closed_at < ?",
    "after": "case_id > ?",
}

COUNT_BY_STAGE = "SELECT stage, COUNT(*) FROM rjflow_summaries GROUP BY stage"

# -- the report facts (schema 4) ---------------------------------------------------------------

#: An upsert, not INSERT OR REPLACE: the stored row is updated where it is (REPLACE deletes
#: it and inserts it again under a new rowid, writing the table and its key's index twice).
PUT_FACTS = """
    INSERT INTO rjflow_facts (case_id, version, facts) VALUES (?, ?, ?)
    ON CONFLICT (case_id) DO UPDATE SET version = excluded.version, facts = excluded.facts
"""

GET_FACTS = "SELECT version, facts FROM rjflow_facts WHERE case_id = ?"

DELETE_FACTS = "DELETE FROM rjflow_facts WHERE case_id = ?"

FACTS_IDS = "SELECT case_id FROM rjflow_facts"

#: One page of the caseload's report facts, by case id after the one given: every summarised
#: case, with its facts (NULL when missing) and both versions, so that facts older than the
#: case (or missing) are seen, never silently counted or left out.
REPORT_FACTS = """
    SELECT s.case_id, s.version, f.version, f.facts
    FROM rjflow_summaries AS s LEFT JOIN rjflow_facts AS f ON f.case_id = s.case_id
    WHERE s.case_id > ? ORDER BY s.case_id LIMIT ?
"""
