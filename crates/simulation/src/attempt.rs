//! An attempt's flow: start, next, end a chat, end-all, grades, use-previous, and what `get`
//! derives from it (current chat, lobby, results, continuation options). The service loads an
//! [`Attempt`] (its chat entries with their effective rubric totals, its chats), calls one
//! transition with the ids and the time it chose, and stores the result; nothing here reads a
//! clock or makes an id.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Result, SimulationError};
use crate::rubric::{passes, percentage};
use crate::timer::{TimerData, seconds_between, timer};

/// The `start` request body (spec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartAttempt {
    #[serde(default)]
    pub home_id: Option<String>,
    #[serde(default)]
    pub practice_id: Option<String>,
    #[serde(default)]
    pub infinite_mode: bool,
}

/// What an attempt is a run through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum AttemptSource {
    Home(String),
    Practice(String),
}

impl StartAttempt {
    /// SIMULATION.md: 400 without home_id or practice_id; infinite mode only for a practice.
    /// Both given is also a 400 (decided: which one the learner meant is a guess). Blank ids
    /// count as absent.
    pub fn source(&self) -> Result<AttemptSource> {
        let given = |id: &Option<String>| id.as_deref().filter(|s| !s.trim().is_empty()).map(str::to_owned);
        match (given(&self.home_id), given(&self.practice_id)) {
            (None, None) => Err(SimulationError::MissingHomeOrPractice),
            (Some(_), Some(_)) => Err(SimulationError::BothHomeAndPractice),
            (Some(_), None) if self.infinite_mode => Err(SimulationError::InfiniteModeRequiresPractice),
            (Some(home), None) => Ok(AttemptSource::Home(home)),
            (None, Some(practice)) => Ok(AttemptSource::Practice(practice)),
        }
    }
}

/// A chat entry of the home or practice: one scenario slot, with the totals of the rubric in
/// force for its scenario (the scenario's override, else the simulation's), which a chat
/// snapshots when it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEntry {
    pub chat_entry_id: String,
    pub scenario_id: String,
    #[serde(default)]
    pub scenario_name: String,
    /// Order within the home or practice; the engine sorts by it.
    pub position: u32,
    pub rubric_points: u64,
    pub pass_points: u64,
}

/// The latest grade of a chat (SIMULATION.md: the latest wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatGrade {
    pub score: u64,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptChat {
    pub chat_id: String,
    pub chat_entry_id: String,
    pub scenario_id: String,
    /// The attempt that created the chat; another attempt's id when linked by use-previous.
    pub attempt_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The agent's `time_taken` when it supplied one on `end`, else start to end.
    #[serde(default)]
    pub time_taken_override: Option<u64>,
    /// Snapshot of the rubric's totals when the chat opened.
    pub rubric_points: u64,
    pub pass_points: u64,
    #[serde(default)]
    pub grade: Option<ChatGrade>,
}

impl AttemptChat {
    pub fn is_complete(&self) -> bool {
        self.ended_at.is_some()
    }

    /// SIMULATION.md: seconds from the chat's start to its end; `None` while it runs.
    pub fn time_taken(&self) -> Option<u64> {
        let ended = self.ended_at?;
        Some(
            self.time_taken_override
                .unwrap_or_else(|| seconds_between(self.started_at, ended).unsigned_abs()),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub attempt_id: String,
    pub source: AttemptSource,
    pub infinite_mode: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Set by end-all, or when the last expected chat ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The simulation's `time_limit` for the whole attempt; 0 = none.
    pub time_limit: u32,
    /// Sorted by position.
    pub chat_entries: Vec<ChatEntry>,
    /// In the order played; outside infinite mode kept in chat-entry order.
    pub chats: Vec<AttemptChat>,
}

/// `get`'s derived fields (SIMULATION.md "Derived fields of get").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptProgress {
    pub timer: TimerData,
    pub current_chat_index: Option<usize>,
    pub current_chat_id: Option<String>,
    pub chat_entry_id: Option<String>,
    /// `None` in infinite mode (unbounded).
    pub expected_chat_count: Option<usize>,
    pub is_active: bool,
    pub is_lobby: bool,
    pub show_results: bool,
    pub should_show_controls: bool,
}

/// The spec's `AggregatedResults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregatedResults {
    pub total_score: u64,
    pub total_possible_points: u64,
    pub percentage: f64,
    pub passed: bool,
    pub chats_completed: usize,
    pub total_chats: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndChatOutcome {
    pub chat_id: String,
    /// False when the chat had already ended (ending is idempotent; the first end time stays).
    pub newly_ended: bool,
    pub is_attempt_finished: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndAllOutcome {
    /// The chats this call ended.
    pub ended_chat_ids: Vec<String>,
    /// Every chat entry has a chat in the attempt (all now ended).
    pub all_scenarios_complete: bool,
    pub already_ended: bool,
}

impl Attempt {
    /// `start`: the attempt and its first chat, of the first chat entry.
    pub fn start(
        attempt_id: String,
        request: &StartAttempt,
        mut chat_entries: Vec<ChatEntry>,
        first_chat_id: String,
        time_limit: u32,
        now: OffsetDateTime,
    ) -> Result<Self> {
        let source = request.source()?;
        if chat_entries.is_empty() {
            return Err(SimulationError::NoScenarios);
        }
        chat_entries.sort_by_key(|e| e.position);
        let mut seen = HashSet::new();
        for (index, entry) in chat_entries.iter().enumerate() {
            if !seen.insert(entry.chat_entry_id.as_str()) {
                return Err(SimulationError::InvalidChatEntries {
                    index,
                    reason: format!("duplicate chat entry {:?}", entry.chat_entry_id),
                });
            }
            if entry.pass_points > entry.rubric_points {
                return Err(SimulationError::InvalidChatEntries {
                    index,
                    reason: "pass_points exceed rubric_points".into(),
                });
            }
        }
        let mut attempt = Attempt {
            attempt_id,
            source,
            infinite_mode: request.infinite_mode,
            started_at: now,
            ended_at: None,
            time_limit,
            chat_entries,
            chats: Vec::new(),
        };
        attempt.open_chat(0, first_chat_id, now);
        Ok(attempt)
    }

    fn open_chat(&mut self, entry_index: usize, chat_id: String, now: OffsetDateTime) {
        let Some(entry) = self.chat_entries.get(entry_index) else {
            return;
        };
        self.chats.push(AttemptChat {
            chat_id,
            chat_entry_id: entry.chat_entry_id.clone(),
            scenario_id: entry.scenario_id.clone(),
            attempt_id: self.attempt_id.clone(),
            started_at: now,
            ended_at: None,
            time_taken_override: None,
            rubric_points: entry.rubric_points,
            pass_points: entry.pass_points,
            grade: None,
        });
        self.keep_entry_order();
    }

    fn keep_entry_order(&mut self) {
        if self.infinite_mode {
            return;
        }
        let position = |entry_id: &str| {
            self.chat_entries
                .iter()
                .position(|e| e.chat_entry_id == entry_id)
                .unwrap_or(usize::MAX)
        };
        let mut chats = std::mem::take(&mut self.chats);
        chats.sort_by_key(|c| position(&c.chat_entry_id));
        self.chats = chats;
    }

    pub fn timer(&self, now: OffsetDateTime) -> TimerData {
        timer(self.started_at, self.ended_at, now, self.time_limit)
    }

    /// Not ended and the time has not run out (SIMULATION.md `is_active`).
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.ended_at.is_none() && !self.timer(now).exceeded
    }

    fn played(&self, entry_id: &str) -> usize {
        self.chats.iter().filter(|c| c.chat_entry_id == entry_id).count()
    }

    /// Chat entries with no chat in this attempt, in order.
    pub fn remaining_entries(&self) -> impl Iterator<Item = &ChatEntry> {
        self.chat_entries.iter().filter(|e| self.played(&e.chat_entry_id) == 0)
    }

    fn all_created_complete(&self) -> bool {
        self.chats.iter().all(AttemptChat::is_complete)
    }

    /// More chats expected: always in infinite mode, else while an entry has no chat.
    fn more_expected(&self) -> bool {
        self.infinite_mode || self.remaining_entries().next().is_some()
    }

    fn chat_mut(&mut self, chat_id: &str) -> Result<&mut AttemptChat> {
        self.chats
            .iter_mut()
            .find(|c| c.chat_id == chat_id)
            .ok_or_else(|| SimulationError::UnknownChat {
                chat_id: chat_id.to_owned(),
            })
    }

    /// What `message`, `response` and audio need: the chat is this attempt's, has not ended,
    /// and the attempt is active.
    pub fn ensure_chat_open(&self, chat_id: &str, now: OffsetDateTime) -> Result<&AttemptChat> {
        let chat = self
            .chats
            .iter()
            .find(|c| c.chat_id == chat_id)
            .ok_or_else(|| SimulationError::UnknownChat {
                chat_id: chat_id.to_owned(),
            })?;
        self.ensure_active(now)?;
        if chat.is_complete() {
            return Err(SimulationError::ChatEnded {
                chat_id: chat_id.to_owned(),
            });
        }
        Ok(chat)
    }

    fn ensure_active(&self, now: OffsetDateTime) -> Result<()> {
        if self.ended_at.is_some() {
            return Err(SimulationError::AttemptEnded);
        }
        if self.timer(now).exceeded {
            return Err(SimulationError::TimeLimitExceeded);
        }
        Ok(())
    }

    /// `next`: opens a chat of the next scenario and returns it.
    /// - the attempt must be active, and every chat so far ended (decided: `next` does not end
    ///   a running chat behind the learner's back; `end` does that, with its grade);
    /// - outside infinite mode: the first chat entry without a chat, else `NoMoreScenarios`;
    /// - infinite mode: a fresh chat of the entry played the fewest times, the first in order
    ///   among equals — every scenario once before any twice, then round again (cycling).
    pub fn next(&mut self, chat_id: String, now: OffsetDateTime) -> Result<&AttemptChat> {
        self.ensure_active(now)?;
        if let Some(open) = self.chats.iter().find(|c| !c.is_complete()) {
            return Err(SimulationError::CurrentChatNotEnded {
                chat_id: open.chat_id.clone(),
            });
        }
        let entry_index = if self.infinite_mode {
            (0..self.chat_entries.len()).min_by_key(|&i| (self.played(&self.chat_entries[i].chat_entry_id), i))
        } else {
            self.chat_entries
                .iter()
                .position(|e| self.played(&e.chat_entry_id) == 0)
        }
        .ok_or(SimulationError::NoMoreScenarios)?;
        self.open_chat(entry_index, chat_id.clone(), now);
        self.chats
            .iter()
            .find(|c| c.chat_id == chat_id)
            .ok_or(SimulationError::UnknownChat { chat_id })
    }

    /// `next` with a draft: in infinite mode, a fresh chat of the chat entry the learner chose
    /// (`next.draft_id` names a chat entry or its scenario); the same checks as [`Attempt::next`].
    /// Outside infinite mode the order is the home's or practice's, so a draft is refused.
    pub fn next_entry(&mut self, chat_id: String, draft: &str, now: OffsetDateTime) -> Result<&AttemptChat> {
        self.ensure_active(now)?;
        if let Some(open) = self.chats.iter().find(|c| !c.is_complete()) {
            return Err(SimulationError::CurrentChatNotEnded {
                chat_id: open.chat_id.clone(),
            });
        }
        let entry_index = self
            .chat_entries
            .iter()
            .position(|e| e.chat_entry_id == draft || e.scenario_id == draft)
            .ok_or_else(|| SimulationError::UnknownChatEntry {
                field: "draft_id".into(),
                chat_entry_id: draft.to_owned(),
            })?;
        if !self.infinite_mode {
            return Err(SimulationError::InvalidField {
                field: "draft_id".into(),
                reason: "a draft is only taken in infinite mode".into(),
            });
        }
        self.open_chat(entry_index, chat_id.clone(), now);
        self.chats
            .iter()
            .find(|c| c.chat_id == chat_id)
            .ok_or(SimulationError::UnknownChat { chat_id })
    }

    /// `end`: ends one chat at `now` (or keeps its first end: idempotent, so a retried request
    /// or a re-grade through `end` cannot move the end time). `time_taken` is an agent's
    /// supplied value, already validated. Ending is allowed after the time ran out — that is
    /// when it is most needed. When the last expected chat ends, the attempt ends with it.
    pub fn end_chat(&mut self, chat_id: &str, time_taken: Option<u64>, now: OffsetDateTime) -> Result<EndChatOutcome> {
        if self.ended_at.is_some() && !self.chats.iter().any(|c| c.chat_id == chat_id && c.is_complete()) {
            return Err(SimulationError::AttemptEnded);
        }
        let chat = self.chat_mut(chat_id)?;
        let newly_ended = chat.ended_at.is_none();
        if newly_ended {
            chat.ended_at = Some(now.max(chat.started_at));
            chat.time_taken_override = time_taken;
        }
        self.finish_if_complete(now);
        Ok(EndChatOutcome {
            chat_id: chat_id.to_owned(),
            newly_ended,
            is_attempt_finished: self.ended_at.is_some(),
        })
    }

    fn finish_if_complete(&mut self, now: OffsetDateTime) {
        if self.ended_at.is_none() && !self.more_expected() && self.all_created_complete() {
            self.ended_at = Some(now.max(self.started_at));
        }
    }

    /// `end-all`: ends every running chat and the attempt. Idempotent.
    pub fn end_all(&mut self, now: OffsetDateTime) -> EndAllOutcome {
        let already_ended = self.ended_at.is_some();
        let mut ended_chat_ids = Vec::new();
        for chat in self.chats.iter_mut().filter(|c| c.ended_at.is_none()) {
            chat.ended_at = Some(now.max(chat.started_at));
            ended_chat_ids.push(chat.chat_id.clone());
        }
        if self.ended_at.is_none() {
            self.ended_at = Some(now.max(self.started_at));
        }
        EndAllOutcome {
            ended_chat_ids,
            all_scenarios_complete: self.remaining_entries().next().is_none(),
            already_ended,
        }
    }

    /// Records a chat's grade (latest wins). `passed` is computed from the score by the chat's
    /// snapshot of the rubric; a score above the snapshot's total is a 422. Grading does not
    /// need the chat to have ended nor the attempt to be active (a teacher may re-grade later).
    pub fn record_grade(&mut self, chat_id: &str, score: u64) -> Result<ChatGrade> {
        let attempt_id = self.attempt_id.clone();
        let chat = self.chat_mut(chat_id)?;
        if chat.attempt_id != attempt_id {
            // A linked chat's grade is copied from its own attempt; grading it here would
            // silently change the other attempt's results.
            return Err(SimulationError::UnknownChat {
                chat_id: chat_id.to_owned(),
            });
        }
        if score > chat.rubric_points {
            return Err(SimulationError::ScoreOutOfRange {
                field: "score".into(),
                value: i64::try_from(score).unwrap_or(i64::MAX),
                max: chat.rubric_points,
            });
        }
        let grade = ChatGrade {
            score,
            passed: passes(score, chat.pass_points),
        };
        chat.grade = Some(grade);
        Ok(grade)
    }

    /// `get`'s derived fields at `now`.
    pub fn progress(&self, now: OffsetDateTime) -> AttemptProgress {
        let timer = self.timer(now);
        let is_active = self.ended_at.is_none() && !timer.exceeded;
        let current = self
            .chats
            .iter()
            .position(|c| !c.is_complete())
            .or_else(|| self.chats.len().checked_sub(1));
        let all_complete = self.all_created_complete();
        let more = self.more_expected();
        AttemptProgress {
            current_chat_index: current,
            current_chat_id: current.map(|i| self.chats[i].chat_id.clone()),
            chat_entry_id: current.map(|i| self.chats[i].chat_entry_id.clone()),
            expected_chat_count: (!self.infinite_mode).then_some(self.chat_entries.len()),
            is_active,
            is_lobby: all_complete && more && is_active,
            // Results show once nothing more will be played: every chat complete and the
            // attempt ended, all entries played, or the time run out (decided for the last:
            // otherwise a timed-out attempt between chats would show neither lobby nor results).
            show_results: all_complete && (self.ended_at.is_some() || !more || timer.exceeded),
            should_show_controls: is_active && !all_complete,
            timer,
        }
    }

    /// The spec's `AggregatedResults` (SIMULATION.md: total_possible_points sums the rubric
    /// totals of all the attempt's chats; total_score their latest grades, ungraded 0).
    /// Decided: `total_chats` is the expected count (chat entries), or the chats created in
    /// infinite mode; `passed` means every expected chat is complete and passed.
    pub fn aggregated_results(&self) -> AggregatedResults {
        let total_score = self
            .chats
            .iter()
            .filter_map(|c| c.grade.map(|g| g.score.min(c.rubric_points)))
            .sum();
        let total_possible_points = self.chats.iter().map(|c| c.rubric_points).sum();
        let chats_completed = self.chats.iter().filter(|c| c.is_complete()).count();
        let total_chats = if self.infinite_mode {
            self.chats.len()
        } else {
            self.chat_entries.len()
        };
        let passed = total_chats > 0
            && chats_completed >= total_chats
            && self.remaining_entries().next().is_none()
            && self
                .chats
                .iter()
                .all(|c| c.is_complete() && c.grade.is_some_and(|g| g.passed));
        AggregatedResults {
            total_score,
            total_possible_points,
            percentage: percentage(total_score, total_possible_points),
            passed,
            chats_completed,
            total_chats,
        }
    }

    /// `use-previous`: links earlier chats of the same learner into this attempt, one per
    /// chat entry, so their grades count here. `earlier` are the learner's chats the service
    /// loaded. Rules (SIMULATION.md: same learner, same chat entry, anything else 422; the
    /// rest decided): the attempt is active and not infinite (infinite mode plays fresh
    /// chats); the map is not empty; each key is a chat entry of this attempt with no chat yet;
    /// each value a chat of another attempt, of that same entry, ended and graded. All or
    /// nothing: the first failure changes nothing. Returns the linked chat ids.
    pub fn use_previous(
        &mut self,
        previous_chat_map: &BTreeMap<String, String>,
        earlier: &[AttemptChat],
        now: OffsetDateTime,
    ) -> Result<Vec<String>> {
        self.ensure_active(now)?;
        if self.infinite_mode {
            return Err(SimulationError::UsePreviousInInfiniteMode);
        }
        if previous_chat_map.is_empty() {
            return Err(SimulationError::EmptyPreviousChatMap);
        }
        let mut linked = Vec::with_capacity(previous_chat_map.len());
        for (entry_id, chat_id) in previous_chat_map {
            let field = format!("previous_chat_map.{entry_id}");
            if !self.chat_entries.iter().any(|e| &e.chat_entry_id == entry_id) {
                return Err(SimulationError::UnknownChatEntry {
                    field,
                    chat_entry_id: entry_id.clone(),
                });
            }
            if self.played(entry_id) > 0 {
                return Err(SimulationError::ChatEntryAlreadyPlayed {
                    field,
                    chat_entry_id: entry_id.clone(),
                });
            }
            let chat = earlier
                .iter()
                .find(|c| &c.chat_id == chat_id && c.attempt_id != self.attempt_id)
                .ok_or_else(|| SimulationError::UnknownPreviousChat {
                    field: field.clone(),
                    chat_id: chat_id.clone(),
                })?;
            if &chat.chat_entry_id != entry_id {
                return Err(SimulationError::PreviousChatOtherEntry {
                    field,
                    chat_id: chat_id.clone(),
                    expected: entry_id.clone(),
                    actual: chat.chat_entry_id.clone(),
                });
            }
            if !chat.is_complete() || chat.grade.is_none() {
                return Err(SimulationError::PreviousChatNotGraded {
                    field,
                    chat_id: chat_id.clone(),
                });
            }
            linked.push(chat.clone());
        }
        let ids = linked.iter().map(|c| c.chat_id.clone()).collect();
        self.chats.extend(linked);
        self.keep_entry_order();
        self.finish_if_complete(now);
        Ok(ids)
    }

    /// `available_continuation_options` (SIMULATION.md): only for a home, in the lobby. For
    /// each remaining chat entry the best earlier graded chat of this learner (highest score,
    /// then least time, then the smaller chat id so the choice is stable); the bundles offered
    /// are the prefixes of the remaining entries — the first, the first two, … — up to the
    /// first entry with no earlier chat (a bundle cannot skip a scenario). "Drop bundles worse
    /// on both score and time than another": prefixes only grow in both, so read as Pareto
    /// dominance — a bundle is dropped when another scores at least as much in no more time,
    /// better on one (decided; e.g. a longer bundle whose extra chats add 0 points but time).
    pub fn continuation_options(
        &self,
        earlier: &[AttemptChat],
        now: OffsetDateTime,
    ) -> Option<AvailableContinuationOptions> {
        if !matches!(self.source, AttemptSource::Home(_)) || !self.progress(now).is_lobby {
            return None;
        }
        let mut bundles: Vec<ContinuationOption> = Vec::new();
        let mut scenarios: Vec<ContinuationScenario> = Vec::new();
        let (mut score, mut points, mut time) = (0u64, 0u64, 0u64);
        for entry in self.remaining_entries() {
            let best = earlier
                .iter()
                .filter(|c| {
                    c.chat_entry_id == entry.chat_entry_id
                        && c.attempt_id != self.attempt_id
                        && c.is_complete()
                        && c.grade.is_some()
                })
                .min_by(|a, b| {
                    let key = |c: &AttemptChat| {
                        (
                            std::cmp::Reverse(c.grade.map_or(0, |g| g.score)),
                            c.time_taken().unwrap_or(u64::MAX),
                        )
                    };
                    key(a).cmp(&key(b)).then_with(|| a.chat_id.cmp(&b.chat_id))
                });
            let Some(best) = best else { break };
            let chat_score = best.grade.map_or(0, |g| g.score).min(best.rubric_points);
            let chat_time = best.time_taken().unwrap_or(0);
            score = score.saturating_add(chat_score);
            points = points.saturating_add(best.rubric_points);
            time = time.saturating_add(chat_time);
            scenarios.push(ContinuationScenario {
                chat_entry_id: entry.chat_entry_id.clone(),
                scenario_name: entry.scenario_name.clone(),
                attempt_chat_id: best.chat_id.clone(),
                score: chat_score,
                percentage: percentage(chat_score, best.rubric_points),
                time_taken: chat_time,
                position: entry.position,
            });
            bundles.push(ContinuationOption {
                scenarios: scenarios.clone(),
                total_score: score,
                total_percentage: percentage(score, points),
                total_time: time,
            });
        }
        let dominated = |a: &ContinuationOption| {
            bundles.iter().any(|b| {
                b.total_score >= a.total_score
                    && b.total_time <= a.total_time
                    && (b.total_score > a.total_score || b.total_time < a.total_time)
            })
        };
        let options = bundles.iter().filter(|a| !dominated(a)).cloned().collect();
        Some(AvailableContinuationOptions { options })
    }
}

/// The spec's `AvailableContinuationOptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailableContinuationOptions {
    pub options: Vec<ContinuationOption>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuationOption {
    pub scenarios: Vec<ContinuationScenario>,
    pub total_score: u64,
    pub total_percentage: f64,
    /// Seconds.
    pub total_time: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuationScenario {
    pub chat_entry_id: String,
    pub scenario_name: String,
    /// The earlier chat whose grade the option would copy (its `previous_chat_map` value).
    pub attempt_chat_id: String,
    pub score: u64,
    pub percentage: f64,
    pub time_taken: u64,
    pub position: u32,
}
