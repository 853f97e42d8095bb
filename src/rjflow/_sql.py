"""Every SQL statement the embedded store runs, in one place.

Kept apart from :mod:`rjflow.store` so that another backend (PostgreSQL, say) needs only its
own copy of this module's statements and the store's small connection layer.
"""

from __future__ import annotations

#: The store's own schema version, kept in ``rjflow_meta``.
#: 2: free text kept in ``rjflow_texts``, beside the hashed events, so that it can be erased.
STORE_SCHEMA_VERSION = 2

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
)

#: The tables the store needs; opening a store that has them takes no write lock.
TABLE_NAMES = frozenset(
    {"rjflow_meta", "rjflow_events", "rjflow_texts", "rjflow_integrity", "rjflow_migrations"}
)

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"

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
