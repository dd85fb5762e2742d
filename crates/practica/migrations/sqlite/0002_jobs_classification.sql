-- Asynchronous work and what the classifier learns (see migrations/postgres/0002 for the why).
-- Job times are Unix milliseconds: they are compared on every claim and sweep, and integers
-- compare exactly where RFC 3339 text with varying fractions would not.

CREATE TABLE job (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT UNIQUE,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX job_ready ON job (run_after) WHERE status = 'queued';
CREATE INDEX job_leased ON job (lease_until) WHERE status = 'running';
-- Queue metrics read only the live and dead jobs; done jobs are purged after a retention time.
CREATE INDEX job_live ON job (kind, status) WHERE status <> 'done';
CREATE INDEX job_finished ON job (finished_at) WHERE status = 'done';

ALTER TABLE attempt ADD COLUMN signature TEXT;
ALTER TABLE attempt ADD COLUMN classification TEXT;
CREATE INDEX attempt_signature ON attempt (signature) WHERE signature IS NOT NULL;
CREATE INDEX attempt_pending ON attempt (created_at) WHERE status = 'PENDING';

CREATE TABLE learned_rule (
    signature       TEXT PRIMARY KEY,
    error_tag_code  TEXT NOT NULL,
    reports         INTEGER NOT NULL,
    reporters       INTEGER NOT NULL,
    agreement       REAL NOT NULL,
    learned_at      TEXT NOT NULL
);

CREATE TABLE ai_usage (
    day     TEXT NOT NULL,
    model   TEXT NOT NULL,
    calls   INTEGER NOT NULL,
    tokens  INTEGER NOT NULL,
    PRIMARY KEY (day, model)
);
