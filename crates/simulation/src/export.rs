//! The attempt export: a ZIP of four CSV tables (`attempts.csv`, `chats.csv`, `messages.csv`,
//! `grades.csv`) that a teacher opens in a spreadsheet or loads into a data tool. The service
//! gathers the rows; this module only writes them.
//!
//! The CSVs (decided here):
//! - RFC 4180 (the `csv` crate): comma-separated, CRLF line ends, a field quoted when it holds a
//!   comma, a quote or a line break, quotes doubled; the header row always written, so an
//!   empty table still says what its columns are;
//! - UTF-8 with a byte-order mark: without it Excel reads the file as the local code page and
//!   mangles every accented name (`Tomás`); the `csv` crate, pandas and Sheets skip it;
//! - an absent value (`None`) is an empty cell; booleans are `true`/`false`; numbers as Rust
//!   prints them (`70`, `33.33`); times are the RFC 3339 strings the service gives;
//! - **formula injection** guarded: a text cell (ids, names, message content, feedback — the
//!   values a learner or a model can write) that starts with `=`, `+`, `-`, `@`, a tab or a
//!   carriage return gets a leading `'`, so a spreadsheet shows it as text instead of running
//!   it as a formula (`=HYPERLINK(...)`, `@SUM(...)`). The text then reads `'-` where a learner
//!   wrote `-`; a data tool reading the file sees that quote too, the price of opening safely in
//!   Excel. Numeric and boolean cells are written as they are (they cannot hold a formula).
//!
//! The ZIP: entries deflated, in that order; their timestamps are `ExportTables::generated_at`
//! (UTC) when given, else the ZIP epoch (1980-01-01) — the crate has no clock, and the same
//! tables then give the same bytes.

use std::io::{Cursor, Write};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Result, SimulationError};

/// The names of the four tables in the ZIP, in order.
pub const FILE_NAMES: [&str; 4] = ["attempts.csv", "chats.csv", "messages.csv", "grades.csv"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub attempt_id: String,
    /// RFC 3339.
    pub created_at: String,
    pub profile_id: String,
    pub profile_name: Option<String>,
    pub simulation_id: String,
    pub simulation_name: Option<String>,
    /// One of `home_id` and `practice_id` is set.
    pub home_id: Option<String>,
    pub practice_id: Option<String>,
    pub department_id: Option<String>,
    pub cohort_id: Option<String>,
    pub infinite_mode: bool,
    pub is_archived: bool,
    pub ended_at: Option<String>,
    pub total_score: u64,
    pub total_possible_points: u64,
    pub percentage: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRow {
    pub attempt_id: String,
    pub chat_id: String,
    pub chat_entry_id: String,
    pub scenario_id: String,
    pub scenario_name: Option<String>,
    pub position: u32,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Seconds, once the chat has ended.
    pub time_taken: Option<u64>,
    /// Set when the chat was linked into this attempt by `use-previous` from another attempt.
    pub linked_from_attempt_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The learner's message.
    Query,
    /// The persona's reply.
    Response,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Query => "query",
            MessageKind::Response => "response",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    pub chat_id: String,
    pub message_id: String,
    pub parent_message_id: Option<String>,
    /// Order within the chat.
    pub seq: u64,
    pub kind: MessageKind,
    pub content: String,
    pub status: Option<String>,
    pub created_at: String,
    pub via_agent: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeRow {
    pub chat_id: String,
    pub grade_id: String,
    /// Who graded: the service's names (`ai`, `rules`, `agent`, …).
    pub source: String,
    pub state: Option<String>,
    pub score: Option<u64>,
    pub max_score: Option<u64>,
    pub passed: Option<bool>,
    pub percentage: Option<f64>,
    pub feedback: Option<String>,
    pub created_at: String,
    pub via_agent: bool,
}

/// Everything one export holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportTables {
    pub attempts: Vec<AttemptRow>,
    pub chats: Vec<ChatRow>,
    pub messages: Vec<MessageRow>,
    pub grades: Vec<GradeRow>,
    /// The time the entries are dated in the ZIP; the ZIP epoch when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub generated_at: Option<OffsetDateTime>,
}

/// The number of data rows in all four tables (headers not counted).
pub fn row_count(tables: &ExportTables) -> usize {
    tables.attempts.len() + tables.chats.len() + tables.messages.len() + tables.grades.len()
}

/// The ZIP of the four CSVs (module docs for their format).
pub fn write_zip(tables: &ExportTables) -> Result<Vec<u8>> {
    let csvs = [
        to_csv(&tables.attempts)?,
        to_csv(&tables.chats)?,
        to_csv(&tables.messages)?,
        to_csv(&tables.grades)?,
    ];
    let modified = tables.generated_at.and_then(zip_time).unwrap_or_default();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in FILE_NAMES.into_iter().zip(csvs) {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(modified)
            .unix_permissions(0o644)
            // ZIP64 only when a table needs it, so ordinary exports open in every unzip tool.
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name, options).map_err(|e| failed(name, &e))?;
        zip.write_all(&bytes).map_err(|e| failed(name, &e))?;
    }
    let cursor = zip.finish().map_err(|e| failed("export.zip", &e))?;
    Ok(cursor.into_inner())
}

fn zip_time(t: OffsetDateTime) -> Option<zip::DateTime> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = u16::try_from(t.year()).ok()?;
    zip::DateTime::from_date_and_time(year, t.month().into(), t.day(), t.hour(), t.minute(), t.second()).ok()
}

/// Writing to memory only fails on a ZIP limit; there is no better variant for it, and the
/// field says which file.
fn failed(file: &str, e: &dyn std::fmt::Display) -> SimulationError {
    SimulationError::InvalidField {
        field: file.to_owned(),
        reason: format!("cannot write the export: {e}"),
    }
}

/// One cell before it is written: text is guarded against formula injection, values are not.
enum Cell<'a> {
    Text(&'a str),
    Value(String),
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Text(s)
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(s: &'a String) -> Self {
        Cell::Text(s)
    }
}

impl<'a> From<&'a Option<String>> for Cell<'a> {
    fn from(s: &'a Option<String>) -> Self {
        Cell::Text(s.as_deref().unwrap_or(""))
    }
}

fn value<T: ToString>(v: T) -> Cell<'static> {
    Cell::Value(v.to_string())
}

fn opt<T: ToString>(v: Option<T>) -> Cell<'static> {
    Cell::Value(v.map(|v| v.to_string()).unwrap_or_default())
}

/// A float cell; a non-finite value (which no percentage should be) is left empty rather than
/// written as `NaN`.
fn float(v: Option<f64>) -> Cell<'static> {
    opt(v.filter(|v| v.is_finite()))
}

trait CsvRow {
    const HEADER: &'static [&'static str];
    fn cells(&self) -> Vec<Cell<'_>>;
}

impl CsvRow for AttemptRow {
    const HEADER: &'static [&'static str] = &[
        "attempt_id",
        "created_at",
        "profile_id",
        "profile_name",
        "simulation_id",
        "simulation_name",
        "home_id",
        "practice_id",
        "department_id",
        "cohort_id",
        "infinite_mode",
        "is_archived",
        "ended_at",
        "total_score",
        "total_possible_points",
        "percentage",
        "passed",
    ];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            (&self.attempt_id).into(),
            (&self.created_at).into(),
            (&self.profile_id).into(),
            (&self.profile_name).into(),
            (&self.simulation_id).into(),
            (&self.simulation_name).into(),
            (&self.home_id).into(),
            (&self.practice_id).into(),
            (&self.department_id).into(),
            (&self.cohort_id).into(),
            value(self.infinite_mode),
            value(self.is_archived),
            (&self.ended_at).into(),
            value(self.total_score),
            value(self.total_possible_points),
            float(Some(self.percentage)),
            value(self.passed),
        ]
    }
}

impl CsvRow for ChatRow {
    const HEADER: &'static [&'static str] = &[
        "attempt_id",
        "chat_id",
        "chat_entry_id",
        "scenario_id",
        "scenario_name",
        "position",
        "started_at",
        "ended_at",
        "time_taken",
        "linked_from_attempt_id",
    ];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            (&self.attempt_id).into(),
            (&self.chat_id).into(),
            (&self.chat_entry_id).into(),
            (&self.scenario_id).into(),
            (&self.scenario_name).into(),
            value(self.position),
            (&self.started_at).into(),
            (&self.ended_at).into(),
            opt(self.time_taken),
            (&self.linked_from_attempt_id).into(),
        ]
    }
}

impl CsvRow for MessageRow {
    const HEADER: &'static [&'static str] = &[
        "chat_id",
        "message_id",
        "parent_message_id",
        "seq",
        "kind",
        "content",
        "status",
        "created_at",
        "via_agent",
    ];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            (&self.chat_id).into(),
            (&self.message_id).into(),
            (&self.parent_message_id).into(),
            value(self.seq),
            self.kind.as_str().into(),
            (&self.content).into(),
            (&self.status).into(),
            (&self.created_at).into(),
            value(self.via_agent),
        ]
    }
}

impl CsvRow for GradeRow {
    const HEADER: &'static [&'static str] = &[
        "chat_id",
        "grade_id",
        "source",
        "state",
        "score",
        "max_score",
        "passed",
        "percentage",
        "feedback",
        "created_at",
        "via_agent",
    ];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            (&self.chat_id).into(),
            (&self.grade_id).into(),
            (&self.source).into(),
            (&self.state).into(),
            opt(self.score),
            opt(self.max_score),
            opt(self.passed),
            float(self.percentage),
            (&self.feedback).into(),
            (&self.created_at).into(),
            value(self.via_agent),
        ]
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn to_csv<R: CsvRow>(rows: &[R]) -> Result<Vec<u8>> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.to_vec());
    let fail = |e: csv::Error| SimulationError::InvalidField {
        field: "export".into(),
        reason: format!("cannot write a CSV: {e}"),
    };
    out.write_record(R::HEADER).map_err(fail)?;
    for row in rows {
        let cells = row.cells();
        let fields: Vec<std::borrow::Cow<'_, str>> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) => guard(s),
                Cell::Value(v) => std::borrow::Cow::Borrowed(v.as_str()),
            })
            .collect();
        out.write_record(fields.iter().map(|f| f.as_bytes())).map_err(fail)?;
    }
    out.into_inner().map_err(|e| SimulationError::InvalidField {
        field: "export".into(),
        reason: format!("cannot write a CSV: {e}"),
    })
}

/// The formula-injection guard (module docs).
pub fn guard(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn tables() -> ExportTables {
        ExportTables {
            attempts: vec![AttemptRow {
                attempt_id: "att-1".into(),
                created_at: "2026-03-01T09:00:00Z".into(),
                profile_id: "stu_abc123".into(),
                profile_name: Some("Tomás, \"TA\"".into()),
                simulation_id: "sim-oh".into(),
                simulation_name: Some("Office hours practice".into()),
                home_id: Some("home-1".into()),
                practice_id: None,
                department_id: Some("dep-math".into()),
                cohort_id: Some("coh-2026a".into()),
                infinite_mode: false,
                is_archived: false,
                ended_at: None,
                total_score: 7,
                total_possible_points: 10,
                percentage: 70.0,
                passed: true,
            }],
            chats: vec![ChatRow {
                attempt_id: "att-1".into(),
                chat_id: "chat-1".into(),
                chat_entry_id: "ce-1".into(),
                scenario_id: "scn-1".into(),
                scenario_name: Some("Late homework".into()),
                position: 0,
                started_at: "2026-03-01T09:00:00Z".into(),
                ended_at: Some("2026-03-01T09:05:00Z".into()),
                time_taken: Some(300),
                linked_from_attempt_id: None,
            }],
            messages: vec![
                MessageRow {
                    chat_id: "chat-1".into(),
                    message_id: "m-1".into(),
                    parent_message_id: None,
                    seq: 0,
                    kind: MessageKind::Query,
                    content: "=HYPERLINK(\"http://x\")".into(),
                    status: None,
                    created_at: "2026-03-01T09:00:10Z".into(),
                    via_agent: false,
                },
                MessageRow {
                    chat_id: "chat-1".into(),
                    message_id: "m-2".into(),
                    parent_message_id: Some("m-1".into()),
                    seq: 1,
                    kind: MessageKind::Response,
                    content: "Line one\r\nline two, with a comma".into(),
                    status: Some("complete".into()),
                    created_at: "2026-03-01T09:00:12Z".into(),
                    via_agent: true,
                },
            ],
            grades: vec![GradeRow {
                chat_id: "chat-1".into(),
                grade_id: "g-1".into(),
                source: "ai".into(),
                state: None,
                score: Some(7),
                max_score: Some(10),
                passed: Some(true),
                percentage: Some(33.33),
                feedback: Some("@SUM(A1) -- well done".into()),
                created_at: "2026-03-01T09:06:00Z".into(),
                via_agent: false,
            }],
            generated_at: Some(time::macros::datetime!(2026-03-02 10:20:31 +02:00)),
        }
    }

    fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>, zip::DateTime, zip::CompressionMethod)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut f = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                (
                    f.name().unwrap().into_owned(),
                    data,
                    f.last_modified().unwrap(),
                    f.compression(),
                )
            })
            .collect()
    }

    fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        assert!(bytes.starts_with(BOM));
        let mut r = csv::Reader::from_reader(&bytes[BOM.len()..]);
        let header = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
            .collect();
        (header, rows)
    }

    #[test]
    fn the_zip_holds_the_four_tables_with_headers_and_quoted_guarded_cells() {
        let t = tables();
        assert_eq!(row_count(&t), 5);
        let files = unzip(&write_zip(&t).unwrap());
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, FILE_NAMES);
        for f in &files {
            assert_eq!(f.3, zip::CompressionMethod::Deflated);
            // 10:20:31 at +02:00 is 08:20:31 UTC; DOS time keeps even seconds.
            let d = f.2;
            assert_eq!(
                (d.year(), d.month(), d.day(), d.hour(), d.minute(), d.second()),
                (2026, 3, 2, 8, 20, 30)
            );
        }

        let (header, rows) = parse(&files[0].1);
        assert_eq!(header, AttemptRow::HEADER);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][3], "Tomás, \"TA\"");
        assert_eq!(rows[0][7], "");
        assert_eq!(&rows[0][10..], ["false", "false", "", "7", "10", "70", "true"]);

        let (header, rows) = parse(&files[1].1);
        assert_eq!(header, ChatRow::HEADER);
        assert_eq!(rows[0][8], "300");

        let (header, rows) = parse(&files[2].1);
        assert_eq!(header, MessageRow::HEADER);
        assert_eq!(rows[0][5], "'=HYPERLINK(\"http://x\")");
        assert_eq!(rows[1][4], "response");
        assert_eq!(rows[1][5], "Line one\r\nline two, with a comma");
        assert_eq!(rows[1][2], "m-1");

        let (header, rows) = parse(&files[3].1);
        assert_eq!(header, GradeRow::HEADER);
        assert_eq!(rows[0][7], "33.33");
        assert_eq!(rows[0][8], "'@SUM(A1) -- well done");
        assert_eq!(rows[0][3], "");

        // Raw text: CRLF records, a header first.
        let text = std::str::from_utf8(&files[3].1[BOM.len()..]).unwrap();
        assert!(text.starts_with("chat_id,grade_id,source,state,score,"));
        assert!(text.ends_with("false\r\n"));
    }

    #[test]
    fn empty_tables_still_have_their_headers_and_equal_input_gives_equal_bytes() {
        let empty = ExportTables::default();
        assert_eq!(row_count(&empty), 0);
        let bytes = write_zip(&empty).unwrap();
        let files = unzip(&bytes);
        assert_eq!(files.len(), 4);
        for (f, header) in files.iter().zip([
            AttemptRow::HEADER,
            ChatRow::HEADER,
            MessageRow::HEADER,
            GradeRow::HEADER,
        ]) {
            let (h, rows) = parse(&f.1);
            assert_eq!(h, header);
            assert!(rows.is_empty());
            assert_eq!((f.2.year(), f.2.month(), f.2.day()), (1980, 1, 1));
        }
        assert_eq!(write_zip(&empty).unwrap(), bytes);
    }

    #[test]
    fn the_guard_prefixes_formula_starts_only() {
        for s in ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"] {
            assert_eq!(guard(s), format!("'{s}"));
        }
        for s in ["", "1", "a=b", " =x", "'quoted", "2026-03-01T09:00:00Z"] {
            assert_eq!(guard(s), s);
        }
    }

    #[test]
    fn tables_round_trip_as_json() {
        let t = tables();
        let back: ExportTables = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
