-- Simulation content from bundles (CONTENT.md: personas, rubrics, simulations, homes,
-- practices). Children (criteria, levels, scenario personas, questions, options) are keyed by
-- their parent because a bundle replaces them with its parent; ids the APIs use on their own
-- (personas, rubrics, simulations, scenarios, homes, practices) are global. Lists that are only
-- ever read whole with their row (objectives, script lines, evidence patterns) are jsonb arrays.
-- Positions keep the bundle's order, which is the play order of scenarios.
CREATE TABLE persona (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    instructions  text NOT NULL,
    color         text,
    icon          text
);

CREATE TABLE rubric (
    id    text PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE rubric_criterion (
    rubric_id    text NOT NULL REFERENCES rubric (id) ON DELETE CASCADE,
    id           text NOT NULL,
    position     integer NOT NULL,
    name         text NOT NULL,
    points       integer NOT NULL,
    pass_points  integer NOT NULL,
    PRIMARY KEY (rubric_id, id)
);

-- Level ids are unique within a rubric (grades name a level by its id alone).
CREATE TABLE rubric_level (
    rubric_id     text NOT NULL,
    criterion_id  text NOT NULL,
    id            text NOT NULL,
    position      integer NOT NULL,
    name          text NOT NULL,
    points        integer NOT NULL,
    evidence      jsonb NOT NULL,
    PRIMARY KEY (rubric_id, id),
    FOREIGN KEY (rubric_id, criterion_id) REFERENCES rubric_criterion (rubric_id, id) ON DELETE CASCADE
);

CREATE TABLE simulation (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    rubric_id      text NOT NULL REFERENCES rubric (id),
    hints_enabled  boolean NOT NULL,
    time_limit     integer NOT NULL
);

CREATE TABLE scenario (
    id                 text PRIMARY KEY,
    simulation_id      text NOT NULL REFERENCES simulation (id) ON DELETE CASCADE,
    position           integer NOT NULL,
    name               text NOT NULL,
    problem_statement  text NOT NULL,
    objectives         jsonb NOT NULL,
    rubric_id          text REFERENCES rubric (id),
    script             jsonb NOT NULL
);
CREATE INDEX scenario_simulation ON scenario (simulation_id, position);

CREATE TABLE scenario_persona (
    scenario_id  text NOT NULL REFERENCES scenario (id) ON DELETE CASCADE,
    persona_id   text NOT NULL REFERENCES persona (id),
    position     integer NOT NULL,
    PRIMARY KEY (scenario_id, persona_id)
);

CREATE TABLE question (
    scenario_id     text NOT NULL REFERENCES scenario (id) ON DELETE CASCADE,
    id              text NOT NULL,
    position        integer NOT NULL,
    question_text   text NOT NULL,
    allow_multiple  boolean NOT NULL,
    PRIMARY KEY (scenario_id, id)
);

CREATE TABLE question_option (
    scenario_id  text NOT NULL,
    question_id  text NOT NULL,
    id           text NOT NULL,
    position     integer NOT NULL,
    option_text  text NOT NULL,
    is_correct   boolean NOT NULL,
    PRIMARY KEY (scenario_id, question_id, id),
    FOREIGN KEY (scenario_id, question_id) REFERENCES question (scenario_id, id) ON DELETE CASCADE
);

CREATE TABLE home (
    id             text PRIMARY KEY,
    simulation_id  text NOT NULL REFERENCES simulation (id),
    cohort_id      text REFERENCES cohort (id),
    department_id  text REFERENCES department (id)
);

CREATE TABLE practice (
    id             text PRIMARY KEY,
    simulation_id  text NOT NULL REFERENCES simulation (id)
);
