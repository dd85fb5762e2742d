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
