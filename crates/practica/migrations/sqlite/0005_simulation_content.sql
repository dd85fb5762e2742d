-- Simulation content (see migrations/postgres/0005 for the why). JSON arrays as TEXT,
-- booleans as INTEGER 0/1.
CREATE TABLE persona (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    instructions  TEXT NOT NULL,
    color         TEXT,
    icon          TEXT
);

CREATE TABLE rubric (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE rubric_criterion (
    rubric_id    TEXT NOT NULL REFERENCES rubric (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    points       INTEGER NOT NULL,
    pass_points  INTEGER NOT NULL,
    PRIMARY KEY (rubric_id, id)
);

-- Level ids are unique within a rubric (grades name a level by its id alone).
CREATE TABLE rubric_level (
    rubric_id     TEXT NOT NULL,
    criterion_id  TEXT NOT NULL,
    id            TEXT NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    points        INTEGER NOT NULL,
    evidence      TEXT NOT NULL,
    PRIMARY KEY (rubric_id, id),
    FOREIGN KEY (rubric_id, criterion_id) REFERENCES rubric_criterion (rubric_id, id) ON DELETE CASCADE
);

CREATE TABLE simulation (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    rubric_id      TEXT NOT NULL REFERENCES rubric (id),
    hints_enabled  INTEGER NOT NULL,
    time_limit     INTEGER NOT NULL
);

CREATE TABLE scenario (
    id                 TEXT PRIMARY KEY,
    simulation_id      TEXT NOT NULL REFERENCES simulation (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    name               TEXT NOT NULL,
    problem_statement  TEXT NOT NULL,
    objectives         TEXT NOT NULL,
    rubric_id          TEXT REFERENCES rubric (id),
    script             TEXT NOT NULL
);
CREATE INDEX scenario_simulation ON scenario (simulation_id, position);

CREATE TABLE scenario_persona (
    scenario_id  TEXT NOT NULL REFERENCES scenario (id) ON DELETE CASCADE,
    persona_id   TEXT NOT NULL REFERENCES persona (id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (scenario_id, persona_id)
);

CREATE TABLE question (
    scenario_id     TEXT NOT NULL REFERENCES scenario (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    position        INTEGER NOT NULL,
    question_text   TEXT NOT NULL,
    allow_multiple  INTEGER NOT NULL,
    PRIMARY KEY (scenario_id, id)
);

CREATE TABLE question_option (
    scenario_id  TEXT NOT NULL,
    question_id  TEXT NOT NULL,
    id           TEXT NOT NULL,
    position     INTEGER NOT NULL,
    option_text  TEXT NOT NULL,
    is_correct   INTEGER NOT NULL,
    PRIMARY KEY (scenario_id, question_id, id),
    FOREIGN KEY (scenario_id, question_id) REFERENCES question (scenario_id, id) ON DELETE CASCADE
);

CREATE TABLE home (
    id             TEXT PRIMARY KEY,
    simulation_id  TEXT NOT NULL REFERENCES simulation (id),
    cohort_id      TEXT REFERENCES cohort (id),
    department_id  TEXT REFERENCES department (id)
);

CREATE TABLE practice (
    id             TEXT PRIMARY KEY,
    simulation_id  TEXT NOT NULL REFERENCES simulation (id)
);
