-- Ad-hoc problems (POST /attempts/solve-adhoc): an attempt with no exercise behind it. The
-- problem's LaTeX is kept on the attempt, because the solver reads it there and teachers see
-- it in the detail. Such an attempt is written PENDING under the placeholder topic ADHOC; the
-- solver then writes the topic the problem turned out to be (ALGEBRA_EQ_LINEAR, …), the
-- verdict and the expected answer, and applies the mastery update, in one transaction.
ALTER TABLE attempt ADD COLUMN origin text NOT NULL DEFAULT 'EXERCISE' CHECK (origin IN ('EXERCISE', 'ADHOC'));
ALTER TABLE attempt ADD COLUMN problem text;
ALTER TABLE attempt ADD COLUMN grade_level integer CHECK (grade_level BETWEEN 1 AND 12);
