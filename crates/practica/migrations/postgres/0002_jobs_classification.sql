-- Asynchronous work and what the classifier learns.

-- One table for every kind of asynchronous work (classification now; ad-hoc solving, OCR,
-- grading, exports later). A job is claimed under a lease; an expired lease is swept back to the
-- queue; a job that fails max_attempts times is dead, its last error kept.
CREATE TABLE job (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL,
    -- At most one job per key (e.g. one classification per attempt): enqueueing twice is a no-op.
    dedupe_key   text UNIQUE,
    payload      jsonb NOT NULL,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    run_after    timestamptz NOT NULL,
    lease_owner  text,
    lease_until  timestamptz,
    last_error   text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX job_ready ON job (run_after) WHERE status = 'queued';
CREATE INDEX job_leased ON job (lease_until) WHERE status = 'running';
-- Queue metrics read only the live and dead jobs; done jobs are purged after a retention time.
CREATE INDEX job_live ON job (kind, status) WHERE status <> 'done';
CREATE INDEX job_finished ON job (finished_at) WHERE status = 'done';

-- What a wrong answer looks like (diagnosis::signature), for learning from reports; and how the
-- asynchronous chain decided (strategy, model, prompt version, rationale, or why nothing could).
ALTER TABLE attempt ADD COLUMN signature text;
ALTER TABLE attempt ADD COLUMN classification jsonb;
CREATE INDEX attempt_signature ON attempt (signature) WHERE signature IS NOT NULL;
CREATE INDEX attempt_pending ON attempt (created_at) WHERE status = 'PENDING';

-- A tag learned from teachers' reports that agree on one signature.
CREATE TABLE learned_rule (
    signature       text PRIMARY KEY,
    error_tag_code  text NOT NULL,
    reports         integer NOT NULL,
    reporters       integer NOT NULL,
    agreement       double precision NOT NULL,
    learned_at      timestamptz NOT NULL
);

-- Tokens spent on AI providers per UTC day, shared by every process (the daily budget).
CREATE TABLE ai_usage (
    day     date NOT NULL,
    model   text NOT NULL,
    calls   bigint NOT NULL,
    tokens  bigint NOT NULL,
    PRIMARY KEY (day, model)
);
