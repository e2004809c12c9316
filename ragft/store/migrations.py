"""The class database's schema, as an ordered list of migration steps.

Step ``n`` (1-based) brings a database from ``PRAGMA user_version = n - 1`` to ``n``. A step is only ever
appended, never edited once released: an existing database replays the steps it has not seen yet.
Money is stored as decimal text (``"0.0123"``), times as Unix seconds (``REAL``).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: workspaces, spend and in-flight reservations (the budget).
    """
    CREATE TABLE workspaces (
        id        TEXT PRIMARY KEY,
        number    INTEGER NOT NULL UNIQUE,
        label     TEXT NOT NULL,
        created   REAL NOT NULL,
        last_seen REAL NOT NULL,
        deleted   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX workspaces_last_seen ON workspaces(last_seen);
    CREATE TABLE spend (
        scope   TEXT PRIMARY KEY,          -- '*' for the whole app, else a workspace id
        spent   TEXT NOT NULL DEFAULT '0',
        calls   INTEGER NOT NULL DEFAULT 0,
        updated REAL NOT NULL
    );
    CREATE TABLE reservations (
        id           TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        amount       TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        t            REAL NOT NULL
    );
    CREATE INDEX reservations_ws ON reservations(workspace_id);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: per-workspace caps and the class records (votes, evaluation summaries, activity).
    """
    CREATE TABLE budget_caps (
        workspace_id    TEXT PRIMARY KEY,
        own_cap         TEXT,              -- lowered by the participant (never above the facilitator's)
        facilitator_cap TEXT,              -- set by the facilitator for this workspace (wins over the default)
        updated         REAL NOT NULL
    );
    CREATE TABLE votes (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace_id  TEXT NOT NULL,
        comparison_id TEXT NOT NULL,
        winner        TEXT NOT NULL,
        shown         TEXT NOT NULL,       -- configuration keys shown in the round, comma-separated
        question      TEXT NOT NULL DEFAULT '',
        t             REAL NOT NULL,
        UNIQUE (workspace_id, comparison_id)
    );
    CREATE TABLE eval_summaries (
        run_id        TEXT NOT NULL,
        workspace_id  TEXT NOT NULL,
        configuration TEXT NOT NULL,
        question_set  TEXT NOT NULL DEFAULT '',
        questions     INTEGER NOT NULL,
        errors        INTEGER NOT NULL,
        fact_accuracy REAL NOT NULL,
        style         REAL,
        hit_at_k      REAL,
        cost          TEXT,
        summary_json  TEXT NOT NULL,
        t             REAL NOT NULL,
        PRIMARY KEY (run_id, configuration)
    );
    CREATE INDEX eval_summaries_ws ON eval_summaries(workspace_id);
    CREATE TABLE questions (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace_id TEXT NOT NULL,
        question     TEXT NOT NULL,
        page         TEXT NOT NULL DEFAULT '',
        t            REAL NOT NULL
    );
    CREATE INDEX questions_ws ON questions(workspace_id);
    CREATE TABLE running (
        run_id       TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        kind         TEXT NOT NULL,        -- 'comparison', 'evaluation', 'ingest'...
        detail       TEXT NOT NULL DEFAULT '',
        started      REAL NOT NULL,
        heartbeat    REAL NOT NULL,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL
    );
    CREATE INDEX running_ws ON running(workspace_id);
    """,
    # 3: who paid. Spend is kept per payer ('server': the facilitator's key, 'own': the participant's,
    # 'hypothetical': a price given to a free call); the rows of before were counted against the facilitator's
    # caps, so they become 'server'. A reservation knows its payer and how long it may be held; the budget's
    # resets and other events are kept.
    """
    CREATE TABLE spend_by_payer (
        scope   TEXT NOT NULL,             -- '*' for the whole app, else a workspace id
        payer   TEXT NOT NULL DEFAULT 'server',
        spent   TEXT NOT NULL DEFAULT '0',
        calls   INTEGER NOT NULL DEFAULT 0,
        updated REAL NOT NULL,
        PRIMARY KEY (scope, payer)
    );
    INSERT INTO spend_by_payer (scope, payer, spent, calls, updated)
        SELECT scope, 'server', spent, calls, updated FROM spend;
    DROP TABLE spend;
    ALTER TABLE spend_by_payer RENAME TO spend;
    ALTER TABLE reservations ADD COLUMN payer TEXT NOT NULL DEFAULT 'server';
    ALTER TABLE reservations ADD COLUMN expires REAL;  -- NULL: t + the budget's stale_after_s
    CREATE TABLE budget_events (
        id     INTEGER PRIMARY KEY AUTOINCREMENT,
        kind   TEXT NOT NULL,              -- 'reset_app', 'reset_workspace'
        scope  TEXT NOT NULL,
        payer  TEXT NOT NULL DEFAULT '',
        amount TEXT NOT NULL DEFAULT '0',  -- what the reset cleared
        note   TEXT NOT NULL DEFAULT '',
        t      REAL NOT NULL
    );
    """,
    # 4: join codes issued per participant. A code admits one new workspace: claiming it (the check, the room's
    # seats, the new workspace and the claim) is one transaction. Rows outlive their workspace, so a code stays used.
    """
    CREATE TABLE join_codes (
        code         TEXT PRIMARY KEY,      -- normalised: upper case, no separators
        note         TEXT NOT NULL DEFAULT '',
        created      REAL NOT NULL,
        claimed      REAL,                  -- NULL: not used yet
        workspace_id TEXT,                  -- the workspace it admitted
        revoked      INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX join_codes_ws ON join_codes(workspace_id);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
