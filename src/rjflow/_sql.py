"""Every SQL statement the embedded store runs, in one place.

Kept apart from :mod:`rjflow.store` so that another backend (PostgreSQL, say) needs only its
own copy of this module's statements and the store's small connection layer.
"""

from __future__ import annotations

#: The store's own schema version, kept in ``rjflow_meta``.
STORE_SCHEMA_VERSION = 1

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
)

#: Issue 14 (late entry): stores made before ``occurred_at`` existed gain the column on open.
EVENT_COLUMNS = "SELECT name FROM pragma_table_info('rjflow_events')"
ADD_OCCURRED_AT = "ALTER TABLE rjflow_events ADD COLUMN occurred_at TEXT"

GET_META = "SELECT value FROM rjflow_meta WHERE key = ?"
PUT_META = "INSERT OR IGNORE INTO rjflow_meta (key, value) VALUES (?, ?)"

LAST_EVENT = (
    "SELECT sequence, hash FROM rjflow_events WHERE case_id = ? ORDER BY sequence DESC LIMIT 1"
)

INSERT_EVENT = """
    INSERT INTO rjflow_events
        (case_id, sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
         occurred_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

CASE_EVENTS = """
    SELECT sequence, at, actor, action, data, from_state, to_state, previous_hash, hash,
           occurred_at
    FROM rjflow_events WHERE case_id = ? ORDER BY sequence
"""

CASE_IDS = "SELECT DISTINCT case_id FROM rjflow_events ORDER BY case_id"

COUNT_EVENTS = "SELECT COUNT(*) FROM rjflow_events WHERE case_id = ?"
