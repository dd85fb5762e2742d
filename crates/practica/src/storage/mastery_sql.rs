//! The mastery reads, the same SQL on both backends (`$n` parameters; the backends bind their
//! own timestamp types). The value a week ago is the last history row at or before the window's
//! start, found through the history's (student, topic, course, recorded_at) index.

const COLUMNS: &str = "SELECT m.student_id, m.topic_code, m.course_id, m.p_known, m.attempts, m.last_at, \
       (SELECT h.p_known FROM mastery_history h \
        WHERE h.student_id = m.student_id AND h.topic_code = m.topic_code AND h.course_id = m.course_id \
          AND h.recorded_at <= $2 \
        ORDER BY h.recorded_at DESC LIMIT 1) AS p_before \
     FROM mastery m ";

/// $1 student, $2 window start, $3 course or NULL for all.
pub(super) fn student() -> String {
    format!(
        "{COLUMNS} WHERE m.student_id = $1 AND (CAST($3 AS TEXT) IS NULL OR m.course_id = $3) ORDER BY m.topic_code, m.course_id"
    )
}

/// $1 course, $2 window start.
pub(super) fn course() -> String {
    format!("{COLUMNS} WHERE m.course_id = $1 ORDER BY m.student_id, m.topic_code")
}

pub(super) const TEACHES_COURSE: &str =
    "SELECT 1 FROM course_member WHERE profile_id = $1 AND course_id = $2 AND role = 'teacher'";

/// Every attempt's correctness, one sequence per (student, course) within each topic, in time
/// order: the data a refit learns from.
pub(super) const RESPONSES: &str = "SELECT topic_code, student_id, COALESCE(course_id, '') AS course_id, is_correct \
     FROM attempt ORDER BY topic_code, student_id, course_id, created_at, id";

/// A topic's fitted parameters, with when and on how many responses.
pub(super) const CALIBRATE_TOPIC: &str = "INSERT INTO topic \
       (code, family, name, p_init, p_learn, p_slip, p_guess, p_forget, calibrated_at, calibrated_on_rows) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (code) DO UPDATE SET p_init = excluded.p_init, p_learn = excluded.p_learn, \
       p_slip = excluded.p_slip, p_guess = excluded.p_guess, p_forget = excluded.p_forget, \
       calibrated_at = excluded.calibrated_at, calibrated_on_rows = excluded.calibrated_on_rows";

/// Builds per-topic sequences from rows sorted by topic, student, course, time.
#[derive(Default)]
pub(super) struct SequenceBuilder {
    topics: Vec<(String, mastery::Sequences)>,
    key: Option<(String, String, String)>,
    current: Vec<bool>,
    pub rows: i64,
}

impl SequenceBuilder {
    pub(super) fn push(&mut self, topic: String, student: String, course: String, correct: bool) {
        self.rows += 1;
        let key = (topic, student, course);
        if self.key.as_ref() != Some(&key) {
            self.flush();
            if self.topics.last().is_none_or(|(t, _)| *t != key.0) {
                self.topics.push((key.0.clone(), mastery::Sequences::new()));
            }
            self.key = Some(key);
        }
        self.current.push(correct);
    }

    fn flush(&mut self) {
        if !self.current.is_empty()
            && let Some((_, seqs)) = self.topics.last_mut()
        {
            seqs.push(&self.current);
        }
        self.current.clear();
    }

    pub(super) fn finish(mut self) -> Vec<(String, mastery::Sequences)> {
        self.flush();
        self.topics
    }
}
