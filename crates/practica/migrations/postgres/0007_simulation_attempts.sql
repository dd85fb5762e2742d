-- Simulation attempts (issue 8). Times are microseconds since the Unix epoch (BIGINT) on both
-- backends, so one set of statements serves SQLite and PostgreSQL alike. Every row records who
-- wrote it (`created_by`) and whether an AI agent did (`via_agent`: X-MCP, an agent key, /mcp).

-- One learner's run through a home or a practice. `state` is the attempt as the rules engine
-- keeps it (`simulation::attempt::Attempt`: chat entries, chats, grades' scores); `version`
-- makes every change a compare-and-set, so two requests on one attempt cannot both win.
CREATE TABLE sim_attempt (
    id                 TEXT PRIMARY KEY,
    profile_id         TEXT NOT NULL,
    home_id            TEXT,
    practice_id        TEXT,
    simulation_id      TEXT NOT NULL,
    department_id      TEXT,
    cohort_id          TEXT,
    infinite_mode      BOOLEAN NOT NULL,
    is_archived        BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL,
    ended_at           BIGINT,
    state              JSONB NOT NULL,
    version            BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    via_agent          BOOLEAN NOT NULL,
    updated_at         BIGINT NOT NULL,
    updated_by         TEXT NOT NULL,
    updated_via_agent  BOOLEAN NOT NULL
);
CREATE INDEX sim_attempt_profile ON sim_attempt (profile_id, created_at);
CREATE INDEX sim_attempt_created ON sim_attempt (created_at);
CREATE INDEX sim_attempt_department ON sim_attempt (department_id, created_at);

-- A played scenario. `attempt_id` is the attempt it was played in; `sim_attempt_chat` links it
-- to every attempt that counts it (use-previous links an earlier chat into a new attempt).
-- `rubric` is the rubric in force when the chat opened: later content edits do not move grades.
CREATE TABLE sim_chat (
    id             TEXT PRIMARY KEY,
    attempt_id     TEXT NOT NULL REFERENCES sim_attempt (id),
    profile_id     TEXT NOT NULL,
    chat_entry_id  TEXT NOT NULL,
    scenario_id    TEXT NOT NULL,
    position       BIGINT NOT NULL,
    started_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    rubric         JSONB NOT NULL,
    created_by     TEXT NOT NULL,
    via_agent      BOOLEAN NOT NULL
);
CREATE INDEX sim_chat_learner ON sim_chat (profile_id, chat_entry_id);
CREATE INDEX sim_chat_attempt ON sim_chat (attempt_id);

CREATE TABLE sim_attempt_chat (
    attempt_id  TEXT NOT NULL REFERENCES sim_attempt (id),
    chat_id     TEXT NOT NULL REFERENCES sim_chat (id),
    position    BIGINT NOT NULL,
    linked      BOOLEAN NOT NULL,
    created_by  TEXT NOT NULL,
    via_agent   BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (attempt_id, chat_id)
);
CREATE INDEX sim_attempt_chat_chat ON sim_attempt_chat (chat_id);

-- Messages of a chat: the learner's (`query`) and the persona's (`response`). A reply being
-- generated is `streaming` (its text grows as the model speaks); `stop` turns it `stopped`,
-- which the generating process sees on its next write, wherever it runs.
CREATE TABLE sim_message (
    id                 TEXT PRIMARY KEY,
    chat_id            TEXT NOT NULL REFERENCES sim_chat (id),
    seq                BIGINT NOT NULL,
    parent_message_id  TEXT,
    kind               TEXT NOT NULL,
    content            TEXT NOT NULL,
    hints              JSONB NOT NULL,
    contents           JSONB NOT NULL,
    status             TEXT NOT NULL,
    source             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    via_agent          BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX sim_message_chat ON sim_message (chat_id, seq);

-- Grades of a chat; the latest finished one wins. AI grades are `pending` until their job
-- finishes them. `detail` holds criteria, feedbacks, strengths, improvements, analyses,
-- highlights, replacements; `request` what was asked (resource_types, user_instructions).
CREATE TABLE sim_grade (
    id           TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL REFERENCES sim_chat (id),
    attempt_id   TEXT NOT NULL REFERENCES sim_attempt (id),
    source       TEXT NOT NULL,
    state        TEXT NOT NULL,
    score        BIGINT,
    max_score    BIGINT NOT NULL,
    passed       BOOLEAN,
    detail       JSONB NOT NULL,
    request      JSONB NOT NULL,
    error        TEXT,
    created_by   TEXT NOT NULL,
    via_agent    BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX sim_grade_chat ON sim_grade (chat_id, created_at);

CREATE TABLE sim_response (
    id           TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL REFERENCES sim_chat (id),
    question_id  TEXT NOT NULL,
    option_ids   JSONB NOT NULL,
    is_correct   BOOLEAN,
    created_by   TEXT NOT NULL,
    via_agent    BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX sim_response_chat ON sim_response (chat_id, created_at);

-- Audio sessions: frames (uploads) appended in order while `open`; stop assembles one file.
CREATE TABLE sim_audio (
    run_id       TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL REFERENCES sim_chat (id),
    attempt_id   TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    state        TEXT NOT NULL,
    frame_count  BIGINT NOT NULL,
    byte_len     BIGINT NOT NULL,
    upload_id    TEXT,
    transcript   TEXT,
    message_id   TEXT,
    created_by   TEXT NOT NULL,
    via_agent    BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    stopped_at   BIGINT
);
CREATE INDEX sim_audio_chat ON sim_audio (chat_id, created_at);

CREATE TABLE sim_audio_frame (
    run_id      TEXT NOT NULL REFERENCES sim_audio (run_id),
    seq         BIGINT NOT NULL,
    upload_id   TEXT NOT NULL,
    byte_len    BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    via_agent   BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- Analytics views, refreshed by POST /api/v5/artifacts/attempt/refresh (REFRESH MATERIALIZED
-- VIEW CONCURRENTLY: readers are never blocked; the unique indexes make it possible).
CREATE MATERIALIZED VIEW sim_attempt_summary AS
SELECT a.id AS attempt_id, a.profile_id, a.simulation_id, a.department_id, a.cohort_id,
       (a.practice_id IS NOT NULL) AS practice, a.infinite_mode, a.is_archived, a.created_at, a.ended_at,
       (SELECT COUNT(*) FROM sim_attempt_chat l WHERE l.attempt_id = a.id) AS num_chats,
       (SELECT COUNT(*) FROM sim_attempt_chat l
         WHERE l.attempt_id = a.id
           AND EXISTS (SELECT 1 FROM sim_grade g WHERE g.chat_id = l.chat_id AND g.state = 'done')) AS chats_graded,
       (SELECT CAST(COALESCE(SUM(g.score), 0) AS BIGINT)
          FROM sim_attempt_chat l
          JOIN sim_grade g ON g.chat_id = l.chat_id AND g.state = 'done'
         WHERE l.attempt_id = a.id
           AND NOT EXISTS (SELECT 1 FROM sim_grade n
                            WHERE n.chat_id = g.chat_id AND n.state = 'done'
                              AND (n.created_at > g.created_at OR (n.created_at = g.created_at AND n.id > g.id)))) AS total_score
  FROM sim_attempt a
;
CREATE UNIQUE INDEX sim_attempt_summary_id ON sim_attempt_summary (attempt_id);

CREATE MATERIALIZED VIEW sim_simulation_summary AS
SELECT a.simulation_id, COALESCE(a.department_id, '') AS department_id,
       COUNT(*) AS attempts,
       COUNT(DISTINCT a.profile_id) AS learners,
       CAST(SUM(CASE WHEN a.is_archived THEN 1 ELSE 0 END) AS BIGINT) AS archived_attempts,
       CAST(SUM(CASE WHEN a.ended_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS ended_attempts,
       MAX(a.created_at) AS last_attempt_at
  FROM sim_attempt a
 GROUP BY a.simulation_id, COALESCE(a.department_id, '')
;
CREATE UNIQUE INDEX sim_simulation_summary_key ON sim_simulation_summary (simulation_id, department_id);
