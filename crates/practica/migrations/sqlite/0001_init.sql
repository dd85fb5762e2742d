-- practica on SQLite. Ids are TEXT (uuids in their hyphenated form), timestamps TEXT in RFC 3339
-- (UTC), JSON as TEXT. The PostgreSQL schema (migrations/postgres) has the same tables with
-- native types.

CREATE TABLE profile (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'admin')),
    created_at  TEXT NOT NULL
);

CREATE TABLE department (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    hex_code  TEXT
);

CREATE TABLE cohort (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    department_id  TEXT REFERENCES department (id)
);

CREATE TABLE profile_department (
    profile_id     TEXT NOT NULL REFERENCES profile (id),
    department_id  TEXT NOT NULL REFERENCES department (id),
    PRIMARY KEY (profile_id, department_id)
);

CREATE TABLE profile_cohort (
    profile_id  TEXT NOT NULL REFERENCES profile (id),
    cohort_id   TEXT NOT NULL REFERENCES cohort (id),
    PRIMARY KEY (profile_id, cohort_id)
);

CREATE TABLE course (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

-- Who teaches and who takes a course: what a teacher may read.
CREATE TABLE course_member (
    course_id   TEXT NOT NULL REFERENCES course (id),
    profile_id  TEXT NOT NULL REFERENCES profile (id),
    role        TEXT NOT NULL CHECK (role IN ('teacher', 'student')),
    PRIMARY KEY (course_id, profile_id)
);
CREATE INDEX course_member_profile ON course_member (profile_id);

-- API keys: the secret is never stored, only its SHA-256 (the secret has 256 bits of entropy,
-- so a slow password hash would add nothing).
CREATE TABLE api_key (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'admin', 'agent')),
    owner_id     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);

-- Catalog rows that override or extend the built-in catalog (content bundles).
CREATE TABLE topic (
    code                TEXT PRIMARY KEY,
    family              TEXT NOT NULL,
    name                TEXT NOT NULL DEFAULT '',
    p_init              REAL NOT NULL,
    p_learn             REAL NOT NULL,
    p_slip              REAL NOT NULL,
    p_guess             REAL NOT NULL,
    p_forget            REAL NOT NULL DEFAULT 0,
    calibrated_at       TEXT,
    calibrated_on_rows  INTEGER
);

CREATE TABLE error_tag (
    code         TEXT PRIMARY KEY,
    family       TEXT NOT NULL DEFAULT '',
    name_es      TEXT NOT NULL DEFAULT '',
    name_en      TEXT NOT NULL DEFAULT '',
    severity     TEXT NOT NULL DEFAULT 'MED',
    description  TEXT NOT NULL DEFAULT '',
    remediation  TEXT NOT NULL DEFAULT '',
    parent_code  TEXT
);

CREATE TABLE exercise (
    id               TEXT PRIMARY KEY,
    topic_code       TEXT NOT NULL,
    problem          TEXT NOT NULL,
    expected_answer  TEXT NOT NULL
);

CREATE TABLE attempt (
    id                      TEXT PRIMARY KEY,
    student_id              TEXT NOT NULL,
    topic_code              TEXT NOT NULL,
    course_id               TEXT,
    exercise_id             TEXT,
    input_mode              TEXT NOT NULL DEFAULT 'TYPED',
    status                  TEXT NOT NULL CHECK (status IN ('PENDING', 'CLASSIFIED')),
    is_correct              INTEGER NOT NULL,
    error_tag_code          TEXT,
    error_subtag            TEXT,
    classifier_source       TEXT NOT NULL CHECK (classifier_source IN ('RULE', 'LLM')),
    classifier_name         TEXT,
    confidence              REAL,
    diagnosis               TEXT NOT NULL,
    first_wrong_step        INTEGER,
    expected_answer         TEXT NOT NULL,
    client_expected_answer  TEXT,
    student_answer          TEXT NOT NULL,
    trace_id                TEXT NOT NULL,
    created_by              TEXT NOT NULL,
    via_agent               INTEGER NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL,
    classified_at           TEXT
);
CREATE INDEX attempt_student ON attempt (student_id, created_at);
CREATE INDEX attempt_course ON attempt (course_id, created_at);

CREATE TABLE attempt_step (
    attempt_id  TEXT NOT NULL REFERENCES attempt (id),
    idx         INTEGER NOT NULL,
    expression  TEXT NOT NULL,
    is_final    INTEGER NOT NULL,
    parsed_ok   INTEGER NOT NULL,
    PRIMARY KEY (attempt_id, idx)
);

-- A teacher's or student's correction: never overwrites the classification.
CREATE TABLE attempt_report (
    id              TEXT PRIMARY KEY,
    attempt_id      TEXT NOT NULL REFERENCES attempt (id),
    error_tag_code  TEXT NOT NULL,
    reporter_id     TEXT NOT NULL,
    reporter_role   TEXT NOT NULL,
    comment         TEXT,
    via_agent       INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE INDEX attempt_report_attempt ON attempt_report (attempt_id);

-- BKT mastery per (student, topic, course); '' is "no course". `version` counts updates.
CREATE TABLE mastery (
    student_id  TEXT NOT NULL,
    topic_code  TEXT NOT NULL,
    course_id   TEXT NOT NULL DEFAULT '',
    p_known     REAL NOT NULL,
    attempts    INTEGER NOT NULL,
    last_at     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (student_id, topic_code, course_id)
);

CREATE TABLE mastery_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id   TEXT NOT NULL,
    topic_code   TEXT NOT NULL,
    course_id    TEXT NOT NULL,
    attempt_id   TEXT NOT NULL,
    p_known      REAL NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX mastery_history_key ON mastery_history (student_id, topic_code, course_id, recorded_at);

-- Transactional outbox: written with the attempt, published after commit by the relay.
CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id      TEXT NOT NULL UNIQUE,
    event_type    TEXT NOT NULL,
    ordering_key  TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    published_at  TEXT
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Idempotency-Key: the first response to a key, replayed to retries with the same request.
CREATE TABLE idempotency (
    caller_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    response      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (caller_id, key)
);
