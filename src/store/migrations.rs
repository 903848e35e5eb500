//! The schema, as an ordered list of migrations.
//!
//! **Invariant:** no partial indexes: a statement whose parameters meet a partial index's WHERE
//! clause is planned anew for every new value. `PRAGMA user_version` records how many have run;
//! opening a database runs the rest, each in its own transaction. Never edit a migration that has
//! shipped: add a new one.

/// PostgreSQL's schema, whole, as of the SQLite migrations' version [`PG_SCHEMA_VERSION`]: the
/// same tables, keys and invariants. A later SQLite migration needs its PostgreSQL twin beside it
/// (a test counts them).
pub(crate) const PG_SCHEMA: &str = include_str!("pg_schema.sql");
pub(crate) const PG_SCHEMA_VERSION: i64 = 6;

pub(crate) const MIGRATIONS: &[&str] = &[
    V1,
    V2_WEB,
    V3_RECORDS,
    V4_EVIDENCE,
    V5_OBLIGATIONS,
    V6_WORKSPACE,
    V7_LOG_IDS,
    V8_DIGESTS_INLINE,
    V9_RIGHTS,
    V10_STAFF_INFORMED,
    V11_RELATIONS,
    V12_DIARY,
    V13_PUBLICATIONS,
    V14_SIGN_IN,
    V15_BY_UNIT,
    V16_SHIFTS_COVERED,
];

/// PostgreSQL's twins of the SQLite migrations after [`PG_SCHEMA_VERSION`], in order.
pub(crate) const PG_MIGRATIONS: &[&str] = &[
    PG_V7_LOG_IDS,
    PG_V8_DIGESTS_INLINE,
    PG_V9_RIGHTS,
    PG_V10_STAFF_INFORMED,
    PG_V11_RELATIONS,
    PG_V12_DIARY,
    PG_V13_PUBLICATIONS,
    PG_V14_SIGN_IN,
    PG_V15_BY_UNIT,
    PG_V16_SHIFTS_COVERED,
];

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- The roster: the current state, plus history of every change.
CREATE TABLE roster_imports (
    id          INTEGER PRIMARY KEY,
    imported_at TEXT NOT NULL,
    units_file  TEXT NOT NULL,
    people_file TEXT NOT NULL,
    units       INTEGER NOT NULL,
    people      INTEGER NOT NULL,
    digest      TEXT NOT NULL
) STRICT;

CREATE TABLE units (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    parent_id  TEXT,
    removed_at TEXT
) STRICT;

CREATE TABLE people (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    home_unit   TEXT,
    -- How many units the person works at (several units: followed up specially).
    unit_count  INTEGER NOT NULL DEFAULT 1,
    active_from TEXT,
    active_to   TEXT,
    removed_at  TEXT
) STRICT;
CREATE INDEX people_active_to ON people(active_to);

CREATE TABLE person_units (
    person_id TEXT NOT NULL REFERENCES people(id),
    unit_id   TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (person_id, unit_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE person_roles (
    person_id TEXT NOT NULL REFERENCES people(id),
    role      TEXT NOT NULL,
    unit_id   TEXT NOT NULL,
    PRIMARY KEY (role, unit_id, person_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE accounts (
    system    TEXT NOT NULL,
    account   TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id),
    PRIMARY KEY (system, account)
) STRICT, WITHOUT ROWID;
CREATE INDEX accounts_by_person ON accounts(person_id);

-- One row per person and import in which the person changed: the whole person as JSON, or
-- {"removed":true}. Past rounds and coverage stay explainable after people leave.
CREATE TABLE person_history (
    person_id TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES roster_imports(id),
    record    TEXT NOT NULL,
    PRIMARY KEY (person_id, import_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE unit_history (
    unit_id   TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES roster_imports(id),
    record    TEXT NOT NULL,
    PRIMARY KEY (unit_id, import_id)
) STRICT, WITHOUT ROWID;

-- A role holder names a deputy for a period; tasks go to the deputy, escalations to the holder.
CREATE TABLE delegations (
    id         INTEGER PRIMARY KEY,
    holder_id  TEXT NOT NULL REFERENCES people(id),
    deputy_id  TEXT NOT NULL REFERENCES people(id),
    role       TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

-- Every compiled routine ever run, by the hash of its text; cases stay on their version.
CREATE TABLE routine_versions (
    hash          TEXT PRIMARY KEY,
    routine_id    TEXT NOT NULL,
    version       TEXT NOT NULL,
    path          TEXT NOT NULL,
    source        TEXT NOT NULL,
    registered_at TEXT NOT NULL
) STRICT;

-- How far each scheduled routine's occurrences have been handled.
CREATE TABLE schedule_state (
    routine_id      TEXT PRIMARY KEY,
    last_occurrence TEXT NOT NULL
) STRICT;

CREATE TABLE rounds (
    id           INTEGER PRIMARY KEY,
    routine_id   TEXT NOT NULL,
    routine_hash TEXT NOT NULL REFERENCES routine_versions(hash),
    occurrence   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    seed         TEXT NOT NULL,
    population   INTEGER NOT NULL,
    drawn        INTEGER NOT NULL,
    UNIQUE (routine_id, occurrence)
) STRICT;

-- Who was in each round's population and who was drawn, and why.
CREATE TABLE round_members (
    round_id  INTEGER NOT NULL REFERENCES rounds(id),
    person_id TEXT NOT NULL,
    unit_id   TEXT NOT NULL,
    account   TEXT NOT NULL,
    units     INTEGER NOT NULL,
    drawn     TEXT,
    PRIMARY KEY (round_id, person_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE case_counters (
    prefix TEXT NOT NULL,
    year   INTEGER NOT NULL,
    next   INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
) STRICT, WITHOUT ROWID;

CREATE TABLE cases (
    id                TEXT PRIMARY KEY,
    routine_id        TEXT NOT NULL,
    routine_hash      TEXT NOT NULL REFERENCES routine_versions(hash),
    kind              TEXT NOT NULL,
    system            TEXT NOT NULL,
    unit_id           TEXT NOT NULL,
    round_id          INTEGER REFERENCES rounds(id),
    subject_person_id TEXT,
    subject_account   TEXT,
    client_ref        TEXT,
    window_start      TEXT,
    window_end        TEXT,
    reason            TEXT,
    state             TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    opened_by         TEXT NOT NULL,
    closed_at         TEXT,
    result            TEXT,
    handed_out_at     TEXT,
    purged_at         TEXT,
    UNIQUE (round_id, subject_person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX cases_by_routine ON cases(routine_id, opened_at);
CREATE INDEX cases_open ON cases(closed_at);

-- One row per step a case has been in: who must answer, by when, and the answer.
CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    state        TEXT NOT NULL,
    role         TEXT NOT NULL,
    assignee_id  TEXT,
    holder_id    TEXT,
    started_at   TEXT NOT NULL,
    due_date     TEXT NOT NULL,
    answered_at  TEXT,
    outcome      TEXT,
    answered_by  TEXT,
    comment      TEXT,
    escalated_at TEXT
) STRICT;
CREATE INDEX tasks_by_case ON tasks(case_id);
CREATE INDEX tasks_by_assignee ON tasks(assignee_id, answered_at);

-- The next reminder or escalation of each open task, fired once; firing one schedules the next
-- (`ordinal` counts them in the task's plan).
CREATE TABLE timers (
    id       INTEGER PRIMARY KEY,
    task_id  INTEGER NOT NULL REFERENCES tasks(id),
    ordinal  INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    label    TEXT NOT NULL,
    fire_at  TEXT NOT NULL,
    fired_at TEXT
) STRICT;
CREATE INDEX timers_due ON timers(fired_at, fire_at);
CREATE INDEX timers_by_task ON timers(task_id);

-- The transactional outbox: written in the same transaction as the event that causes it. A row
-- keeps the template and the values it is rendered with (no client data); the sender renders
-- and delivers it, so retries send the same message under the same Message-ID.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    case_id         TEXT,
    task_id         INTEGER,
    recipient_id    TEXT,
    to_addr         TEXT NOT NULL,
    template        TEXT NOT NULL,
    context         TEXT NOT NULL,
    due_date        TEXT,
    -- queued, sent, failed; held (waiting for the recipient's daily digest) and digested;
    -- withdrawn (no longer true when it would have gone out, the reason in last_error).
    status          TEXT NOT NULL DEFAULT 'queued',
    digest_day      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT
) STRICT;
CREATE INDEX outbox_queued ON outbox(status, next_attempt_at);
CREATE INDEX outbox_by_case ON outbox(case_id);
CREATE INDEX outbox_by_recipient ON outbox(recipient_id, status);

-- The audit trail: append-only, hash-chained. Personal details live in audit_personal, outside
-- the chained fields, so a purge can erase them and the chain still verifies.
CREATE TABLE audit (
    seq             INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    event           TEXT NOT NULL,
    case_id         TEXT,
    round_id        INTEGER,
    data            TEXT NOT NULL,
    personal_digest TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_case ON audit(case_id);

CREATE TABLE audit_personal (
    seq  INTEGER PRIMARY KEY REFERENCES audit(seq),
    salt TEXT NOT NULL,
    data TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_personal_no_update BEFORE UPDATE ON audit_personal
BEGIN SELECT RAISE(ABORT, 'personal audit details are erased, never changed'); END;
"#;

/// Records: imported access logs, files written for cases, the yearly summaries sent, outbox
/// attachments and the anonymous counts a purge leaves behind. (Named for the records branch;
/// its place in the list is decided at merge.)
pub(crate) const V3_RECORDS: &str = r#"
-- One row per `logs import`; the SHA-256 of the file refuses importing the same file twice.
CREATE TABLE log_imports (
    id          INTEGER PRIMARY KEY,
    imported_at TEXT NOT NULL,
    file        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    rows        INTEGER NOT NULL
) STRICT;
CREATE INDEX log_imports_by_digest ON log_imports(digest);

-- The rows of one import and one system: a contiguous range of access_log ids, the span of
-- their event times and the retention (years after the event) they carry. This is the index of
-- the log: a letter scans only the ranges whose span meets its period, and the purge deletes by
-- range and time. Rows are only ever appended, so an import writes no index at all.
CREATE TABLE log_batches (
    import_id       INTEGER NOT NULL REFERENCES log_imports(id),
    system          TEXT NOT NULL,
    first_row       INTEGER NOT NULL,
    last_row        INTEGER NOT NULL,
    rows            INTEGER NOT NULL,
    oldest          INTEGER NOT NULL,
    newest          INTEGER NOT NULL,
    retention_years INTEGER NOT NULL,
    PRIMARY KEY (import_id, system)
) STRICT, WITHOUT ROWID;

-- Imported access-log rows, as validated. `at` is the event time in Unix seconds (UTC): a log
-- holds millions of rows, and an integer is a third of the RFC 3339 text. `subject_id` is the
-- client's personal identity number, 12 digits without `-`. No foreign key on import_id (a
-- lookup per row) and no secondary index (see log_batches).
CREATE TABLE access_log (
    id            INTEGER PRIMARY KEY,
    import_id     INTEGER NOT NULL,
    system        TEXT NOT NULL,
    log_id        TEXT NOT NULL,
    at            INTEGER NOT NULL,
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    user_title    TEXT NOT NULL,
    access_unit   TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    subject_unit  TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    purpose       TEXT NOT NULL
) STRICT;

-- Files written for a case (protocols, extract letters, their metadata), so that the purge can
-- delete them wherever they were written.
CREATE TABLE record_files (
    path       TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES cases(id),
    kind       TEXT NOT NULL,
    written_at TEXT NOT NULL
) STRICT;
CREATE INDEX record_files_by_case ON record_files(case_id);

-- The yearly summary of each routine: exactly once per routine and year.
CREATE TABLE summaries (
    routine_id  TEXT NOT NULL,
    year        INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    recipients  INTEGER NOT NULL,
    PRIMARY KEY (routine_id, year)
) STRICT, WITHOUT ROWID;

-- Files attached to an outbox message (the summary's HTML and CSV).
CREATE TABLE outbox_attachments (
    outbox_id    INTEGER NOT NULL REFERENCES outbox(id),
    position     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    PRIMARY KEY (outbox_id, position)
) STRICT, WITHOUT ROWID;

-- Anonymous counts of what a purge removed, by routine, system, unit, year and measure
-- (`cases`, `result:no_finding`, `late`, `population`, …), so that summaries of older years
-- still add up. `unit_id` '' is the routine as a whole (distinct users are not additive).
CREATE TABLE purged_counts (
    routine_id TEXT NOT NULL,
    system     TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    year       INTEGER NOT NULL,
    measure    TEXT NOT NULL,
    value      INTEGER NOT NULL,
    PRIMARY KEY (routine_id, system, unit_id, year, measure)
) STRICT, WITHOUT ROWID;

-- Routine years whose user figures (population, drawn, reviewed) were frozen into
-- purged_counts before their round members were deleted.
CREATE TABLE frozen_years (
    routine_id TEXT NOT NULL,
    year       INTEGER NOT NULL,
    frozen_at  TEXT NOT NULL,
    PRIMARY KEY (routine_id, year)
) STRICT, WITHOUT ROWID;
"#;

/// The web layer: local accounts of quality staff (argon2 hashes), their sessions (only a hash of
/// the cookie's token is stored) and failed logins per account and per client address, for
/// throttling.
const V2_WEB: &str = r#"
CREATE TABLE web_users (
    name                TEXT PRIMARY KEY,
    password_hash       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at       TEXT
) STRICT;

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX web_sessions_by_user ON web_sessions(user_name);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);

-- `key` is `user:NAME` or `addr:IP`; a run of failures locks the key until `locked_until`.
CREATE TABLE web_login_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until    TEXT NOT NULL
) STRICT;
"#;

/// The review workbench: the index of the access log (chunks of rows, and per chunk, system and
/// account a compact digest of each access, see `store::logindex`), the periods each import
/// covers, clients' names in the log, people's keyed personnummer hashes, judgements of single
/// accesses, the watch list, and what a round's windows were drawn from.
pub(crate) const V4_EVIDENCE: &str = r#"
-- The log's rows, narrow: the texts that repeat (system, account, name, title, units, action,
-- resource type, purpose) once each in `log_strings`, the client's 12 digits as a number, and
-- the client's name (RIV-TA patientName) when the export has one. Half the bytes of the rows as
-- text, so half the writing on import; `access_log_text` shows them as text.
CREATE TABLE log_strings (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
) STRICT;
INSERT INTO log_strings (text)
    SELECT system FROM access_log UNION SELECT user_id FROM access_log
    UNION SELECT user_name FROM access_log UNION SELECT user_title FROM access_log
    UNION SELECT access_unit FROM access_log UNION SELECT subject_unit FROM access_log
    UNION SELECT action FROM access_log UNION SELECT resource_type FROM access_log
    UNION SELECT purpose FROM access_log;
CREATE TABLE access_log_v4 (
    id            INTEGER PRIMARY KEY,
    import_id     INTEGER NOT NULL,
    system        INTEGER NOT NULL,
    log_id        TEXT NOT NULL,
    at            INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    user_name     INTEGER NOT NULL,
    user_title    INTEGER NOT NULL,
    access_unit   INTEGER NOT NULL,
    subject_id    INTEGER NOT NULL,
    subject_name  TEXT NOT NULL,
    subject_unit  INTEGER NOT NULL,
    action        INTEGER NOT NULL,
    resource_type INTEGER NOT NULL,
    purpose       INTEGER NOT NULL
) STRICT;
INSERT INTO access_log_v4
    SELECT a.id, a.import_id,
        (SELECT id FROM log_strings WHERE text = a.system), a.log_id, a.at,
        (SELECT id FROM log_strings WHERE text = a.user_id),
        (SELECT id FROM log_strings WHERE text = a.user_name),
        (SELECT id FROM log_strings WHERE text = a.user_title),
        (SELECT id FROM log_strings WHERE text = a.access_unit),
        CAST(a.subject_id AS INTEGER), '',
        (SELECT id FROM log_strings WHERE text = a.subject_unit),
        (SELECT id FROM log_strings WHERE text = a.action),
        (SELECT id FROM log_strings WHERE text = a.resource_type),
        (SELECT id FROM log_strings WHERE text = a.purpose)
    FROM access_log a ORDER BY a.id;
DROP TABLE access_log;
ALTER TABLE access_log_v4 RENAME TO access_log;
CREATE VIEW access_log_text AS
    SELECT a.id, a.import_id, sy.text AS system, a.log_id, a.at, us.text AS user_id,
        un.text AS user_name, ut.text AS user_title, au.text AS access_unit,
        printf('%012d', a.subject_id) AS subject_id, a.subject_name, su.text AS subject_unit,
        ac.text AS action, rt.text AS resource_type, pu.text AS purpose
    FROM access_log a
    JOIN log_strings sy ON sy.id = a.system JOIN log_strings us ON us.id = a.user_id
    JOIN log_strings un ON un.id = a.user_name JOIN log_strings ut ON ut.id = a.user_title
    JOIN log_strings au ON au.id = a.access_unit JOIN log_strings su ON su.id = a.subject_unit
    JOIN log_strings ac ON ac.id = a.action JOIN log_strings rt ON rt.id = a.resource_type
    JOIN log_strings pu ON pu.id = a.purpose;

-- The rows of the log in chunks of consecutive ids, each with the span of its event times.
CREATE TABLE log_chunks (
    first_row INTEGER PRIMARY KEY,
    last_row  INTEGER NOT NULL,
    import_id INTEGER NOT NULL,
    rows      INTEGER NOT NULL,
    oldest    INTEGER NOT NULL,
    newest    INTEGER NOT NULL
) STRICT;

-- Per chunk, system and account: every access of the account in the chunk, encoded (row id,
-- time, client, units, action, the client's surnames, a hash of log_id). What the review's
-- rules read, without touching the rows themselves.
CREATE TABLE log_digests (
    chunk   INTEGER NOT NULL,
    system  TEXT NOT NULL,
    account TEXT NOT NULL,
    rows    INTEGER NOT NULL,
    oldest  INTEGER NOT NULL,
    newest  INTEGER NOT NULL,
    digest  BLOB NOT NULL,
    PRIMARY KEY (chunk, system, account)
) STRICT, WITHOUT ROWID;

-- The period an import covers for a system (Unix seconds, [from, to)): given on import, or the
-- whole local days from its first to its last event.
CREATE TABLE log_coverage (
    import_id   INTEGER NOT NULL,
    system      TEXT NOT NULL,
    covers_from INTEGER NOT NULL,
    covers_to   INTEGER NOT NULL,
    PRIMARY KEY (import_id, system)
) STRICT, WITHOUT ROWID;

-- Who has held each account, kept after they leave the roster (the `accounts` table holds only
-- the people in it now): the review tells an account of someone who left from one of nobody.
CREATE TABLE account_holders (
    system    TEXT NOT NULL,
    account   TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (system, account)
) STRICT, WITHOUT ROWID;
INSERT OR REPLACE INTO account_holders (system, account, person_id)
    SELECT json_extract(a.value, '$.system'), json_extract(a.value, '$.account'), h.person_id
    FROM person_history h, json_each(h.record, '$.accounts') a
    WHERE json_valid(h.record) AND json_extract(a.value, '$.system') IS NOT NULL
      AND json_extract(a.value, '$.account') IS NOT NULL
    ORDER BY h.import_id;

-- A person's own personnummer, only as an HMAC under the installation's `person_key`.
ALTER TABLE people ADD COLUMN personnummer_hash TEXT;
CREATE INDEX people_by_personnummer ON people(personnummer_hash);

-- The highest access_log id a round's windows were drawn from (NULL: drawn without the log), so
-- that a redraw sees the same log.
ALTER TABLE rounds ADD COLUMN log_horizon INTEGER;
-- A member's further accounts in the routine's system, `;`-separated (NULL: only `account`).
ALTER TABLE round_members ADD COLUMN other_accounts TEXT;
-- The systems a case reviews, `;`-separated (NULL: `system` alone).
ALTER TABLE cases ADD COLUMN systems TEXT;

-- The reviewer's judgement of one access of a case's evidence; personal, purged with the case.
CREATE TABLE judgements (
    case_id    TEXT NOT NULL REFERENCES cases(id),
    system     TEXT NOT NULL,
    log_id     TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    judged_by  TEXT NOT NULL,
    judged_at  TEXT NOT NULL,
    comment    TEXT,
    PRIMARY KEY (case_id, system, log_id)
) STRICT, WITHOUT ROWID;

-- What a case's review looked at when it closed (the protocol's account of its evidence, as
-- JSON); personal, purged with the case.
CREATE TABLE evidence_snapshots (
    case_id  TEXT PRIMARY KEY REFERENCES cases(id),
    taken_at TEXT NOT NULL,
    data     TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Clients whose records call for attention. Client and reason go when the entry has expired
-- (`purged_at`); the entry itself stays as a record.
CREATE TABLE watch_list (
    id         INTEGER PRIMARY KEY,
    client     TEXT,
    reason     TEXT,
    added_by   TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    until      TEXT,
    removed_by TEXT,
    removed_at TEXT,
    purged_at  TEXT
) STRICT;
"#;

/// The seeds' obligations (issue 13): the client's name and address for the extract letter
/// (personal, purged with the case), who is waiting to be informed of log checks, and the
/// access-rights reviews' decisions per account.
pub(crate) const V5_OBLIGATIONS: &str = r#"
ALTER TABLE cases ADD COLUMN client_name TEXT;
ALTER TABLE cases ADD COLUMN client_address TEXT;

-- People who got an account in a system since the first roster import, waiting for their
-- information case (a routine of kind `information`); the row goes when the case is opened.
CREATE TABLE information_due (
    person_id  TEXT NOT NULL,
    system     TEXT NOT NULL,
    noticed_at TEXT NOT NULL,
    PRIMARY KEY (person_id, system)
) STRICT, WITHOUT ROWID;

-- An access-rights review's decision per account: `keep` (behålls) or `end` (avslutas,
-- ordered). Who and when are the review's record; purged with the case.
CREATE TABLE account_decisions (
    case_id    TEXT NOT NULL REFERENCES cases(id),
    system     TEXT NOT NULL,
    account    TEXT NOT NULL,
    decision   TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    comment    TEXT,
    PRIMARY KEY (case_id, system, account)
) STRICT, WITHOUT ROWID;
"#;

/// The quality staff's workspace: roles of web accounts, and the generation of a step's link
/// (sending the link again from the overview moves it on, and older links stop working).
pub(crate) const V6_WORKSPACE: &str = r#"
ALTER TABLE web_users ADD COLUMN role TEXT NOT NULL DEFAULT 'quality'
    CHECK (role IN ('admin', 'quality', 'reader'));
ALTER TABLE tasks ADD COLUMN link_generation INTEGER NOT NULL DEFAULT 0;
"#;

/// Every stored access's `(system, log_id)`, by a 64-bit hash of the two ([`super::records::log_id_key`]),
/// with its row and the line of the file it came from: an import refuses a `log_id` already
/// stored with other content, and counts one stored with the same as already present. Filled
/// for the rows already stored when it is made (their line unknown: 0). A key whose row was
/// purged counts as free.
pub(crate) const V7_LOG_IDS: &str = r#"
CREATE TABLE log_ids (
    key        INTEGER PRIMARY KEY,
    access_row INTEGER NOT NULL,
    line       INTEGER NOT NULL
) STRICT;
"#;

/// PostgreSQL's twin of [`V7_LOG_IDS`].
pub(crate) const PG_V7_LOG_IDS: &str = r#"
CREATE TABLE log_ids (
    key        BIGINT PRIMARY KEY,
    access_row BIGINT NOT NULL,
    line       BIGINT NOT NULL
);
"#;

/// The digests in a table with row ids. In a `WITHOUT ROWID` table a blob over about 1,000
/// bytes leaves all but its first 489 bytes on an overflow page of its own, so a digest of
/// 1.3 kB took two pages: the index took half the bytes an import wrote. In a rowid table a
/// blob up to 4 kB stays on the leaf, several to a page; the key is a unique index beside it.
pub(crate) const V8_DIGESTS_INLINE: &str = r#"
CREATE TABLE log_digests_v8 (
    id      INTEGER PRIMARY KEY,
    chunk   INTEGER NOT NULL,
    system  TEXT NOT NULL,
    account TEXT NOT NULL,
    rows    INTEGER NOT NULL,
    oldest  INTEGER NOT NULL,
    newest  INTEGER NOT NULL,
    digest  BLOB NOT NULL,
    UNIQUE (chunk, system, account)
) STRICT;
-- A chunk's digests have the ids chunk * 2^20 + their place in key order
-- (`logindex::digest_ids`), so that reading a chunk is a range of row ids.
INSERT INTO log_digests_v8 (id, chunk, system, account, rows, oldest, newest, digest)
    SELECT chunk * 1048576 + ROW_NUMBER() OVER (PARTITION BY chunk ORDER BY system, account) - 1,
           chunk, system, account, rows, oldest, newest, digest FROM log_digests
    ORDER BY chunk, system, account;
DROP TABLE log_digests;
ALTER TABLE log_digests_v8 RENAME TO log_digests;
-- What the access-rights review counts per account, without reading a digest.
CREATE INDEX log_digests_by_account ON log_digests(system, account, rows, newest);
"#;

/// PostgreSQL's twin of [`V8_DIGESTS_INLINE`]: the same columns (so that `migrate` copies the
/// table), the storage unchanged (a large `bytea` is kept apart by TOAST, not on a page of its
/// own per row).
pub(crate) const PG_V8_DIGESTS_INLINE: &str = r#"
ALTER TABLE log_digests ADD COLUMN id BIGINT;
UPDATE log_digests d SET id = x.id FROM (
    SELECT chunk, system, account,
           chunk * 1048576 + ROW_NUMBER() OVER (PARTITION BY chunk ORDER BY system, account) - 1 AS id
    FROM log_digests) x
WHERE d.chunk = x.chunk AND d.system = x.system AND d.account = x.account;
CREATE INDEX log_digests_by_id ON log_digests(id);
CREATE INDEX log_digests_by_account ON log_digests(system, account, rows, newest);
"#;

/// The needs-and-risk analysis (*behovs- och riskanalys*): every import a version, kept; the
/// analysis in force is the latest version's rows. People get their job title.
pub(crate) const V9_RIGHTS: &str = r#"
ALTER TABLE people ADD COLUMN title TEXT;
CREATE TABLE rights_versions (
    id          INTEGER PRIMARY KEY,
    imported_at TEXT NOT NULL,
    file        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    digest      TEXT NOT NULL
) STRICT;
CREATE TABLE rights_needs (
    version    INTEGER NOT NULL REFERENCES rights_versions(id),
    line       INTEGER NOT NULL,
    unit_id    TEXT NOT NULL,
    title      TEXT NOT NULL,
    title_key  TEXT NOT NULL,
    system     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    risk       TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    PRIMARY KEY (version, unit_id, title_key, system)
) STRICT;
"#;

/// PostgreSQL's twin of [`V9_RIGHTS`].
pub(crate) const PG_V9_RIGHTS: &str = r#"
ALTER TABLE people ADD COLUMN title TEXT COLLATE "C";
CREATE TABLE rights_versions (
    id          BIGINT PRIMARY KEY,
    imported_at TEXT COLLATE "C" NOT NULL,
    file        TEXT COLLATE "C" NOT NULL,
    actor       TEXT COLLATE "C" NOT NULL,
    rows        BIGINT NOT NULL,
    digest      TEXT COLLATE "C" NOT NULL
);
CREATE TABLE rights_needs (
    version    BIGINT NOT NULL REFERENCES rights_versions(id),
    line       BIGINT NOT NULL,
    unit_id    TEXT COLLATE "C" NOT NULL,
    title      TEXT COLLATE "C" NOT NULL,
    title_key  TEXT COLLATE "C" NOT NULL,
    system     TEXT COLLATE "C" NOT NULL,
    scope      TEXT COLLATE "C" NOT NULL,
    risk       TEXT COLLATE "C" NOT NULL,
    decided_by TEXT COLLATE "C" NOT NULL,
    decided_on TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (version, unit_id, title_key, system)
);
"#;

/// All staff informed: a unit whose staff are to be told that access is logged and checked (at
/// go-live for every routine, and when the holder of a routine's role changes, from the new
/// holder's first day) waits in `information_units_due` until the tick opens its case; the case
/// lists the unit's people in `case_staff`, each ticked when informed, with when they had been
/// informed before (so that an undone tick restores it; the list is the case's record: purged
/// with it). `staff_informed` keeps, per routine and person, when they were last
/// informed, after the case is purged, while they are in the roster: the summary counts from it.
pub(crate) const V10_STAFF_INFORMED: &str = r#"
CREATE TABLE information_units_due (
    unit_id    TEXT NOT NULL,
    role       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    not_before TEXT,
    noticed_at TEXT NOT NULL,
    PRIMARY KEY (unit_id, role)
) STRICT, WITHOUT ROWID;
CREATE TABLE case_staff (
    case_id     TEXT NOT NULL REFERENCES cases(id),
    person_id   TEXT NOT NULL,
    informed_by TEXT,
    informed_at TEXT,
    earlier_at  TEXT,
    PRIMARY KEY (case_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX case_staff_by_person ON case_staff(person_id);
CREATE TABLE staff_informed (
    routine_id  TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    informed_at TEXT NOT NULL,
    PRIMARY KEY (routine_id, person_id)
) STRICT, WITHOUT ROWID;
INSERT INTO staff_informed (routine_id, person_id, informed_at)
SELECT routine_id, subject_person_id, MAX(closed_at) FROM cases
WHERE kind = 'information' AND result = 'informed' AND subject_person_id IS NOT NULL
  AND closed_at IS NOT NULL
GROUP BY routine_id, subject_person_id;
"#;

/// PostgreSQL's twin of [`V10_STAFF_INFORMED`].
pub(crate) const PG_V10_STAFF_INFORMED: &str = r#"
CREATE TABLE information_units_due (
    unit_id    TEXT COLLATE "C" NOT NULL,
    role       TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C" NOT NULL,
    not_before TEXT COLLATE "C",
    noticed_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (unit_id, role)
);
CREATE TABLE case_staff (
    case_id     TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    person_id   TEXT COLLATE "C" NOT NULL,
    informed_by TEXT COLLATE "C",
    informed_at TEXT COLLATE "C",
    earlier_at  TEXT COLLATE "C",
    PRIMARY KEY (case_id, person_id)
);
CREATE INDEX case_staff_by_person ON case_staff(person_id);
CREATE TABLE staff_informed (
    routine_id  TEXT COLLATE "C" NOT NULL,
    person_id   TEXT COLLATE "C" NOT NULL,
    informed_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (routine_id, person_id)
);
INSERT INTO staff_informed (routine_id, person_id, informed_at)
SELECT routine_id, subject_person_id, MAX(closed_at) FROM cases
WHERE kind = 'information' AND result = 'informed' AND subject_person_id IS NOT NULL
  AND closed_at IS NOT NULL
GROUP BY routine_id, subject_person_id;
"#;

/// What explains an access besides the log itself (issue 26): care relationships (a client's
/// insats, beslut or vårdkontakt with a unit, or a named person such as the ansvarig
/// handläggare), from `relations import`, and work shifts from the staffing system, from
/// `shifts import`. The client is the log's: the 12 digits as a number. Dates of a relationship
/// are local days, both included (`to` NULL: ongoing); a shift is Unix seconds `[start, end)`.
/// An import adds rows and updates the end of rows already there (keyed as below): an export
/// of this month does not forget last month's.
pub(crate) const V11_RELATIONS: &str = r#"
CREATE TABLE care_relations (
    system    TEXT NOT NULL,
    client    INTEGER NOT NULL,
    unit_id   TEXT NOT NULL,
    person_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    from_day  TEXT NOT NULL,
    to_day    TEXT,
    import_id INTEGER NOT NULL,
    PRIMARY KEY (client, system, unit_id, person_id, kind, from_day)
) STRICT, WITHOUT ROWID;
CREATE TABLE work_shifts (
    person_id TEXT NOT NULL,
    start_at  INTEGER NOT NULL,
    unit_id   TEXT NOT NULL,
    end_at    INTEGER NOT NULL,
    import_id INTEGER NOT NULL,
    PRIMARY KEY (person_id, start_at, unit_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX work_shifts_by_start ON work_shifts(start_at);
CREATE TABLE context_imports (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    file        TEXT NOT NULL,
    system      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    added       INTEGER NOT NULL,
    digest      TEXT NOT NULL
) STRICT;
"#;

/// PostgreSQL's twin of [`V11_RELATIONS`].
pub(crate) const PG_V11_RELATIONS: &str = r#"
CREATE TABLE care_relations (
    system    TEXT COLLATE "C" NOT NULL,
    client    BIGINT NOT NULL,
    unit_id   TEXT COLLATE "C" NOT NULL,
    person_id TEXT COLLATE "C" NOT NULL,
    kind      TEXT COLLATE "C" NOT NULL,
    from_day  TEXT COLLATE "C" NOT NULL,
    to_day    TEXT COLLATE "C",
    import_id BIGINT NOT NULL,
    PRIMARY KEY (client, system, unit_id, person_id, kind, from_day)
);
CREATE TABLE work_shifts (
    person_id TEXT COLLATE "C" NOT NULL,
    start_at  BIGINT NOT NULL,
    unit_id   TEXT COLLATE "C" NOT NULL,
    end_at    BIGINT NOT NULL,
    import_id BIGINT NOT NULL,
    PRIMARY KEY (person_id, start_at, unit_id)
);
CREATE INDEX work_shifts_by_start ON work_shifts(start_at);
CREATE TABLE context_imports (
    id          BIGINT PRIMARY KEY,
    kind        TEXT COLLATE "C" NOT NULL,
    file        TEXT COLLATE "C" NOT NULL,
    system      TEXT COLLATE "C" NOT NULL,
    actor       TEXT COLLATE "C" NOT NULL,
    imported_at TEXT COLLATE "C" NOT NULL,
    rows        BIGINT NOT NULL,
    added       BIGINT NOT NULL,
    digest      TEXT COLLATE "C" NOT NULL
);
"#;

/// The case's number in the organisation's diary (*diarienummer*), set by quality staff: shown
/// in the protocol, the letter and `arende.json`, and searchable.
pub(crate) const V12_DIARY: &str = r#"
ALTER TABLE cases ADD COLUMN diary_number TEXT;
"#;

/// PostgreSQL's twin of [`V12_DIARY`].
pub(crate) const PG_V12_DIARY: &str = r#"
ALTER TABLE cases ADD COLUMN diary_number TEXT COLLATE "C";
"#;

/// Every version of a routine or an email template published from the overview's workshop: its
/// text, who published it, when and why, and the text the edit started from.
pub(crate) const V13_PUBLICATIONS: &str = r#"
CREATE TABLE publications (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL,
    base_hash    TEXT,
    path         TEXT NOT NULL,
    source       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    published_at TEXT NOT NULL
) STRICT;
CREATE INDEX publications_by_name ON publications(kind, name);
"#;

/// PostgreSQL's twin of [`V13_PUBLICATIONS`].
pub(crate) const PG_V13_PUBLICATIONS: &str = r#"
CREATE TABLE publications (
    id           BIGINT PRIMARY KEY,
    kind         TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    hash         TEXT COLLATE "C" NOT NULL,
    base_hash    TEXT COLLATE "C",
    path         TEXT COLLATE "C" NOT NULL,
    source       TEXT COLLATE "C" NOT NULL,
    actor        TEXT COLLATE "C" NOT NULL,
    reason       TEXT COLLATE "C" NOT NULL,
    published_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX publications_by_name ON publications(kind, name);
"#;

/// Signing in through the organisation's identity provider (OpenID Connect) and a second factor
/// for local accounts (TOTP, recovery codes).
pub(crate) const V14_SIGN_IN: &str = r#"
-- A login begun at the identity provider, waiting for its answer: the hash of its `state`, the
-- nonce and the PKCE verifier the answer is checked with. Used once, then gone.
CREATE TABLE web_oidc_logins (
    state_hash TEXT PRIMARY KEY,
    nonce      TEXT NOT NULL,
    verifier   TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
-- The ID token a session began with, for ending the session at the provider too.
ALTER TABLE web_sessions ADD COLUMN id_token TEXT;
-- `local` (a password, perhaps a second factor) or `oidc` (signs in at the provider only), and
-- for `oidc` the person at the provider it belongs to (`ISSUER SUBJECT`), bound at the first login.
ALTER TABLE web_users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE web_users ADD COLUMN oidc_subject TEXT;
ALTER TABLE web_users ADD COLUMN totp_secret TEXT;
ALTER TABLE web_users ADD COLUMN totp_last_step INTEGER;
CREATE TABLE web_recovery_codes (
    user_name TEXT NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_name, code_hash)
) STRICT;
-- A password accepted and the second factor awaited (or its enrolment).
CREATE TABLE web_pending_logins (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    secret     TEXT
) STRICT;
"#;

/// PostgreSQL's twin of [`V14_SIGN_IN`].
pub(crate) const PG_V14_SIGN_IN: &str = r#"
CREATE TABLE web_oidc_logins (
    state_hash TEXT COLLATE "C" PRIMARY KEY,
    nonce      TEXT COLLATE "C" NOT NULL,
    verifier   TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
ALTER TABLE web_sessions ADD COLUMN id_token TEXT COLLATE "C";
ALTER TABLE web_users ADD COLUMN source TEXT COLLATE "C" NOT NULL DEFAULT 'local';
ALTER TABLE web_users ADD COLUMN oidc_subject TEXT COLLATE "C";
ALTER TABLE web_users ADD COLUMN totp_secret TEXT COLLATE "C";
ALTER TABLE web_users ADD COLUMN totp_last_step BIGINT;
CREATE TABLE web_recovery_codes (
    user_name TEXT COLLATE "C" NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    code_hash TEXT COLLATE "C" NOT NULL,
    used_at   TEXT COLLATE "C",
    PRIMARY KEY (user_name, code_hash)
);
CREATE TABLE web_pending_logins (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_name  TEXT COLLATE "C" NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    created_at TEXT COLLATE "C" NOT NULL,
    secret     TEXT COLLATE "C"
);
"#;

/// A unit's people, and a person's remembered accounts, found without reading every person:
/// the access-rights review (`store::access::holders`) and a unit's staff list
/// (`store::information::unit_staff`) read them for one unit at a time, and each read all
/// 25,000 people of a large organisation (issue 30: 13 % of a simulated year's time).
pub(crate) const V15_BY_UNIT: &str = r#"
CREATE INDEX people_by_home_unit ON people(home_unit);
CREATE INDEX account_holders_by_person ON account_holders(person_id);
"#;

/// PostgreSQL's twin of [`V15_BY_UNIT`].
pub(crate) const PG_V15_BY_UNIT: &str = V15_BY_UNIT;

/// Everyone's shifts of a period (the radar, `logs explained`) are read from the index by start
/// alone, without a look into the table for each shift's end: a month of a large organisation
/// is 150,000 shifts.
pub(crate) const V16_SHIFTS_COVERED: &str = r#"
DROP INDEX work_shifts_by_start;
CREATE INDEX work_shifts_by_start ON work_shifts(start_at, end_at);
"#;

/// PostgreSQL's twin of [`V16_SHIFTS_COVERED`]: its index holds the other columns the radar reads
/// (a SQLite index of a `WITHOUT ROWID` table carries the key's columns by itself).
pub(crate) const PG_V16_SHIFTS_COVERED: &str = r#"
DROP INDEX work_shifts_by_start;
CREATE INDEX work_shifts_by_start ON work_shifts(start_at, end_at) INCLUDE (person_id, unit_id);
"#;
