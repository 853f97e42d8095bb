"""Every SQL statement the PostgreSQL store runs, in one place.

The same names as :mod:`rjflow._sql` (the SQLite store's), in PostgreSQL's dialect and
psycopg's ``%s`` placeholders (so no statement holds a literal percent sign).  Events keep the
exact text the SQLite store keeps, so a case moves between the two unchanged; the summaries
use ``timestamptz`` and ``boolean``.
"""

from __future__ import annotations

from functools import lru_cache

#: The store's own schema version, kept in ``rjflow_meta`` (the same numbering as SQLite's).
#: 4: each case's report facts (``rjflow_facts``); a store at 3 is migrated when it is opened.
STORE_SCHEMA_VERSION = 4

#: The oldest schema this release migrates (PostgreSQL stores start at 3).
MIGRATES_FROM = 3

#: Taken (per transaction) while the schema is created or migrated, so that application
#: servers starting together do it once.  The value is rjflow's own: "rjflow" in ASCII.
SCHEMA_LOCK = 0x726A666C6F77

HAS_META = "SELECT to_regclass('rjflow_meta') IS NOT NULL"

CREATE = (
    """
    CREATE TABLE IF NOT EXISTS rjflow_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_events (
        case_id       TEXT    COLLATE "C" NOT NULL,
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
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_texts (
        case_id  TEXT    NOT NULL,
        sequence INTEGER NOT NULL,
        pointer  TEXT    NOT NULL,
        salt     TEXT    NOT NULL,
        text     TEXT    NOT NULL,
        PRIMARY KEY (case_id, sequence, pointer)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_integrity (
        case_id TEXT    PRIMARY KEY,
        key_id  TEXT    NOT NULL,
        version INTEGER NOT NULL,
        head    TEXT    NOT NULL,
        mac     TEXT    NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_migrations (
        case_id        TEXT    PRIMARY KEY,
        schema_version INTEGER NOT NULL,
        version        INTEGER NOT NULL,
        head           TEXT    NOT NULL
    )
    """,
    # Events are never changed or deleted: a trigger refuses UPDATE, DELETE and TRUNCATE for
    # every role but one that disables triggers (the table's owner or a superuser). Give the
    # application a role that does not own the tables to make that a privilege too.
    """
    CREATE OR REPLACE FUNCTION rjflow_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'rjflow_events is append-only: events are never changed or deleted'
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS rjflow_events_append_only ON rjflow_events",
    """
    CREATE TRIGGER rjflow_events_append_only BEFORE UPDATE OR DELETE ON rjflow_events
    FOR EACH ROW EXECUTE FUNCTION rjflow_append_only()
    """,
    "DROP TRIGGER IF EXISTS rjflow_events_no_truncate ON rjflow_events",
    """
    CREATE TRIGGER rjflow_events_no_truncate BEFORE TRUNCATE ON rjflow_events
    FOR EACH STATEMENT EXECUTE FUNCTION rjflow_append_only()
    """,
    """
    CREATE TABLE IF NOT EXISTS rjflow_summaries (
        case_id          TEXT        COLLATE "C" PRIMARY KEY,
        stage            TEXT        NOT NULL,
        version          INTEGER     NOT NULL,
        opened_at        TIMESTAMPTZ NOT NULL,
        updated_at       TIMESTAMPTZ NOT NULL,
        offence_category TEXT        NOT NULL,
        lead_facilitator TEXT,
        closure_reason   TEXT,
        outcome          TEXT,
        closed_at        TIMESTAMPTZ,
        sessions_held    INTEGER     NOT NULL,
        due_at           TIMESTAMPTZ,
        actionable       BOOLEAN     NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_stage ON rjflow_summaries (stage, case_id)",
    """
    CREATE INDEX IF NOT EXISTS rjflow_summaries_lead
    ON rjflow_summaries (lead_facilitator, case_id)
    """,
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_due ON rjflow_summaries (due_at)",
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_opened ON rjflow_summaries (opened_at)",
    "CREATE INDEX IF NOT EXISTS rjflow_summaries_closed ON rjflow_summaries (closed_at)",
    # Schema 4: one case's report facts (rjflow.reporting.CaseFacts.to_dict as JSON text, as
    # the SQLite store keeps them) at the version they were computed from.
    """
    CREATE TABLE IF NOT EXISTS rjflow_facts (
        case_id TEXT    COLLATE "C" PRIMARY KEY,
        version INTEGER NOT NULL,
        facts   TEXT    NOT NULL
    )
    """,
)

GET_META = "SELECT value FROM rjflow_meta WHERE key = %s"
PUT_META = "INSERT INTO rjflow_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING"
SET_META = """
    INSERT INTO rjflow_meta (key, value) VALUES (%s, %s)
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
"""

LAST_EVENT = (
    "SELECT sequence, hash FROM rjflow_events WHERE case_id = %s ORDER BY sequence DESC LIMIT 1"
)

INSERT_EVENT = """
    INSERT INTO rjflow_events
        (case_id, sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
         occurred_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

#: A case's next event, inserted only if the event it follows (case, sequence, hash) is
#: stored: the optimistic-concurrency check and the insert in one statement.
INSERT_EVENT_AFTER = """
    INSERT INTO rjflow_events
        (case_id, sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
         occurred_at)
    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
    WHERE EXISTS (
        SELECT 1 FROM rjflow_events WHERE case_id = %s AND sequence = %s AND hash = %s
    )
"""

CASE_EVENTS = """
    SELECT sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
           occurred_at
    FROM rjflow_events WHERE case_id = %s ORDER BY sequence
"""

CASE_IDS = "SELECT DISTINCT case_id FROM rjflow_events ORDER BY case_id"

OPENING_DATA = "SELECT data FROM rjflow_events WHERE case_id = %s AND sequence = 1"

INSERT_TEXT = (
    "INSERT INTO rjflow_texts (case_id, sequence, pointer, salt, text) VALUES (%s, %s, %s, %s, %s)"
)

CASE_TEXTS = "SELECT sequence, pointer, salt, text FROM rjflow_texts WHERE case_id = %s"

DELETE_TEXT = "DELETE FROM rjflow_texts WHERE case_id = %s AND sequence = %s AND pointer = %s"

_INTEGRITY_CONFLICT = """ON CONFLICT (case_id) DO UPDATE SET key_id = EXCLUDED.key_id,
        version = EXCLUDED.version, head = EXCLUDED.head, mac = EXCLUDED.mac"""
PUT_INTEGRITY = f"""
    INSERT INTO rjflow_integrity (case_id, key_id, version, head, mac)
    VALUES (%s, %s, %s, %s, %s)
    {_INTEGRITY_CONFLICT}
"""

GET_INTEGRITY = (
    "SELECT key_id, case_id, version, head, mac FROM rjflow_integrity WHERE case_id = %s"
)

PUT_MIGRATION = """
    INSERT INTO rjflow_migrations (case_id, schema_version, version, head)
    VALUES (%s, %s, %s, %s) ON CONFLICT (case_id) DO NOTHING
"""

GET_MIGRATION = "SELECT schema_version, version, head FROM rjflow_migrations WHERE case_id = %s"

# -- the caseload summaries --------------------------------------------------------------------

_SUMMARY_COLUMNS = """case_id, stage, version, opened_at, updated_at, offence_category,
    lead_facilitator, closure_reason, outcome, closed_at, sessions_held, due_at, actionable"""

#: A summary never goes back: a rebuild that computed an older version than a save committed
#: meanwhile leaves the newer one (READ COMMITTED lets the two interleave; SQLite's writers
#: are serialised).
PUT_SUMMARY = f"""
    INSERT INTO rjflow_summaries ({_SUMMARY_COLUMNS})
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    {{on_conflict}}
"""
_SUMMARY_CONFLICT = """ON CONFLICT (case_id) DO UPDATE SET
        stage = EXCLUDED.stage, version = EXCLUDED.version, opened_at = EXCLUDED.opened_at,
        updated_at = EXCLUDED.updated_at, offence_category = EXCLUDED.offence_category,
        lead_facilitator = EXCLUDED.lead_facilitator,
        closure_reason = EXCLUDED.closure_reason, outcome = EXCLUDED.outcome,
        closed_at = EXCLUDED.closed_at, sessions_held = EXCLUDED.sessions_held,
        due_at = EXCLUDED.due_at, actionable = EXCLUDED.actionable
    WHERE rjflow_summaries.version <= EXCLUDED.version"""
PUT_SUMMARY = PUT_SUMMARY.format(on_conflict=_SUMMARY_CONFLICT)

GET_SUMMARY = f"SELECT {_SUMMARY_COLUMNS} FROM rjflow_summaries WHERE case_id = %s"

DELETE_SUMMARY = "DELETE FROM rjflow_summaries WHERE case_id = %s"

SUMMARY_IDS = "SELECT case_id FROM rjflow_summaries"

#: One page of summaries; ``{where}`` is the conjunction of FIND_WHERE's clauses.
FIND = f"""
    SELECT {_SUMMARY_COLUMNS} FROM rjflow_summaries WHERE {{where}} ORDER BY case_id LIMIT %s
"""

FIND_WHERE = {
    "stage": "stage = %s",
    "facilitator": "lead_facilitator = %s",
    "overdue": "due_at < %s",
    "opened": "opened_at >= %s AND opened_at < %s",
    "closed": "closed_at >= %s AND closed_at < %s",
    "after": "case_id > %s",
}

COUNT_BY_STAGE = "SELECT stage, COUNT(*) FROM rjflow_summaries GROUP BY stage"

# -- the report facts (schema 4) ---------------------------------------------------------------

#: Facts never go back either (see PUT_SUMMARY).
_FACTS_CONFLICT = """ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version,
        facts = EXCLUDED.facts
    WHERE rjflow_facts.version <= EXCLUDED.version"""
PUT_FACTS = f"""
    INSERT INTO rjflow_facts (case_id, version, facts) VALUES (%s, %s, %s)
    {_FACTS_CONFLICT}
"""

GET_FACTS = "SELECT version, facts FROM rjflow_facts WHERE case_id = %s"

DELETE_FACTS = "DELETE FROM rjflow_facts WHERE case_id = %s"

FACTS_IDS = "SELECT case_id FROM rjflow_facts"

#: One page of the caseload's report facts (see the SQLite store's REPORT_FACTS).  Each page's
#: facts are looked up by case id (LATERAL, kept a subquery by OFFSET 0): joined plainly, the
#: planner chose a hash or merge join that read the whole facts table for every page, so that
#: a report's reading grew with the square of the caseload (0.97 s against 0.41 s for 100,000).
REPORT_FACTS = """
    SELECT s.case_id, s.version, f.version, f.facts
    FROM rjflow_summaries AS s LEFT JOIN LATERAL (
        SELECT version, facts FROM rjflow_facts WHERE case_id = s.case_id OFFSET 0
    ) AS f ON true
    WHERE s.case_id > %s ORDER BY s.case_id LIMIT %s
"""

# -- one save in one statement -----------------------------------------------------------------

#: Each table a save writes: its columns and their types (the types name each value's type
#: in the statement, so that a None or a small int is read as the column's type).
_EVENT_TYPES = (
    ("case_id", "text"),
    ("sequence", "integer"),
    ("at", "text"),
    ("actor", "text"),
    ("action", "text"),
    ("data", "text"),
    ("from_state", "text"),
    ("to_state", "text"),
    ("previous_hash", "text"),
    ("hash", "text"),
    ("occurred_at", "text"),
)
_TEXT_TYPES = (
    ("case_id", "text"),
    ("sequence", "integer"),
    ("pointer", "text"),
    ("salt", "text"),
    ("text", "text"),
)
_MIGRATION_TYPES = (
    ("case_id", "text"),
    ("schema_version", "integer"),
    ("version", "integer"),
    ("head", "text"),
)
_INTEGRITY_TYPES = (
    ("case_id", "text"),
    ("key_id", "text"),
    ("version", "integer"),
    ("head", "text"),
    ("mac", "text"),
)
_SUMMARY_TYPES = (
    ("case_id", "text"),
    ("stage", "text"),
    ("version", "integer"),
    ("opened_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("offence_category", "text"),
    ("lead_facilitator", "text"),
    ("closure_reason", "text"),
    ("outcome", "text"),
    ("closed_at", "timestamptz"),
    ("sessions_held", "integer"),
    ("due_at", "timestamptz"),
    ("actionable", "boolean"),
)
_FACTS_TYPES = (("case_id", "text"), ("version", "integer"), ("facts", "text"))


def _insert(
    name: str, table: str, types: tuple[tuple[str, str], ...], rows: int, tail: str = ""
) -> str:
    """One CTE inserting ``rows`` rows into ``table``, only if the gate holds a row; ``tail``:
    its ON CONFLICT clause."""
    columns = ", ".join(column for column, _ in types)
    row = "(" + ", ".join(f"%s::{kind}" for _, kind in types) + ")"
    values = ", ".join([row] * rows)
    return (
        f"{name} AS (INSERT INTO {table} ({columns}) SELECT v.* FROM (VALUES {values}) "
        f"AS v ({columns}), gate {tail})"
    )


@lru_cache(maxsize=128)
def save_case(events: int, texts: int, *, follows: bool, provenance: bool, seal: bool) -> str:
    """One save of one case as one statement (so one round trip, and one transaction even in
    autocommit): ``events`` event rows and ``texts`` free-text rows, the provenance and seal
    rows when asked, the summary and the report facts.

    Its values, in order: the gate's ``(case_id, expected_version, follows_hash)`` when
    ``follows``; each event row; each text row; the provenance row; the seal row; the
    summary row; the facts row.  Every insert happens only if the gate holds a row: the
    stored event the new ones follow is there with the hash this copy has (a new case: always),
    which is the same check as INSERT_EVENT_AFTER's, for all of the case's rows at once.  It
    returns the number of events inserted: 0 when the gate was empty (nothing was written);
    two writers at one version collide on the events' key (a unique violation, nothing
    written).  The CTEs see one snapshot, so a save that also deletes erased texts is not
    written this way (see :meth:`rjflow._eventstore.EventStore._write`)."""
    gate = (
        "SELECT 1 FROM rjflow_events WHERE case_id = %s AND sequence = %s AND hash = %s"
        if follows
        else "SELECT 1"
    )
    parts = [
        f"gate AS ({gate})",
        _insert("new_events", "rjflow_events", _EVENT_TYPES, events, "RETURNING 1"),
    ]
    if texts:
        parts.append(_insert("new_texts", "rjflow_texts", _TEXT_TYPES, texts))
    if provenance:
        parts.append(
            _insert(
                "provenance",
                "rjflow_migrations",
                _MIGRATION_TYPES,
                1,
                "ON CONFLICT (case_id) DO NOTHING",
            )
        )
    if seal:
        parts.append(_insert("seal", "rjflow_integrity", _INTEGRITY_TYPES, 1, _INTEGRITY_CONFLICT))
    parts.append(_insert("summary", "rjflow_summaries", _SUMMARY_TYPES, 1, _SUMMARY_CONFLICT))
    parts.append(_insert("facts", "rjflow_facts", _FACTS_TYPES, 1, _FACTS_CONFLICT))
    return "WITH " + ",\n".join(parts) + "\nSELECT count(*) FROM new_events"
