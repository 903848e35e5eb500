-- The schema on PostgreSQL, as of the SQLite migrations' version 6 (`store::migrations`):
-- the same tables, keys and invariants. Integers are BIGINT, text sorts bytewise ("C") as in
-- SQLite, and the audit trail is append-only by triggers.

CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
CREATE TABLE roster_imports (
    id          BIGINT PRIMARY KEY,
    imported_at TEXT COLLATE "C" NOT NULL,
    units_file  TEXT COLLATE "C" NOT NULL,
    people_file TEXT COLLATE "C" NOT NULL,
    units       BIGINT NOT NULL,
    people      BIGINT NOT NULL,
    digest      TEXT COLLATE "C" NOT NULL
);
CREATE TABLE units (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    parent_id  TEXT COLLATE "C",
    removed_at TEXT COLLATE "C"
);
CREATE TABLE people (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    email       TEXT COLLATE "C" NOT NULL,
    home_unit   TEXT COLLATE "C",
    -- How many units the person works at (several units: followed up specially).
    unit_count  BIGINT NOT NULL DEFAULT 1,
    active_from TEXT COLLATE "C",
    active_to   TEXT COLLATE "C",
    removed_at  TEXT COLLATE "C"
,
    personnummer_hash TEXT COLLATE "C"
);
CREATE INDEX people_active_to ON people(active_to);
CREATE TABLE person_units (
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    unit_id   TEXT COLLATE "C" NOT NULL,
    position  BIGINT NOT NULL,
    PRIMARY KEY (person_id, unit_id)
);
CREATE TABLE person_roles (
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    role      TEXT COLLATE "C" NOT NULL,
    unit_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (role, unit_id, person_id)
);
CREATE TABLE accounts (
    system    TEXT COLLATE "C" NOT NULL,
    account   TEXT COLLATE "C" NOT NULL,
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    PRIMARY KEY (system, account)
);
CREATE INDEX accounts_by_person ON accounts(person_id);
CREATE TABLE person_history (
    person_id TEXT COLLATE "C" NOT NULL,
    import_id BIGINT NOT NULL REFERENCES roster_imports(id),
    record    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person_id, import_id)
);
CREATE TABLE unit_history (
    unit_id   TEXT COLLATE "C" NOT NULL,
    import_id BIGINT NOT NULL REFERENCES roster_imports(id),
    record    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (unit_id, import_id)
);
CREATE TABLE delegations (
    id         BIGINT PRIMARY KEY,
    holder_id  TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    deputy_id  TEXT COLLATE "C" NOT NULL REFERENCES people(id),
    role       TEXT COLLATE "C" NOT NULL,
    valid_from TEXT COLLATE "C" NOT NULL,
    valid_to   TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT COLLATE "C"
);
CREATE TABLE routine_versions (
    hash          TEXT COLLATE "C" PRIMARY KEY,
    routine_id    TEXT COLLATE "C" NOT NULL,
    version       TEXT COLLATE "C" NOT NULL,
    path          TEXT COLLATE "C" NOT NULL,
    source        TEXT COLLATE "C" NOT NULL,
    registered_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE schedule_state (
    routine_id      TEXT COLLATE "C" PRIMARY KEY,
    last_occurrence TEXT COLLATE "C" NOT NULL
);
CREATE TABLE rounds (
    id           BIGINT PRIMARY KEY,
    routine_id   TEXT COLLATE "C" NOT NULL,
    routine_hash TEXT COLLATE "C" NOT NULL REFERENCES routine_versions(hash),
    occurrence   TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    seed         TEXT COLLATE "C" NOT NULL,
    population   BIGINT NOT NULL,
    drawn        BIGINT NOT NULL, log_horizon BIGINT,
    UNIQUE (routine_id, occurrence)
);
CREATE TABLE round_members (
    round_id  BIGINT NOT NULL REFERENCES rounds(id),
    person_id TEXT COLLATE "C" NOT NULL,
    unit_id   TEXT COLLATE "C" NOT NULL,
    account   TEXT COLLATE "C" NOT NULL,
    units     BIGINT NOT NULL,
    drawn     TEXT COLLATE "C", other_accounts TEXT COLLATE "C",
    PRIMARY KEY (round_id, person_id)
);
CREATE TABLE case_counters (
    prefix TEXT COLLATE "C" NOT NULL,
    year   BIGINT NOT NULL,
    next   BIGINT NOT NULL,
    PRIMARY KEY (prefix, year)
);
CREATE TABLE cases (
    id                TEXT COLLATE "C" PRIMARY KEY,
    routine_id        TEXT COLLATE "C" NOT NULL,
    routine_hash      TEXT COLLATE "C" NOT NULL REFERENCES routine_versions(hash),
    kind              TEXT COLLATE "C" NOT NULL,
    system            TEXT COLLATE "C" NOT NULL,
    unit_id           TEXT COLLATE "C" NOT NULL,
    round_id          BIGINT REFERENCES rounds(id),
    subject_person_id TEXT COLLATE "C",
    subject_account   TEXT COLLATE "C",
    client_ref        TEXT COLLATE "C",
    window_start      TEXT COLLATE "C",
    window_end        TEXT COLLATE "C",
    reason            TEXT COLLATE "C",
    state             TEXT COLLATE "C" NOT NULL,
    opened_at         TEXT COLLATE "C" NOT NULL,
    opened_by         TEXT COLLATE "C" NOT NULL,
    closed_at         TEXT COLLATE "C",
    result            TEXT COLLATE "C",
    handed_out_at     TEXT COLLATE "C",
    purged_at         TEXT COLLATE "C", systems TEXT COLLATE "C", client_name TEXT COLLATE "C", client_address TEXT COLLATE "C",
    UNIQUE (round_id, subject_person_id)
);
CREATE INDEX cases_by_routine ON cases(routine_id, opened_at);
CREATE INDEX cases_open ON cases(closed_at);
CREATE TABLE tasks (
    id           BIGINT PRIMARY KEY,
    case_id      TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    state        TEXT COLLATE "C" NOT NULL,
    role         TEXT COLLATE "C" NOT NULL,
    assignee_id  TEXT COLLATE "C",
    holder_id    TEXT COLLATE "C",
    started_at   TEXT COLLATE "C" NOT NULL,
    due_date     TEXT COLLATE "C" NOT NULL,
    answered_at  TEXT COLLATE "C",
    outcome      TEXT COLLATE "C",
    answered_by  TEXT COLLATE "C",
    comment      TEXT COLLATE "C",
    escalated_at TEXT COLLATE "C"
, link_generation BIGINT NOT NULL DEFAULT 0);
CREATE INDEX tasks_by_case ON tasks(case_id);
CREATE INDEX tasks_by_assignee ON tasks(assignee_id, answered_at);
CREATE TABLE timers (
    id       BIGINT PRIMARY KEY,
    task_id  BIGINT NOT NULL REFERENCES tasks(id),
    ordinal  BIGINT NOT NULL,
    kind     TEXT COLLATE "C" NOT NULL,
    label    TEXT COLLATE "C" NOT NULL,
    fire_at  TEXT COLLATE "C" NOT NULL,
    fired_at TEXT COLLATE "C"
);
CREATE INDEX timers_due ON timers(fired_at, fire_at);
CREATE INDEX timers_by_task ON timers(task_id);
CREATE TABLE outbox (
    id              BIGINT PRIMARY KEY,
    created_at      TEXT COLLATE "C" NOT NULL,
    purpose         TEXT COLLATE "C" NOT NULL,
    case_id         TEXT COLLATE "C",
    task_id         BIGINT,
    recipient_id    TEXT COLLATE "C",
    to_addr         TEXT COLLATE "C" NOT NULL,
    template        TEXT COLLATE "C" NOT NULL,
    context         TEXT COLLATE "C" NOT NULL,
    due_date        TEXT COLLATE "C",
    -- queued, sent, failed; held (waiting for the recipient's daily digest) and digested.
    status          TEXT COLLATE "C" NOT NULL DEFAULT 'queued',
    digest_day      TEXT COLLATE "C",
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    last_error      TEXT COLLATE "C",
    sent_at         TEXT COLLATE "C"
);
CREATE INDEX outbox_queued ON outbox(status, next_attempt_at);
CREATE INDEX outbox_by_case ON outbox(case_id);
CREATE INDEX outbox_by_recipient ON outbox(recipient_id, status);
CREATE TABLE audit (
    seq             BIGINT PRIMARY KEY,
    at              TEXT COLLATE "C" NOT NULL,
    actor           TEXT COLLATE "C" NOT NULL,
    event           TEXT COLLATE "C" NOT NULL,
    case_id         TEXT COLLATE "C",
    round_id        BIGINT,
    data            TEXT COLLATE "C" NOT NULL,
    personal_digest TEXT COLLATE "C",
    prev_hash       TEXT COLLATE "C" NOT NULL,
    hash            TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_by_case ON audit(case_id);
CREATE TABLE audit_personal (
    seq  BIGINT PRIMARY KEY REFERENCES audit(seq),
    salt TEXT COLLATE "C" NOT NULL,
    data TEXT COLLATE "C" NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE FUNCTION audit_personal_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'personal audit details are erased, never changed';
END $$;
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_personal_no_update BEFORE UPDATE ON audit_personal
    FOR EACH ROW EXECUTE FUNCTION audit_personal_no_update();
CREATE TABLE web_users (
    name                TEXT COLLATE "C" PRIMARY KEY,
    password_hash       TEXT COLLATE "C" NOT NULL,
    created_at          TEXT COLLATE "C" NOT NULL,
    password_changed_at TEXT COLLATE "C" NOT NULL,
    last_login_at       TEXT COLLATE "C"
, role TEXT COLLATE "C" NOT NULL DEFAULT 'quality'
    CHECK (role IN ('admin', 'quality', 'reader')));
CREATE TABLE web_sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_name  TEXT COLLATE "C" NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions(user_name);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);
CREATE TABLE web_login_failures (
    key             TEXT COLLATE "C" PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at TEXT COLLATE "C" NOT NULL,
    locked_until    TEXT COLLATE "C" NOT NULL
);
CREATE TABLE log_imports (
    id          BIGINT PRIMARY KEY,
    imported_at TEXT COLLATE "C" NOT NULL,
    file        TEXT COLLATE "C" NOT NULL,
    digest      TEXT COLLATE "C" NOT NULL,
    rows        BIGINT NOT NULL
);
CREATE INDEX log_imports_by_digest ON log_imports(digest);
CREATE TABLE log_batches (
    import_id       BIGINT NOT NULL REFERENCES log_imports(id),
    system          TEXT COLLATE "C" NOT NULL,
    first_row       BIGINT NOT NULL,
    last_row        BIGINT NOT NULL,
    rows            BIGINT NOT NULL,
    oldest          BIGINT NOT NULL,
    newest          BIGINT NOT NULL,
    retention_years BIGINT NOT NULL,
    PRIMARY KEY (import_id, system)
);
CREATE TABLE record_files (
    path       TEXT COLLATE "C" PRIMARY KEY,
    case_id    TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    kind       TEXT COLLATE "C" NOT NULL,
    written_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX record_files_by_case ON record_files(case_id);
CREATE TABLE summaries (
    routine_id  TEXT COLLATE "C" NOT NULL,
    year        BIGINT NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    recipients  BIGINT NOT NULL,
    PRIMARY KEY (routine_id, year)
);
CREATE TABLE outbox_attachments (
    outbox_id    BIGINT NOT NULL REFERENCES outbox(id),
    position     BIGINT NOT NULL,
    file_name    TEXT COLLATE "C" NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    body         BYTEA NOT NULL,
    PRIMARY KEY (outbox_id, position)
);
CREATE TABLE purged_counts (
    routine_id TEXT COLLATE "C" NOT NULL,
    system     TEXT COLLATE "C" NOT NULL,
    unit_id    TEXT COLLATE "C" NOT NULL,
    year       BIGINT NOT NULL,
    measure    TEXT COLLATE "C" NOT NULL,
    value      BIGINT NOT NULL,
    PRIMARY KEY (routine_id, system, unit_id, year, measure)
);
CREATE TABLE frozen_years (
    routine_id TEXT COLLATE "C" NOT NULL,
    year       BIGINT NOT NULL,
    frozen_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (routine_id, year)
);
CREATE TABLE log_strings (
    id   BIGINT PRIMARY KEY,
    text TEXT COLLATE "C" NOT NULL UNIQUE
);
CREATE TABLE access_log (
    id            BIGINT PRIMARY KEY,
    import_id     BIGINT NOT NULL,
    system        BIGINT NOT NULL,
    log_id        TEXT COLLATE "C" NOT NULL,
    at            BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    user_name     BIGINT NOT NULL,
    user_title    BIGINT NOT NULL,
    access_unit   BIGINT NOT NULL,
    subject_id    BIGINT NOT NULL,
    subject_name  TEXT COLLATE "C" NOT NULL,
    subject_unit  BIGINT NOT NULL,
    action        BIGINT NOT NULL,
    resource_type BIGINT NOT NULL,
    purpose       BIGINT NOT NULL
);
CREATE VIEW access_log_text AS
    SELECT a.id, a.import_id, sy.text AS system, a.log_id, a.at, us.text AS user_id,
        un.text AS user_name, ut.text AS user_title, au.text AS access_unit,
        lpad(a.subject_id::text, 12, '0') AS subject_id, a.subject_name, su.text AS subject_unit,
        ac.text AS action, rt.text AS resource_type, pu.text AS purpose
    FROM access_log a
    JOIN log_strings sy ON sy.id = a.system JOIN log_strings us ON us.id = a.user_id
    JOIN log_strings un ON un.id = a.user_name JOIN log_strings ut ON ut.id = a.user_title
    JOIN log_strings au ON au.id = a.access_unit JOIN log_strings su ON su.id = a.subject_unit
    JOIN log_strings ac ON ac.id = a.action JOIN log_strings rt ON rt.id = a.resource_type
    JOIN log_strings pu ON pu.id = a.purpose;
CREATE TABLE log_chunks (
    first_row BIGINT PRIMARY KEY,
    last_row  BIGINT NOT NULL,
    import_id BIGINT NOT NULL,
    rows      BIGINT NOT NULL,
    oldest    BIGINT NOT NULL,
    newest    BIGINT NOT NULL
);
CREATE TABLE log_digests (
    chunk   BIGINT NOT NULL,
    system  TEXT COLLATE "C" NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    rows    BIGINT NOT NULL,
    oldest  BIGINT NOT NULL,
    newest  BIGINT NOT NULL,
    digest  BYTEA NOT NULL,
    PRIMARY KEY (chunk, system, account)
);
CREATE TABLE log_coverage (
    import_id   BIGINT NOT NULL,
    system      TEXT COLLATE "C" NOT NULL,
    covers_from BIGINT NOT NULL,
    covers_to   BIGINT NOT NULL,
    PRIMARY KEY (import_id, system)
);
CREATE TABLE account_holders (
    system    TEXT COLLATE "C" NOT NULL,
    account   TEXT COLLATE "C" NOT NULL,
    person_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (system, account)
);
CREATE INDEX people_by_personnummer ON people(personnummer_hash);
CREATE TABLE judgements (
    case_id    TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    system     TEXT COLLATE "C" NOT NULL,
    log_id     TEXT COLLATE "C" NOT NULL,
    verdict    TEXT COLLATE "C" NOT NULL,
    judged_by  TEXT COLLATE "C" NOT NULL,
    judged_at  TEXT COLLATE "C" NOT NULL,
    comment    TEXT COLLATE "C",
    PRIMARY KEY (case_id, system, log_id)
);
CREATE TABLE evidence_snapshots (
    case_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES cases(id),
    taken_at TEXT COLLATE "C" NOT NULL,
    data     TEXT COLLATE "C" NOT NULL
);
CREATE TABLE watch_list (
    id         BIGINT PRIMARY KEY,
    client     TEXT COLLATE "C",
    reason     TEXT COLLATE "C",
    added_by   TEXT COLLATE "C" NOT NULL,
    added_at   TEXT COLLATE "C" NOT NULL,
    until      TEXT COLLATE "C",
    removed_by TEXT COLLATE "C",
    removed_at TEXT COLLATE "C",
    purged_at  TEXT COLLATE "C"
);
CREATE TABLE information_due (
    person_id  TEXT COLLATE "C" NOT NULL,
    system     TEXT COLLATE "C" NOT NULL,
    noticed_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person_id, system)
);
CREATE TABLE account_decisions (
    case_id    TEXT COLLATE "C" NOT NULL REFERENCES cases(id),
    system     TEXT COLLATE "C" NOT NULL,
    account    TEXT COLLATE "C" NOT NULL,
    decision   TEXT COLLATE "C" NOT NULL,
    decided_by TEXT COLLATE "C" NOT NULL,
    decided_at TEXT COLLATE "C" NOT NULL,
    comment    TEXT COLLATE "C",
    PRIMARY KEY (case_id, system, account)
);

-- Row ids as SQLite gives them: one more than the largest, given in the insert's transaction
-- (writers take turns under the write lock), so that ids have no gaps and a rolled-back or killed
-- transaction leaves the next id as it was; a database moved from SQLite keeps its ids.
CREATE FUNCTION roster_imports_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM roster_imports;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER roster_imports_next_id BEFORE INSERT ON roster_imports FOR EACH ROW EXECUTE FUNCTION roster_imports_next_id();
CREATE FUNCTION delegations_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM delegations;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER delegations_next_id BEFORE INSERT ON delegations FOR EACH ROW EXECUTE FUNCTION delegations_next_id();
CREATE FUNCTION rounds_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM rounds;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rounds_next_id BEFORE INSERT ON rounds FOR EACH ROW EXECUTE FUNCTION rounds_next_id();
CREATE FUNCTION tasks_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM tasks;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tasks_next_id BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION tasks_next_id();
CREATE FUNCTION timers_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM timers;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER timers_next_id BEFORE INSERT ON timers FOR EACH ROW EXECUTE FUNCTION timers_next_id();
CREATE FUNCTION outbox_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM outbox;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER outbox_next_id BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_next_id();
CREATE FUNCTION log_imports_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM log_imports;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_imports_next_id BEFORE INSERT ON log_imports FOR EACH ROW EXECUTE FUNCTION log_imports_next_id();
CREATE FUNCTION log_strings_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM log_strings;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_strings_next_id BEFORE INSERT ON log_strings FOR EACH ROW EXECUTE FUNCTION log_strings_next_id();
CREATE FUNCTION access_log_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM access_log;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER access_log_next_id BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION access_log_next_id();
CREATE FUNCTION watch_list_next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM watch_list;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER watch_list_next_id BEFORE INSERT ON watch_list FOR EACH ROW EXECUTE FUNCTION watch_list_next_id();
