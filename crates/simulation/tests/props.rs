//! Property tests: no input makes the validators or the flow panic, and the invariants the
//! service relies on hold for any input.

use std::collections::BTreeMap;

use proptest::prelude::*;
use simulation::attempt::{Attempt, ChatEntry, StartAttempt};
use simulation::rubric::{CriterionChoice, Rubric, percentage};
use simulation::rule_grader::{RuleGrader, choices, locate_quote};
use simulation::supplied::SuppliedGrade;
use simulation::timer::timer;
use simulation::video::{Question, QuestionOption};
use time::OffsetDateTime;

fn office_hours() -> Rubric {
    serde_json::from_str(include_str!("data/rubric-office-hours.json")).unwrap()
}

fn at(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + s).unwrap()
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("crit-empathy".to_owned()),
        Just("crit-plan".to_owned()),
        Just("lvl-e0".to_owned()),
        Just("lvl-e4".to_owned()),
        Just("lvl-p6".to_owned()),
        "[a-z-]{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn grading_any_choices_never_panics_and_stays_in_range(
        picks in proptest::collection::vec((id(), id()), 0..5)
    ) {
        let r = office_hours();
        let picks: Vec<_> = picks.into_iter()
            .map(|(criterion_id, level_id)| CriterionChoice { criterion_id, level_id })
            .collect();
        if let Ok(g) = r.grade(&picks) {
            prop_assert!(g.score <= g.max_score);
            prop_assert!((0.0..=100.0).contains(&g.percentage));
            prop_assert_eq!(g.passed, r.passes(g.score));
            prop_assert_eq!(g.criteria.len(), r.criteria.len());
        }
    }

    #[test]
    fn percentage_is_within_bounds(score in any::<u64>(), max in any::<u64>()) {
        let p = percentage(score, max);
        prop_assert!((0.0..=100.0).contains(&p));
    }

    #[test]
    fn any_rubric_validates_or_errors_without_panicking(
        points in proptest::collection::vec((any::<u32>(), any::<u32>(), any::<u32>()), 0..4),
        pattern in ".{0,12}",
    ) {
        let mut r = office_hours();
        for (c, (p, pass, lp)) in points.iter().enumerate() {
            if let Some(crit) = r.criteria.get_mut(c) {
                crit.points = *p;
                crit.pass_points = *pass;
                crit.levels[0].points = *lp;
                crit.levels[0].evidence = vec![pattern.clone()];
            }
        }
        if r.validate().is_ok() {
            let g = RuleGrader::new(&r).unwrap();
            let rule = g.grade(&["That sounds hard", &pattern]);
            prop_assert!(r.grade(&choices(&rule)).is_ok());
        }
    }

    #[test]
    fn rule_grades_are_deterministic_and_quotes_verifiable(
        messages in proptest::collection::vec("(?i)(that sounds|thanks|let's see|deadline|friday|by friday| |x){0,6}", 0..4)
    ) {
        let r = office_hours();
        let g = RuleGrader::new(&r).unwrap();
        let msgs: Vec<&str> = messages.iter().map(String::as_str).collect();
        let a = g.grade(&msgs);
        prop_assert_eq!(&a, &g.grade(&msgs));
        let outcome = r.grade(&choices(&a)).unwrap();
        prop_assert!(outcome.score <= outcome.max_score);
        for c in &a {
            for q in &c.evidence {
                prop_assert!(locate_quote(&msgs, &q.quote).is_some());
            }
        }
    }

    #[test]
    fn supplied_grades_never_panic(
        score in proptest::option::of(any::<i64>()),
        passed in proptest::option::of(any::<bool>()),
        time_taken in proptest::option::of(any::<i64>()),
        text in ".{0,8}",
        total in proptest::option::of(any::<i64>()),
        idx in proptest::option::of(any::<i64>()),
    ) {
        let json = serde_json::json!({
            "score": score, "passed": passed, "time_taken": time_taken,
            "feedbacks": [{"feedback": text, "total": total}],
            "highlights": [{"section": text, "idx": idx}],
            "strengths": [{"name": text}],
        });
        let g: SuppliedGrade = serde_json::from_value(json).unwrap();
        let r = office_hours();
        if let Ok(checked) = g.check(&r)
            && let Some(s) = checked.score
        {
            prop_assert!(s <= r.total_points());
            prop_assert_eq!(checked.passed, Some(r.passes(s)));
        }
    }

    #[test]
    fn timers_never_panic(start in -1_000_000_000i64..1_000_000_000, now in -1_000_000_000i64..1_000_000_000,
                          ended in proptest::option::of(-1_000_000_000i64..1_000_000_000), limit in any::<u32>()) {
        let t = timer(at(start), ended.map(at), at(now), limit);
        prop_assert!(t.elapsed >= 0);
        prop_assert_eq!(t.negative, limit > 0 && t.elapsed > i64::from(limit));
        prop_assert!(!t.negative || t.exceeded);
    }

    #[test]
    fn answers_never_panic(flags in proptest::collection::vec(any::<bool>(), 0..5), multiple in any::<bool>(),
                           picked in proptest::collection::vec("o[0-6]", 0..6)) {
        let q = Question {
            id: "q".into(), question_text: String::new(), allow_multiple: multiple,
            options: flags.iter().enumerate()
                .map(|(i, c)| QuestionOption { id: format!("o{i}"), option_text: String::new(), is_correct: *c })
                .collect(),
        };
        if let Ok(a) = q.answer(&picked) {
            prop_assert!(!a.option_ids.is_empty());
            prop_assert!(multiple || a.option_ids.len() == 1);
        }
    }

    /// Any sequence of flow operations: no panic, and the invariants of `get` hold.
    #[test]
    fn the_flow_never_panics_and_keeps_its_invariants(
        home in any::<bool>(), infinite in any::<bool>(), n in 0u32..4, limit in 0u32..200,
        ops in proptest::collection::vec((0u8..6, 0usize..8, 0u64..14, 0i64..20), 0..30),
    ) {
        let req = if home {
            StartAttempt { home_id: Some("h".into()), infinite_mode: infinite, ..Default::default() }
        } else {
            StartAttempt { practice_id: Some("p".into()), infinite_mode: infinite, ..Default::default() }
        };
        let entries: Vec<ChatEntry> = (0..n).map(|i| ChatEntry {
            chat_entry_id: format!("ce-{i}"), scenario_id: format!("s{i}"), scenario_name: String::new(),
            position: i, rubric_points: 10, pass_points: 5,
        }).collect();
        let Ok(mut a) = Attempt::start("att".into(), &req, entries, "c0".into(), limit, at(0)) else {
            prop_assert!(n == 0 || (home && infinite));
            return Ok(());
        };
        let earlier: Vec<_> = Vec::new();
        let mut now = 0;
        for (k, (op, pick, score, dt)) in ops.into_iter().enumerate() {
            now += dt;
            let chat = a.chats.get(pick % a.chats.len().max(1)).map(|c| c.chat_id.clone()).unwrap_or_default();
            let _ = match op {
                0 => a.next(format!("c{}", k + 1), at(now)).map(|_| ()),
                1 => a.end_chat(&chat, None, at(now)).map(|_| ()),
                2 => a.record_grade(&chat, score).map(|_| ()),
                3 => { a.end_all(at(now)); Ok(()) }
                4 => a.use_previous(&BTreeMap::from([(format!("ce-{pick}"), "x".into())]), &earlier, at(now)).map(|_| ()),
                _ => a.ensure_chat_open(&chat, at(now)).map(|_| ()),
            };
            let p = a.progress(at(now));
            let r = a.aggregated_results();
            prop_assert!(r.total_score <= r.total_possible_points);
            prop_assert!((0.0..=100.0).contains(&r.percentage));
            prop_assert!(!(p.is_lobby && p.show_results));
            prop_assert!(!(p.is_lobby && p.should_show_controls));
            prop_assert!(a.chats.iter().filter(|c| !c.is_complete()).count() <= 1);
            if !infinite {
                prop_assert!(a.chats.len() <= n as usize);
                prop_assert_eq!(p.expected_chat_count, Some(n as usize));
            }
            let _ = a.continuation_options(&earlier, at(now));
        }
    }
}
