//! Reading responses in pyBKT's CSV layout: `order_id,user_id,skill_name,correct`.
//!
//! The header is required; the columns may come in any order and other columns are ignored.
//! Fields are separated by commas; a field may be wrapped in double quotes (with `""` for a
//! quote inside it), but a quoted field cannot span lines. Surrounding spaces are trimmed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;

use crate::{Sequences, Skills};

/// A malformed data row, with its 1-based line number (the header is line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a whole CSV read failed.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("reading the CSV: {0}")]
    Io(#[from] std::io::Error),
    #[error("the CSV is empty: a header line is required")]
    NoHeader,
    #[error("bad header: {0}")]
    BadHeader(String),
    #[error("the header lacks the column(s): {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    #[error("{} malformed row(s), the first: {}", .0.len(), .0[0])]
    Rejected(Vec<RowError>),
}

const COLUMNS: [&str; 4] = ["order_id", "user_id", "skill_name", "correct"];

/// Splits one line into fields; simple double quotes are understood.
fn split_fields<'a>(line: &'a str, out: &mut Vec<Cow<'a, str>>) -> Result<(), String> {
    out.clear();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        if let Some(quoted) = trimmed.strip_prefix('"') {
            let mut value = String::new();
            let mut start = 0;
            let after = loop {
                let Some(j) = quoted[start..].find('"').map(|j| j + start) else {
                    return Err("unterminated quoted field".into());
                };
                if quoted[j + 1..].starts_with('"') {
                    value.push_str(&quoted[start..=j]);
                    start = j + 2;
                } else {
                    value.push_str(&quoted[start..j]);
                    break &quoted[j + 1..];
                }
            };
            out.push(Cow::Owned(value.trim().to_owned()));
            let after = after.trim_start();
            if after.is_empty() {
                return Ok(());
            }
            let Some(next) = after.strip_prefix(',') else {
                return Err("text after a closing quote".into());
            };
            rest = next;
        } else {
            match rest.find(',') {
                Some(i) => {
                    out.push(Cow::Borrowed(rest[..i].trim()));
                    rest = &rest[i + 1..];
                }
                None => {
                    out.push(Cow::Borrowed(rest.trim()));
                    return Ok(());
                }
            }
        }
    }
}

fn parse_correct(s: &str) -> Option<bool> {
    match s {
        "1" => Some(true),
        "0" => Some(false),
        _ if s.eq_ignore_ascii_case("true") => Some(true),
        _ if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// One line without its end-of-line characters; `None` at the end of input.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<()>> {
    buf.clear();
    if reader.read_until(b'\n', buf)? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(()))
}

/// `order_id`, `user_id`, `skill_name` and `correct` of one data row.
fn parse_row<'a>(
    bytes: &'a [u8],
    fields: &mut Vec<Cow<'a, str>>,
    width: usize,
    [order_col, user_col, skill_col, correct_col]: [usize; 4],
) -> Result<(i64, String, String, bool), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_owned())?;
    split_fields(text, fields)?;
    if fields.len() != width {
        return Err(format!("{} field(s), the header has {width}", fields.len()));
    }
    let order = fields[order_col]
        .parse::<i64>()
        .map_err(|_| format!("order_id {:?} is not an integer", fields[order_col]))?;
    let correct = parse_correct(&fields[correct_col])
        .ok_or_else(|| format!("correct {:?} is not 0, 1, true or false", fields[correct_col]))?;
    if fields[user_col].is_empty() {
        return Err("empty user_id".into());
    }
    if fields[skill_col].is_empty() {
        return Err("empty skill_name".into());
    }
    Ok((
        order,
        fields[user_col].to_string(),
        fields[skill_col].to_string(),
        correct,
    ))
}

/// One skill's responses being gathered: per student (in order of first appearance), the
/// `(order_id, correct)` pairs.
#[derive(Default)]
struct SkillRows {
    students: HashMap<u32, usize>,
    rows: Vec<Vec<(i64, bool)>>,
}

/// Reads pyBKT-style CSV. Returns, per skill in order of first appearance, one sequence per
/// student (students in order of first appearance within the skill, responses sorted by
/// `order_id`, ties kept in file order), plus the malformed rows, which are skipped. With
/// `strict`, any malformed row rejects the whole read ([`CsvError::Rejected`] lists them all).
/// Blank lines are ignored. `correct` accepts 0/1 and true/false; `order_id` must be an integer.
pub fn read_csv(reader: impl BufRead, strict: bool) -> Result<(Skills, Vec<RowError>), CsvError> {
    let (log, errors) = read_csv_with_students(reader, strict)?;
    Ok((log.skills, errors))
}

/// A response log with who answered: `students[k][i]` is the student (an index into
/// `student_ids`) of sequence `i` of skill `k`.
#[derive(Clone, Debug, Default)]
pub struct ResponseLog {
    pub skills: Skills,
    pub students: Vec<Vec<u32>>,
    pub student_ids: Vec<String>,
}

/// As [`read_csv`], keeping which student each sequence is (to hold students out).
pub fn read_csv_with_students(
    mut reader: impl BufRead,
    strict: bool,
) -> Result<(ResponseLog, Vec<RowError>), CsvError> {
    let mut buf = Vec::new();
    if read_line(&mut reader, &mut buf)?.is_none() {
        return Err(CsvError::NoHeader);
    }
    let header = std::str::from_utf8(&buf).map_err(|_| CsvError::BadHeader("not valid UTF-8".into()))?;
    let header = header.strip_prefix('\u{feff}').unwrap_or(header);
    if header.trim().is_empty() {
        return Err(CsvError::NoHeader);
    }
    let mut fields = Vec::new();
    split_fields(header, &mut fields).map_err(CsvError::BadHeader)?;
    let fields: Vec<String> = fields.into_iter().map(Cow::into_owned).collect();
    let width = fields.len();
    let mut index = [usize::MAX; 4];
    for (i, name) in fields.iter().enumerate() {
        if let Some(c) = COLUMNS.iter().position(|c| c == name) {
            if index[c] != usize::MAX {
                return Err(CsvError::BadHeader(format!("duplicate column {name}")));
            }
            index[c] = i;
        }
    }
    let missing: Vec<&'static str> = (0..4).filter(|&c| index[c] == usize::MAX).map(|c| COLUMNS[c]).collect();
    if !missing.is_empty() {
        return Err(CsvError::MissingColumns(missing));
    }

    let mut users: HashMap<String, u32> = HashMap::new();
    let mut skill_index: HashMap<String, usize> = HashMap::new();
    let mut skills: Vec<(String, SkillRows)> = Vec::new();
    let mut errors = Vec::new();
    let mut line = 1;
    while read_line(&mut reader, &mut buf)?.is_some() {
        line += 1;
        let mut fields = Vec::with_capacity(width);
        let parsed = parse_row(&buf, &mut fields, width, index);
        match parsed {
            Ok((order, user, skill, correct)) => {
                let next_user = users.len() as u32;
                let user = *users.entry(user).or_insert(next_user);
                let k = *skill_index.entry(skill.clone()).or_insert_with(|| {
                    skills.push((skill, SkillRows::default()));
                    skills.len() - 1
                });
                let rows = &mut skills[k].1;
                let next = rows.rows.len();
                let s = *rows.students.entry(user).or_insert(next);
                if s == next {
                    rows.rows.push(Vec::new());
                }
                rows.rows[s].push((order, correct));
            }
            Err(message) if buf.iter().all(u8::is_ascii_whitespace) => drop(message),
            Err(message) => errors.push(RowError { line, message }),
        }
    }
    if strict && !errors.is_empty() {
        return Err(CsvError::Rejected(errors));
    }
    let mut student_ids = vec![String::new(); users.len()];
    for (id, i) in users {
        student_ids[i as usize] = id;
    }
    let students: Vec<Vec<u32>> = skills
        .iter()
        .map(|(_, rows)| {
            let mut of = vec![0u32; rows.rows.len()];
            for (&user, &i) in &rows.students {
                of[i] = user;
            }
            of
        })
        .collect();
    let data = skills
        .into_iter()
        .map(|(name, mut rows)| {
            let total = rows.rows.iter().map(Vec::len).sum();
            let mut seqs = Sequences::with_capacity(rows.rows.len(), total);
            let mut seq = Vec::new();
            for student in &mut rows.rows {
                student.sort_by_key(|&(order, _)| order);
                seq.clear();
                seq.extend(student.iter().map(|&(_, c)| c));
                seqs.push(&seq);
            }
            (name, seqs)
        })
        .collect();
    Ok((
        ResponseLog {
            skills: data,
            students,
            student_ids,
        },
        errors,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(text: &str, strict: bool) -> Result<(Skills, Vec<RowError>), CsvError> {
        read_csv(text.as_bytes(), strict)
    }

    #[test]
    fn reads_a_good_file() {
        let text = "\u{feff}extra,correct,skill_name,user_id,order_id\r\n\
                    x,1,add,u1,3\r\n\
                    x,0,add,u1,1\r\n\
                    x,true,sub,u2,2\r\n\
                    \r\n\
                    x,FALSE,add,u2,5\r\n\
                    \"q,1\",\"1\",\"add\",u1,4\n\
                    x,1,add,u1,2";
        let (data, errors) = read(text, true).unwrap();
        assert!(errors.is_empty());
        let names: Vec<&str> = data.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["add", "sub"]);
        // u1 on add, by order_id: 1 → 0, 2 → 1, 3 → 1, 4 → 1; then u2: 0.
        assert_eq!(
            data[0].1,
            Sequences::from_nested([vec![false, true, true, true], vec![false]])
        );
        assert_eq!(data[1].1, Sequences::from_nested([vec![true]]));
        let (log, _) = read_csv_with_students(text.as_bytes(), true).unwrap();
        let who = |k: usize, i: usize| log.student_ids[log.students[k][i] as usize].as_str();
        assert_eq!((who(0, 0), who(0, 1), who(1, 0)), ("u1", "u2", "u2"));
    }

    #[test]
    fn malformed_rows_are_reported_with_line_numbers() {
        let text = "order_id,user_id,skill_name,correct\n\
                    1,u1,add,1\n\
                    x,u1,add,1\n\
                    3,u1,add,2\n\
                    4,u1,add\n\
                    5,,add,1\n\
                    6,\"u1,add,1\n\
                    7,u1,add,0\n";
        let (data, errors) = read(text, false).unwrap();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7], "{errors:?}");
        assert!(errors[0].message.contains("order_id"));
        assert!(errors[1].message.contains("correct"));
        assert_eq!(data[0].1, Sequences::from_nested([vec![true, false]]));

        match read(text, true) {
            Err(CsvError::Rejected(e)) => assert_eq!(e, errors),
            other => panic!("strict mode accepted: {other:?}"),
        }
        let bad_utf8 = b"order_id,user_id,skill_name,correct\n1,u\xff,a,1\n2,u,a,1\n";
        let (_, errors) = read_csv(&bad_utf8[..], false).unwrap();
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn header_problems_reject_the_file() {
        assert!(matches!(read("", false), Err(CsvError::NoHeader)));
        assert!(matches!(
            read("order_id,user_id,correct\n1,u,1\n", false),
            Err(CsvError::MissingColumns(c)) if c == ["skill_name"]
        ));
        assert!(matches!(
            read("order_id,user_id,skill_name,correct,user_id\n", false),
            Err(CsvError::BadHeader(_))
        ));
        let (data, errors) = read("order_id,user_id,skill_name,correct\n", true).unwrap();
        assert!(data.is_empty() && errors.is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(text in "[a-z0-9,\"\r\n ]{0,200}", strict: bool) {
            let _ = read(&format!("order_id,user_id,skill_name,correct\n{text}"), strict);
            let _ = read(&text, strict);
        }

        #[test]
        fn written_rows_read_back(
            rows in proptest::collection::vec((0u8..4, 0u8..3, any::<bool>()), 0..60),
            seed: u64,
        ) {
            // Rows written in a shuffled order with their order_id come back in order.
            let mut numbered: Vec<(usize, (u8, u8, bool))> = rows.iter().copied().enumerate().collect();
            fastrand::Rng::with_seed(seed).shuffle(&mut numbered);
            let mut text = String::from("user_id,correct,order_id,skill_name\n");
            for (order, (user, skill, correct)) in &numbered {
                text.push_str(&format!("u{user},{},{order},s{skill}\n", u8::from(*correct)));
            }
            let (data, errors) = read(&text, true).unwrap();
            prop_assert!(errors.is_empty());
            let mut total = 0;
            for (name, seqs) in &data {
                total += seqs.total_responses();
                for seq in seqs.iter() {
                    prop_assert!(!seq.is_empty());
                }
                // Each student's responses, in order_id order, as generated.
                let users: std::collections::BTreeSet<u8> =
                    rows.iter().filter(|r| format!("s{}", r.1) == *name).map(|r| r.0).collect();
                let mut expected: Vec<Vec<bool>> = users
                    .iter()
                    .map(|&u| rows.iter().filter(|r| r.0 == u && format!("s{}", r.1) == *name).map(|r| r.2).collect())
                    .collect();
                let mut got: Vec<Vec<bool>> = seqs.iter().map(<[bool]>::to_vec).collect();
                expected.sort();
                got.sort();
                prop_assert_eq!(got, expected);
            }
            prop_assert_eq!(total, rows.len());
        }
    }
}
