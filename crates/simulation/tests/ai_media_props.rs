//! Property tests of the AI persona and grader contracts, audio assembly and the export: no
//! input makes them panic, and what they return keeps its promises.

use std::io::{Cursor, Read};

use proptest::prelude::*;
use serde_json::{Value, json};
use simulation::ai_grader::parse_grade;
use simulation::audio::{Container, PCM_FORMAT, assemble, sniff};
use simulation::export::{ExportTables, GradeRow, MessageKind, MessageRow, guard, row_count, write_zip};
use simulation::persona::{
    HISTORY_BUDGET_CHARS, PersonaBrief, PersonaPrompt, ScenarioBrief, Speaker, Turn, parse_hints,
};
use simulation::rubric::Rubric;

fn office_hours() -> Rubric {
    serde_json::from_str(include_str!("data/rubric-office-hours.json")).unwrap()
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys that are the schema's more often than not, so objects get past the first check.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("criteria".to_owned()),
        Just("criterion_id".to_owned()),
        Just("level_id".to_owned()),
        Just("evidence".to_owned()),
        Just("feedback".to_owned()),
        Just("strengths".to_owned()),
        Just("replacements".to_owned()),
        "[a-z_]{1,8}",
    ]
}

fn rubric_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("crit-empathy".to_owned()),
        Just("crit-plan".to_owned()),
        Just("lvl-e0".to_owned()),
        Just("lvl-e4".to_owned()),
        Just("lvl-p3".to_owned()),
        Just("lvl-p6".to_owned()),
        "[a-z-]{0,6}",
    ]
}

/// A quote: a piece of a learner message (found), or anything (mostly not).
fn quote(messages: Vec<String>) -> impl Strategy<Value = String> {
    let pieces = messages.clone();
    prop_oneof![
        (0..messages.len().max(1), any::<usize>(), any::<usize>()).prop_map(move |(m, a, b)| {
            let Some(msg) = pieces.get(m) else {
                return String::new();
            };
            let chars: Vec<char> = msg.chars().collect();
            if chars.is_empty() {
                return String::new();
            }
            let (a, b) = (a % chars.len(), b % chars.len());
            chars[a.min(b)..=a.max(b)].iter().collect()
        }),
        ".{0,10}",
    ]
}

/// Answers shaped like the schema, with ids and quotes that may or may not be right.
fn near_valid_answer() -> impl Strategy<Value = (Vec<String>, Value)> {
    proptest::collection::vec("[a-zA-Z ,.é']{0,30}", 0..4).prop_flat_map(|messages| {
        let criterion = (
            rubric_id(),
            rubric_id(),
            ".{0,20}",
            proptest::collection::vec(quote(messages.clone()), 0..4),
        )
            .prop_map(|(c, l, r, e)| json!({"criterion_id": c, "level_id": l, "rationale": r, "evidence": e}));
        let note = (".{0,8}", ".{0,8}").prop_map(|(n, d)| json!({"name": n, "description": d}));
        let replacement = (quote(messages.clone()), ".{0,8}").prop_map(|(s, r)| json!({"section": s, "replace": r}));
        (
            Just(messages),
            proptest::collection::vec(criterion, 0..4),
            proptest::collection::vec(note, 0..3),
            proptest::collection::vec(replacement, 0..3),
            ".{0,20}",
        )
            .prop_map(|(messages, criteria, notes, replacements, feedback)| {
                (
                    messages,
                    json!({
                        "criteria": criteria,
                        "strengths": notes.clone(),
                        "improvements": notes,
                        "replacements": replacements,
                        "feedback": feedback
                    }),
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_grade_never_panics_on_any_json(v in any_json(), text in ".{0,40}") {
        let r = office_hours();
        let _ = parse_grade(&v.to_string(), &r, &["That sounds hard."]);
        let _ = parse_grade(&text, &r, &[]);
        let _ = parse_hints(&v.to_string());
        let _ = parse_hints(&text);
    }

    #[test]
    fn a_parsed_grade_is_the_rubrics_arithmetic_with_only_real_quotes((messages, answer) in near_valid_answer()) {
        let r = office_hours();
        let learner: Vec<&str> = messages.iter().map(String::as_str).collect();
        if let Ok(g) = parse_grade(&answer.to_string(), &r, &learner) {
            prop_assert!(g.outcome.score <= g.outcome.max_score);
            prop_assert_eq!(g.criteria.len(), r.criteria.len());
            for (c, scored) in g.criteria.iter().zip(&g.outcome.criteria) {
                prop_assert_eq!(&c.level_id, &scored.level_id);
                for q in &c.evidence {
                    prop_assert!(!q.text.is_empty());
                    prop_assert!(learner[q.message_index][q.offset..].starts_with(&q.text));
                }
            }
            for rep in &g.replacements {
                prop_assert!(learner[rep.message_index][rep.offset..].starts_with(&rep.section));
            }
            let offered: usize = answer["criteria"].as_array().unwrap().iter()
                .map(|c| c["evidence"].as_array().map_or(0, Vec::len)).sum::<usize>()
                + answer["replacements"].as_array().unwrap().len();
            let kept: usize = g.criteria.iter().map(|c| c.evidence.len()).sum::<usize>() + g.replacements.len();
            prop_assert!(kept + g.dropped_quotes <= offered);
        }
    }

    #[test]
    fn persona_history_stays_in_budget_and_keeps_the_last_learner_turn(
        turns in proptest::collection::vec((any::<bool>(), 0usize..12_000, ".{0,3}"), 0..12)
    ) {
        let transcript: Vec<Turn> = turns
            .iter()
            .map(|(learner, n, s)| {
                let text = format!("{s}{}", "a".repeat(*n));
                if *learner { Turn::learner(text) } else { Turn::persona(text) }
            })
            .collect();
        let persona = PersonaBrief { id: "p".into(), name: "P".into(), instructions: String::new() };
        let scenario = ScenarioBrief { name: "S".into(), problem_statement: String::new(), objectives: vec![] };
        let p = PersonaPrompt::build(&persona, &scenario, &transcript);
        prop_assert!(p.history.iter().map(|t| t.1.chars().count()).sum::<usize>() <= HISTORY_BUDGET_CHARS);
        prop_assert!(p.history.iter().all(|t| !t.1.trim().is_empty()));
        let has_learner = transcript.iter().any(|t| t.speaker == Speaker::Learner && !t.text.trim().is_empty());
        prop_assert_eq!(p.history.iter().any(|t| t.0 == Speaker::Learner), has_learner);
    }
}

/// A frame's first bytes: a container's magic (sometimes), then anything.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![
        Just(Vec::new()),
        Just(b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0".to_vec()),
        Just(b"RIFF\0\0\0\0WAVE".to_vec()),
        Just(b"RIFF\0\0\0\0AVI ".to_vec()),
        Just(vec![0x1A, 0x45, 0xDF, 0xA3]),
        Just(b"OggS".to_vec()),
        Just(b"ID3".to_vec()),
        Just(b"\0\0\0\x18ftyp".to_vec()),
        Just(vec![0xFF, 0xFB, 0x90, 0x00]),
    ];
    (prefix, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(mut p, rest)| {
        p.extend(rest);
        p
    })
}

/// A real WAV file of a random format.
fn wav_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        1u16..3,
        prop_oneof![Just(8_000u32), Just(24_000)],
        prop_oneof![Just(8u16), Just(16), Just(24)],
        0usize..200,
    )
        .prop_map(|(channels, sample_rate, bits, n)| {
            let spec = hound::WavSpec {
                channels,
                sample_rate,
                bits_per_sample: bits,
                sample_format: hound::SampleFormat::Int,
            };
            let mut buffer = Cursor::new(Vec::new());
            let mut w = hound::WavWriter::new(&mut buffer, spec).unwrap();
            for i in 0..n * usize::from(channels) {
                w.write_sample((i % 100) as i32 - 50).unwrap();
            }
            w.finalize().unwrap();
            buffer.into_inner()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn assemble_never_panics_and_its_output_is_bounded(
        frames in proptest::collection::vec(prop_oneof![frame(), wav_frame()], 0..5),
        max in 0usize..2_000,
    ) {
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let total: usize = frames.iter().map(Vec::len).sum();
        match assemble(&refs, max) {
            Ok(a) => {
                prop_assert!(total <= max);
                // A joined WAV never grows by more than its header (24-bit in wider containers
                // only shrinks); streams are the bytes themselves.
                prop_assert!(a.bytes.len() <= total + 44 + 24);
                if a.mime_type == "audio/wav" {
                    let r = hound::WavReader::new(Cursor::new(&a.bytes[..])).unwrap();
                    prop_assert!(a.duration_ms.is_some());
                    // The header is 44 bytes, or 68 for the extensible format hound writes
                    // for 24-bit samples.
                    let data = r.len() as usize * (r.spec().bits_per_sample as usize / 8);
                    prop_assert!(a.bytes.len() == data + 44 || a.bytes.len() == data + 68);
                } else {
                    prop_assert_eq!(a.bytes, frames.concat());
                    prop_assert!(a.duration_ms.is_none());
                }
            }
            Err(e) => prop_assert!(e.field().is_some_and(|f| f.starts_with("frames"))),
        }
    }

    #[test]
    fn raw_pcm_keeps_every_whole_sample(bytes in proptest::collection::vec(any::<u8>(), 2..400), cut in any::<usize>()) {
        prop_assume!(sniff(&bytes) == Container::Raw);
        let cut = cut % bytes.len();
        let (a, b) = bytes.split_at(cut);
        // The second piece on its own may look like a header; that case is covered above.
        // A prefix of a PCM stream can be exactly one MP3 frame (one chance in thousands).
        prop_assume!(a.is_empty() || sniff(a) == Container::Raw);
        prop_assume!(b.is_empty() || matches!(sniff(b), Container::Raw | Container::Mp3) && !b.starts_with(b"ID3"));
        let out = assemble(&[a, b], usize::MAX).unwrap();
        let r = hound::WavReader::new(Cursor::new(&out.bytes[..])).unwrap();
        prop_assert_eq!(r.spec(), PCM_FORMAT);
        let samples: Vec<i16> = r.into_samples::<i16>().map(Result::unwrap).collect();
        let expected: Vec<i16> = bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        prop_assert_eq!(samples, expected);
    }

    #[test]
    fn any_text_survives_the_export_guarded(
        texts in proptest::collection::vec(".{0,20}|[=+@\\-\\t\\r\"',\\n].{0,10}", 1..6)
    ) {
        let tables = ExportTables {
            messages: texts.iter().enumerate().map(|(i, t)| MessageRow {
                chat_id: t.clone(),
                message_id: format!("m-{i}"),
                parent_message_id: None,
                seq: i as u64,
                kind: MessageKind::Query,
                content: t.clone(),
                status: Some(t.clone()),
                created_at: "2026-01-01T00:00:00Z".into(),
                via_agent: false,
            }).collect(),
            grades: vec![GradeRow {
                chat_id: "c".into(), grade_id: "g".into(), source: "ai".into(), state: None, score: None,
                max_score: None, passed: None, percentage: Some(f64::NAN), feedback: None,
                created_at: "t".into(), via_agent: true,
            }],
            ..ExportTables::default()
        };
        prop_assert_eq!(row_count(&tables), texts.len() + 1);
        let zip = write_zip(&tables).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        let mut csv_bytes = Vec::new();
        archive.by_name("messages.csv").unwrap().read_to_end(&mut csv_bytes).unwrap();
        // The csv crate skips the byte-order mark itself.
        let mut reader = csv::Reader::from_reader(&csv_bytes[..]);
        prop_assert_eq!(&reader.headers().unwrap()[0], "chat_id");
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        prop_assert_eq!(rows.len(), texts.len());
        for (row, t) in rows.iter().zip(&texts) {
            let guarded = guard(t);
            prop_assert_eq!(&row[0], guarded.as_ref());
            prop_assert_eq!(&row[5], guarded.as_ref());
            prop_assert_eq!(&row[6], guarded.as_ref());
        }
        let mut grades = Vec::new();
        archive.by_name("grades.csv").unwrap().read_to_end(&mut grades).unwrap();
        let mut reader = csv::Reader::from_reader(&grades[..]);
        let row = reader.records().next().unwrap().unwrap();
        prop_assert_eq!(&row[7], "");
    }
}
