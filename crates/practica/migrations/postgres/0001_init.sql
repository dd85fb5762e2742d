-- practica on PostgreSQL: the tables of migrations/sqlite with native types (uuid, timestamptz,
-- jsonb, boolean, double precision).

CREATE TABLE profile (
    id          text PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    role        text NOT NULL CHECK (role IN ('student', 'teacher', 'admin')),
    created_at  timestamptz NOT NULL
);

CREATE TABLE department (
    id        text PRIMARY KEY,
    name      text NOT NULL,
    hex_code  text
);

CREATE TABLE cohort (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    department_id  text REFERENCES department (id)
);

CREATE TABLE profile_department (
    profile_id     text NOT NULL REFERENCES profile (id),
    department_id  text NOT NULL REFERENCES department (id),
    PRIMARY KEY (profile_id, department_id)
);

CREATE TABLE profile_cohort (
    profile_id  text NOT NULL REFERENCES profile (id),
    cohort_id   text NOT NULL REFERENCES cohort (id),
    PRIMARY KEY (profile_id, cohort_id)
);

CREATE TABLE course (
    id    text PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE course_member (
    course_id   text NOT NULL REFERENCES course (id),
    profile_id  text NOT NULL REFERENCES profile (id),
    role        text NOT NULL CHECK (role IN ('teacher', 'student')),
    PRIMARY KEY (course_id, profile_id)
);
CREATE INDEX course_member_profile ON course_member (profile_id);

CREATE TABLE api_key (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    secret_hash  text NOT NULL,
    role         text NOT NULL CHECK (role IN ('student', 'teacher', 'admin', 'agent')),
    owner_id     text NOT NULL,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

CREATE TABLE topic (
    code                text PRIMARY KEY,
    family              text NOT NULL,
    name                text NOT NULL DEFAULT '',
    p_init              double precision NOT NULL,
    p_learn             double precision NOT NULL,
    p_slip              double precision NOT NULL,
    p_guess             double precision NOT NULL,
    p_forget            double precision NOT NULL DEFAULT 0,
    calibrated_at       timestamptz,
    calibrated_on_rows  bigint
);

CREATE TABLE error_tag (
    code         text PRIMARY KEY,
    family       text NOT NULL DEFAULT '',
    name_es      text NOT NULL DEFAULT '',
    name_en      text NOT NULL DEFAULT '',
    severity     text NOT NULL DEFAULT 'MED',
    description  text NOT NULL DEFAULT '',
    remediation  text NOT NULL DEFAULT '',
    parent_code  text
);

CREATE TABLE exercise (
    id               text PRIMARY KEY,
    topic_code       text NOT NULL,
    problem          text NOT NULL,
    expected_answer  text NOT NULL
);

CREATE TABLE attempt (
    id                      uuid PRIMARY KEY,
    student_id              text NOT NULL,
    topic_code              text NOT NULL,
    course_id               text,
    exercise_id             text,
    input_mode              text NOT NULL DEFAULT 'TYPED',
    status                  text NOT NULL CHECK (status IN ('PENDING', 'CLASSIFIED')),
    is_correct              boolean NOT NULL,
    error_tag_code          text,
    error_subtag            text,
    classifier_source       text NOT NULL CHECK (classifier_source IN ('RULE', 'LLM')),
    classifier_name         text,
    confidence              double precision,
    diagnosis               jsonb NOT NULL,
    first_wrong_step        integer,
    expected_answer         text NOT NULL,
    client_expected_answer  text,
    student_answer          text NOT NULL,
    trace_id                text NOT NULL,
    created_by              text NOT NULL,
    via_agent               boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL,
    classified_at           timestamptz
);
CREATE INDEX attempt_student ON attempt (student_id, created_at);
CREATE INDEX attempt_course ON attempt (course_id, created_at);

CREATE TABLE attempt_step (
    attempt_id  uuid NOT NULL REFERENCES attempt (id),
    idx         integer NOT NULL,
    expression  text NOT NULL,
    is_final    boolean NOT NULL,
    parsed_ok   boolean NOT NULL,
    PRIMARY KEY (attempt_id, idx)
);

CREATE TABLE attempt_report (
    id              uuid PRIMARY KEY,
    attempt_id      uuid NOT NULL REFERENCES attempt (id),
    error_tag_code  text NOT NULL,
    reporter_id     text NOT NULL,
    reporter_role   text NOT NULL,
    comment         text,
    via_agent       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL
);
CREATE INDEX attempt_report_attempt ON attempt_report (attempt_id);

CREATE TABLE mastery (
    student_id  text NOT NULL,
    topic_code  text NOT NULL,
    course_id   text NOT NULL DEFAULT '',
    p_known     double precision NOT NULL,
    attempts    bigint NOT NULL,
    last_at     timestamptz NOT NULL,
    version     bigint NOT NULL,
    PRIMARY KEY (student_id, topic_code, course_id)
);

CREATE TABLE mastery_history (
    id           bigserial PRIMARY KEY,
    student_id   text NOT NULL,
    topic_code   text NOT NULL,
    course_id    text NOT NULL,
    attempt_id   uuid NOT NULL,
    p_known      double precision NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX mastery_history_key ON mastery_history (student_id, topic_code, course_id, recorded_at);

CREATE TABLE outbox (
    seq           bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    event_type    text NOT NULL,
    ordering_key  text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE idempotency (
    caller_id     text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        integer NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (caller_id, key)
);
