-- Attempt exports too large to build within the request are built by a job (`sim-export`);
-- this row says where one stands. Its id is the upload id the export will have, handed out at
-- once; a download before the job is done answers 409 with Retry-After.
CREATE TABLE sim_export (
    id          TEXT PRIMARY KEY,
    attempt_id  TEXT NOT NULL REFERENCES sim_attempt (id),
    state       TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    row_count   BIGINT NOT NULL,
    error       TEXT,
    created_by  TEXT NOT NULL,
    via_agent   BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
