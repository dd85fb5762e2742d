//! The attempt flow end to end on plain values: start, next, end, end-all, grades, lobby,
//! results, use-previous, continuation options.

use std::collections::BTreeMap;

use simulation::SimulationError;
use simulation::attempt::{Attempt, AttemptChat, ChatEntry, ChatGrade, StartAttempt};
use time::OffsetDateTime;

fn at(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + s).unwrap()
}

fn entries(n: u32) -> Vec<ChatEntry> {
    (0..n)
        .rev() // given out of order: start sorts by position
        .map(|i| ChatEntry {
            chat_entry_id: format!("ce-{i}"),
            scenario_id: format!("scn-{i}"),
            scenario_name: format!("Scenario {i}"),
            position: i,
            rubric_points: 10,
            pass_points: 5,
        })
        .collect()
}

fn home() -> StartAttempt {
    StartAttempt {
        home_id: Some("home-1".into()),
        ..Default::default()
    }
}

fn practice(infinite: bool) -> StartAttempt {
    StartAttempt {
        practice_id: Some("prac-1".into()),
        infinite_mode: infinite,
        ..Default::default()
    }
}

fn start(req: &StartAttempt, n: u32, limit: u32) -> Attempt {
    Attempt::start("att-1".into(), req, entries(n), "chat-1".into(), limit, at(0)).unwrap()
}

#[test]
fn start_needs_home_or_practice_and_infinite_only_for_practice() {
    let e = Attempt::start("a".into(), &StartAttempt::default(), entries(1), "c".into(), 0, at(0));
    assert_eq!(e.unwrap_err(), SimulationError::MissingHomeOrPractice);
    let mut req = home();
    req.infinite_mode = true;
    let e = Attempt::start("a".into(), &req, entries(1), "c".into(), 0, at(0)).unwrap_err();
    assert_eq!(e, SimulationError::InfiniteModeRequiresPractice);
    assert_eq!(e.field(), Some("infinite_mode"));
    let e = Attempt::start("a".into(), &home(), vec![], "c".into(), 0, at(0)).unwrap_err();
    assert_eq!(e, SimulationError::NoScenarios);
    let a = start(&practice(true), 2, 0);
    assert_eq!(a.chats[0].chat_entry_id, "ce-0");
}

#[test]
fn a_home_played_through() {
    let mut a = start(&home(), 2, 900);
    let p = a.progress(at(10));
    assert_eq!(p.current_chat_index, Some(0));
    assert_eq!(p.expected_chat_count, Some(2));
    assert!(p.is_active && p.should_show_controls && !p.is_lobby && !p.show_results);

    // next before ending the running chat is refused.
    assert!(matches!(
        a.next("chat-2".into(), at(20)),
        Err(SimulationError::CurrentChatNotEnded { .. })
    ));
    let out = a.end_chat("chat-1", None, at(60)).unwrap();
    assert!(out.newly_ended && !out.is_attempt_finished);
    assert_eq!(
        a.record_grade("chat-1", 7).unwrap(),
        ChatGrade { score: 7, passed: true }
    );
    assert!(a.progress(at(61)).is_lobby);

    assert_eq!(a.next("chat-2".into(), at(70)).unwrap().chat_entry_id, "ce-1");
    assert_eq!(a.progress(at(71)).current_chat_index, Some(1));
    let out = a.end_chat("chat-2", Some(42), at(100)).unwrap();
    assert!(out.is_attempt_finished);
    assert_eq!(a.chats[1].time_taken(), Some(42));
    assert_eq!(a.chats[0].time_taken(), Some(60));
    a.record_grade("chat-2", 3).unwrap();
    // The latest grade wins.
    a.record_grade("chat-2", 6).unwrap();

    let p = a.progress(at(200));
    assert!(p.show_results && !p.is_active && !p.is_lobby && !p.should_show_controls);
    assert_eq!(p.current_chat_index, Some(1));
    let r = a.aggregated_results();
    assert_eq!(
        (r.total_score, r.total_possible_points, r.chats_completed, r.total_chats),
        (13, 20, 2, 2)
    );
    assert_eq!(r.percentage, 65.0);
    assert!(r.passed);
    assert_eq!(a.next("chat-3".into(), at(300)), Err(SimulationError::AttemptEnded));
    // Ending again is idempotent and keeps the first end.
    assert!(!a.end_chat("chat-2", None, at(400)).unwrap().newly_ended);
    assert_eq!(a.chats[1].ended_at, Some(at(100)));
}

#[test]
fn scores_above_the_rubric_are_refused() {
    let mut a = start(&home(), 1, 0);
    let e = a.record_grade("chat-1", 11).unwrap_err();
    assert_eq!(e.field(), Some("score"));
    assert!(matches!(
        a.record_grade("nope", 1),
        Err(SimulationError::UnknownChat { .. })
    ));
}

#[test]
fn end_all_ends_what_runs_and_reports_unplayed_scenarios() {
    let mut a = start(&home(), 3, 0);
    let out = a.end_all(at(30));
    assert_eq!(out.ended_chat_ids, vec!["chat-1"]);
    assert!(!out.all_scenarios_complete && !out.already_ended);
    assert!(a.end_all(at(40)).already_ended);
    let p = a.progress(at(50));
    assert!(p.show_results && !p.is_active);
    let r = a.aggregated_results();
    assert_eq!((r.chats_completed, r.total_chats, r.total_possible_points), (1, 3, 10));
    assert!(!r.passed);
}

#[test]
fn time_running_out_blocks_next_and_messages_but_not_ending() {
    let mut a = start(&home(), 2, 60);
    assert!(a.ensure_chat_open("chat-1", at(59)).is_ok());
    assert_eq!(
        a.ensure_chat_open("chat-1", at(60)).unwrap_err(),
        SimulationError::TimeLimitExceeded
    );
    a.end_chat("chat-1", None, at(61)).unwrap();
    assert_eq!(
        a.next("chat-2".into(), at(62)).unwrap_err(),
        SimulationError::TimeLimitExceeded
    );
    let p = a.progress(at(62));
    assert!(!p.is_lobby && p.show_results && p.timer.negative);
}

#[test]
fn infinite_mode_cycles_through_unplayed_scenarios() {
    let mut a = start(&practice(true), 3, 0);
    let mut order = vec![a.chats[0].chat_entry_id.clone()];
    for i in 2..=7 {
        let last = a.chats.last().unwrap().chat_id.clone();
        a.end_chat(&last, None, at(i)).unwrap();
        order.push(a.next(format!("chat-{i}"), at(i)).unwrap().chat_entry_id.clone());
    }
    assert_eq!(order, ["ce-0", "ce-1", "ce-2", "ce-0", "ce-1", "ce-2", "ce-0"]);
    let p = a.progress(at(100));
    assert_eq!(p.expected_chat_count, None);
    assert_eq!(p.current_chat_index, Some(6));
    let last = a.chats.last().unwrap().chat_id.clone();
    a.end_chat(&last, None, at(101)).unwrap();
    assert!(a.progress(at(102)).is_lobby, "infinite mode always expects more");
    assert_eq!(a.aggregated_results().total_chats, 7);
}

fn earlier_chat(id: &str, entry: &str, score: u64, secs: i64) -> AttemptChat {
    AttemptChat {
        chat_id: id.into(),
        chat_entry_id: entry.into(),
        scenario_id: "scn".into(),
        attempt_id: "att-0".into(),
        started_at: at(-10_000),
        ended_at: Some(at(-10_000 + secs)),
        time_taken_override: None,
        rubric_points: 10,
        pass_points: 5,
        grade: Some(ChatGrade {
            score,
            passed: score >= 5,
        }),
    }
}

fn lobby_home(n: u32) -> Attempt {
    let mut a = start(&home(), n, 0);
    a.end_chat("chat-1", None, at(10)).unwrap();
    a.record_grade("chat-1", 8).unwrap();
    a
}

#[test]
fn use_previous_links_graded_chats_of_the_same_entry() {
    let earlier = vec![
        earlier_chat("old-1", "ce-1", 9, 100),
        earlier_chat("old-2", "ce-2", 4, 100),
        earlier_chat("old-x", "ce-0", 9, 100),
    ];
    let mut a = lobby_home(3);
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    };
    for (m, field) in [
        (map(&[("ce-9", "old-1")]), "previous_chat_map.ce-9"),
        (map(&[("ce-0", "old-x")]), "previous_chat_map.ce-0"),
        (map(&[("ce-2", "old-1")]), "previous_chat_map.ce-2"),
        (map(&[("ce-1", "nope")]), "previous_chat_map.ce-1"),
        (map(&[]), "previous_chat_map"),
    ] {
        let before = a.clone();
        let e = a.use_previous(&m, &earlier, at(20)).unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
        assert_eq!(a, before, "a refused use-previous changes nothing");
    }
    let linked = a
        .use_previous(&map(&[("ce-2", "old-2"), ("ce-1", "old-1")]), &earlier, at(20))
        .unwrap();
    assert_eq!(linked.len(), 2);
    assert_eq!(
        a.chats.iter().map(|c| c.chat_entry_id.as_str()).collect::<Vec<_>>(),
        ["ce-0", "ce-1", "ce-2"]
    );
    let r = a.aggregated_results();
    assert_eq!((r.total_score, r.total_possible_points), (21, 30));
    assert!(!r.passed, "the copied 4 is below the pass mark");
    assert!(a.progress(at(21)).show_results);
    // A linked chat keeps the grade of its own attempt.
    assert!(a.record_grade("old-1", 1).is_err());
}

#[test]
fn continuation_options_offer_prefixes_of_the_best_earlier_chats() {
    let earlier = vec![
        earlier_chat("a1", "ce-1", 6, 300),
        earlier_chat("a2", "ce-1", 9, 500), // best for ce-1: highest score
        earlier_chat("a3", "ce-1", 9, 400), // … then least time
        earlier_chat("b1", "ce-2", 0, 50),  // adds nothing but time: dominated
        earlier_chat("c1", "ce-3", 7, 60),
    ];
    let a = lobby_home(5);
    let options = a.continuation_options(&earlier, at(20)).unwrap().options;
    let shapes: Vec<Vec<&str>> = options
        .iter()
        .map(|o| o.scenarios.iter().map(|s| s.attempt_chat_id.as_str()).collect())
        .collect();
    // [a3], [a3 b1] (dominated by [a3]), [a3 b1 c1]; ce-4 has no earlier chat, so it stops.
    assert_eq!(shapes, vec![vec!["a3"], vec!["a3", "b1", "c1"]]);
    assert_eq!((options[1].total_score, options[1].total_time), (16, 510));
    assert_eq!(options[1].total_percentage, 53.33);
    assert_eq!(options[0].scenarios[0].position, 1);
    let json = serde_json::to_value(&options[0]).unwrap();
    assert!(json["scenarios"][0].get("attempt_chat_id").is_some());

    // Not in the lobby (a chat runs), or not a home: no options.
    let running = start(&home(), 5, 0);
    assert!(running.continuation_options(&earlier, at(20)).is_none());
    let mut p = start(&practice(false), 5, 0);
    p.end_chat("chat-1", None, at(10)).unwrap();
    assert!(p.continuation_options(&earlier, at(20)).is_none());
}

#[test]
fn attempts_round_trip_through_json() {
    let a = lobby_home(2);
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"chat_entry_id\"") && json.contains("\"started_at\":\"2023-"));
    let back: Attempt = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}
