-- Ad-hoc problems (see migrations/postgres/0003 for the why).
ALTER TABLE attempt ADD COLUMN origin TEXT NOT NULL DEFAULT 'EXERCISE' CHECK (origin IN ('EXERCISE', 'ADHOC'));
ALTER TABLE attempt ADD COLUMN problem TEXT;
ALTER TABLE attempt ADD COLUMN grade_level INTEGER CHECK (grade_level BETWEEN 1 AND 12);
