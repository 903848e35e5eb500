//! Read-side views for the web pages: what the page behind an emailed link shows, and the names
//! and titles the overview needs, assembled from the store on a connection other than the
//! engine's (WAL lets pages read while a tick writes). [`Views`] holds what it needs from the
//! engine — the routines, the organisation (reloaded when the roster changes) and the rule of
//! who may answer a step — so a page never waits for the engine's lock.

use super::Engine;
use super::cases::may_answer;
use super::deadline;
use super::org::{self, Org};
use crate::Result;
use crate::config::Config;
use crate::links::Claims;
use crate::roster::Role;
use crate::routine::Routine;
use crate::routine::explain::system_title;
use crate::store::Db;
use crate::store::cases::{self as db, CaseRow, TaskRow};
use crate::store::parse_ts;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::sync::{Arc, RwLock};

/// The read side, shared by every request.
pub struct Views {
    config: Config,
    secret: Vec<u8>,
    /// The routines in force, swapped whole when one is published.
    current: RwLock<Arc<Vec<Arc<Routine>>>>,
    old: super::OldVersions,
    org: RwLock<Arc<Org>>,
}

impl Engine {
    /// The read side of this engine: its routines, secret and configuration, and the
    /// organisation as the store has it now.
    pub(crate) fn views(&self) -> Result<Views> {
        Ok(Views {
            config: self.config.clone(),
            secret: self.secret.clone(),
            current: RwLock::new(Arc::new(
                self.routines.iter().cloned().map(Arc::new).collect(),
            )),
            old: self.old.snapshot(),
            org: RwLock::new(Arc::new(Org::load(self.store.db())?)),
        })
    }
}

/// Whether the person a link was sent to can answer its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    /// The step is open and this person may answer it.
    Answer,
    /// The step is open but this person is only informed.
    ReadOnly,
    /// The step has been answered; the link shows the answer.
    Answered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Subject {
    pub name: String,
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Window {
    /// "Dygn att granska" for a sampling case, "Period" otherwise.
    pub label: String,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct StepView {
    pub name: String,
    pub title: String,
    /// The guidance in paragraphs (lines of a paragraph joined).
    pub guidance: Vec<String>,
    /// The step's how-to: `url` for a web address, none for a file the page serves itself
    /// (`/t/{token}/guide`); `name` to show.
    pub guide: Option<GuideView>,
    pub due: String,
    pub overdue: bool,
    pub role: String,
    /// Who has the step (a name), empty when the role has no holder.
    pub assignee: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct GuideView {
    pub url: Option<String>,
    pub name: String,
    /// The file on disk (never shown).
    #[serde(skip)]
    pub file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct OutcomeView {
    pub name: String,
    pub label: String,
    pub comment_required: bool,
    /// A "no finding" outcome that waits for judgements (see `evidence.block_note`).
    pub blocked: bool,
}

/// A judgement as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct JudgementShown {
    pub verdict: String,
    /// Swedish: Befogad, Obefogad, Oklar.
    pub label: String,
    pub by: String,
    pub at: String,
    pub comment: String,
}

/// One access on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AccessShown {
    /// The access's place on the page: `g2a3` (the third access to the second client).
    pub anchor: String,
    /// The first access still waiting for a judgement, where the page leads after one.
    pub next: bool,
    /// What the judgement form posts: `a:SYSTEM:LOG_ID`.
    pub target: String,
    pub log_id: String,
    pub system: String,
    /// "2 mars 23:40".
    pub at: String,
    pub action: String,
    pub flags: Vec<crate::evidence::assess::Said>,
    pub explanations: Vec<crate::evidence::assess::Said>,
    pub needs_judgement: bool,
    pub judgement: Option<JudgementShown>,
}

/// The accesses to one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct GroupShown {
    /// The anchor: `g1`, `g2`, …
    pub anchor: String,
    /// What the group's judgement form posts: `c:DIGITS`.
    pub target: String,
    /// `ÅÅÅÅMMDD-NNNN`.
    pub client: String,
    pub client_name: String,
    pub flagged: usize,
    pub unexplained: usize,
    /// Accesses still waiting for a judgement (flagged or unexplained, not judged).
    pub waiting: usize,
    /// Nothing flagged and everything explained: shown folded.
    pub quiet: bool,
    pub accesses: Vec<AccessShown>,
}

/// What the page shows of the case's evidence. Client identities (`groups`) only to someone who
/// may answer the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct EvidenceShown {
    /// `complete`, `partial` or `missing`.
    pub log: &'static str,
    /// What to say when the log is missing or partial; empty when complete.
    pub log_note: String,
    /// "37 åtkomster till 12 kunder, 3 flaggade".
    pub summary: String,
    pub counts: crate::evidence::case::Counts,
    pub groups: Vec<GroupShown>,
    /// How many groups are quiet, and their accesses.
    pub quiet_groups: usize,
    pub quiet_accesses: usize,
    /// Flagged accesses not judged, and accesses judged unjustified or unclear.
    pub pending: usize,
    pub against: usize,
    /// Why "no finding" cannot be chosen yet; empty when it can.
    pub block_note: String,
    /// The anchor of the first access waiting for a judgement (empty: none waits).
    pub next: String,
}

/// An answered step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AnswerView {
    pub step: String,
    pub outcome: String,
    pub by: String,
    pub at: String,
    pub comment: String,
}

/// Where a case stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CaseNow {
    pub closed: bool,
    /// The final state's title and its result, when closed.
    pub result: String,
    /// The open step, its holder and due date, when open.
    pub step: String,
    pub assignee: String,
    pub role: String,
    pub due: String,
}

/// Everything the page behind an emailed link shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TaskPage {
    pub task_id: i64,
    pub case_id: String,
    /// Who the link was sent to (a person id) and their name.
    pub person_id: String,
    pub recipient: String,
    pub mode: Mode,
    pub routine: String,
    pub routine_id: String,
    pub kind: String,
    /// The kind as code (`extract`, `targeted`, …).
    pub kind_code: &'static str,
    pub system: String,
    pub unit: String,
    pub subject: Option<Subject>,
    pub window: Option<Window>,
    /// The client's personal identity number (extract requests, targeted reviews), shown only to
    /// someone who may answer.
    pub client: Option<String>,
    /// Why an ad hoc case was opened (not a sampling case's draw reason), shown only to someone
    /// who may answer.
    pub reason: Option<String>,
    pub step: StepView,
    /// The evidence, for a case with a period and a user or client.
    pub evidence: Option<EvidenceShown>,
    /// The accounts of an access-rights review, shown only to someone who may answer.
    pub accounts: Option<crate::evidence::access::Review>,
    /// The staff of a unit's information case, each ticked once informed.
    pub staff: Option<crate::engine::information::StaffList>,
    pub outcomes: Vec<OutcomeView>,
    /// `required` (every outcome needs a comment), `some`, or `optional`.
    pub comment_rule: &'static str,
    /// The steps answered before this one.
    pub history: Vec<AnswerView>,
    /// This step's answer, once given.
    pub answer: Option<AnswerView>,
    /// The step is answered, by the one this (answering, not informing) link was sent to: they
    /// may still read the protocol from it.
    pub answered_by_link: bool,
    /// Where the case stands now.
    pub now: CaseNow,
}

impl Views {
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The routines the server was started with.
    pub fn routines(&self) -> Arc<Vec<Arc<Routine>>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The routines in force from now on (after one was published).
    pub(crate) fn set_routines(&self, routines: &[Routine]) {
        let next = Arc::new(routines.iter().cloned().map(Arc::new).collect());
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next;
    }

    /// Routine version `hash`: a current one, or an older one compiled from the store once.
    pub fn version(&self, conn: &Db, hash: &str) -> Result<Arc<Routine>> {
        super::version_among(&self.routines(), &self.old, conn, hash)
    }

    /// The organisation, reloaded when the roster or the delegations changed since.
    pub fn org(&self, conn: &Db) -> Result<Arc<Org>> {
        let version = org::current_version(conn)?;
        {
            let org = self.org.read().unwrap_or_else(|p| p.into_inner());
            if org.version == version {
                return Ok(org.clone());
            }
        }
        let fresh = Arc::new(Org::load(conn)?);
        *self.org.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    /// A person's name, or their id when the roster no longer has them.
    pub fn name(org: &Org, id: &str) -> String {
        org.person(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The title of `state` in `routine`, or its name when the version lacks it.
    pub(crate) fn state_title(routine: &Routine, state: &str) -> String {
        routine
            .state(state)
            .map(|ix| routine.graph[ix].title.clone())
            .unwrap_or_else(|| state.to_string())
    }

    /// Whether `person` may answer `task` of `case` on the day of `now`.
    pub(crate) fn may_answer(
        &self,
        org: &Org,
        routine: &Routine,
        case: &CaseRow,
        task: &TaskRow,
        person: &str,
        now: DateTime<Utc>,
    ) -> bool {
        if org.person(person).is_none() {
            return false;
        }
        let day = deadline::local_date(now, routine.timezone);
        may_answer(
            org,
            routine,
            task,
            &case.unit_id,
            case.subject_person_id.as_deref(),
            person,
            day,
        )
    }

    /// The page of the task a verified link names; `None` when the task no longer exists.
    pub(crate) fn task_page(
        &self,
        conn: &Db,
        claims: &Claims,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskPage>> {
        let Some(task) = db::task(conn, claims.task_id)? else {
            return Ok(None);
        };
        let Some(case) = db::get(conn, &task.case_id)? else {
            return Ok(None);
        };
        let routine = self.version(conn, &case.routine_hash)?;
        let org = self.org(conn)?;
        let tz = routine.timezone;
        let tasks = db::tasks_of(conn, &case.id)?;
        let mode = if task.answered_at.is_some() {
            Mode::Answered
        } else if claims.read_only {
            Mode::ReadOnly
        } else if self.may_answer(&org, &routine, &case, &task, &claims.person_id, now) {
            Mode::Answer
        } else {
            Mode::ReadOnly
        };
        let ix = routine.state(&task.state);
        let outcomes = outcome_views(&routine, ix);
        let required = outcomes.iter().filter(|o| o.comment_required).count();
        let comment_rule = match required {
            0 => "optional",
            n if n == outcomes.len() => "required",
            _ => "some",
        };
        let mut history = Vec::new();
        for t in tasks.iter().filter(|t| t.id < task.id) {
            if let Some(a) = answer_view(&routine, &org, tz, t)? {
                history.push(a);
            }
        }
        let answer = answer_view(&routine, &org, tz, &task)?;
        let answered_by_link = !claims.read_only
            && task.answered_at.is_some()
            && task.answered_by.as_deref() == Some(claims.person_id.as_str());
        let today = deadline::local_date(now, tz);
        let may_see_client = mode == Mode::Answer;
        let window = window_of(&case, tz)?;
        let now_view = case_now(&routine, &org, &case, tasks.last())?;
        let evidence = if crate::engine::judge::has_evidence(&case) {
            Some(self.evidence_shown(conn, &org, &routine, &case, may_see_client, now)?)
        } else {
            None
        };
        // "No finding" waits only while something is pending.
        let mut outcomes = outcomes;
        let waits = evidence
            .as_ref()
            .is_some_and(|e| e.pending > 0 || e.against > 0);
        for o in &mut outcomes {
            o.blocked = o.blocked && waits;
        }
        // An access-rights review closes once every flagged account is decided.
        let accounts =
            if routine.kind == crate::routine::model::CaseKind::AccessRights && may_see_client {
                Some(review_blocking(
                    conn,
                    &routine,
                    &case,
                    now,
                    ix,
                    &mut outcomes,
                )?)
            } else {
                None
            };
        // A unit's information case closes as informed once everyone still employed is ticked.
        let staff = crate::engine::information::staff_list(conn, &org, &case, today, tz)?;
        if let (Some(list), Some(ix)) = (&staff, ix)
            && list.counts.waiting > 0
        {
            block_informed(&routine, ix, &mut outcomes);
        }
        Ok(Some(TaskPage {
            task_id: task.id,
            case_id: case.id.clone(),
            person_id: claims.person_id.clone(),
            recipient: Views::name(&org, &claims.person_id),
            mode,
            routine: routine.title.clone(),
            routine_id: routine.id.clone(),
            kind: routine.kind.title_sv().to_string(),
            kind_code: routine.kind.as_str(),
            system: system_title(&case.system),
            unit: org.unit_name(&case.unit_id).to_string(),
            subject: case.subject_person_id.as_deref().map(|p| Subject {
                name: Views::name(&org, p),
                account: case.subject_account.clone().unwrap_or_default(),
            }),
            window,
            evidence,
            accounts,
            staff,
            client: case.client_ref.clone().filter(|_| may_see_client),
            reason: case
                .reason
                .clone()
                .filter(|r| may_see_client && case.kind != "sampling" && !r.trim().is_empty()),
            step: step_view(&routine, &org, &task, ix, today),
            outcomes,
            comment_rule,
            history,
            answer,
            answered_by_link,
            now: now_view,
        }))
    }
}

/// The outcomes of state `ix` of `routine` as the page offers them.
fn outcome_views(
    routine: &Routine,
    ix: Option<crate::routine::model::StateIx>,
) -> Vec<OutcomeView> {
    ix.map(|ix| {
        routine
            .outcomes(ix)
            .into_iter()
            .map(|(o, next)| OutcomeView {
                name: o.name.clone(),
                label: o.label.clone(),
                comment_required: o.comment_required,
                blocked: crate::engine::judge::is_no_finding(routine, next),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The answer of task `t` as the page shows it, times local to `tz`; `None` when it has none.
fn answer_view(routine: &Routine, org: &Org, tz: Tz, t: &TaskRow) -> Result<Option<AnswerView>> {
    let (Some(at), Some(outcome)) = (&t.answered_at, &t.outcome) else {
        return Ok(None);
    };
    let label = routine
        .state(&t.state)
        .and_then(|ix| routine.next(ix, outcome))
        .map(|(o, _)| o.label.clone())
        .unwrap_or_else(|| outcome.clone());
    Ok(Some(AnswerView {
        step: Views::state_title(routine, &t.state),
        outcome: label,
        by: t
            .answered_by
            .as_deref()
            .map(|p| Views::name(org, p))
            .unwrap_or_default(),
        at: datetime_sv(parse_ts(at)?, tz),
        comment: t.comment.clone().unwrap_or_default(),
    }))
}

/// The period of `case` as the page shows it, times local to `tz`; `None` when it has none.
fn window_of(case: &CaseRow, tz: Tz) -> Result<Option<Window>> {
    Ok(match (&case.window_start, &case.window_end) {
        (Some(a), Some(b)) => Some(Window {
            label: if case.kind == "sampling" {
                // Not a calendar day (NPÖ's runs 02:00–02:00), and not yet reviewed.
                "Dygn att granska".into()
            } else {
                "Period".into()
            },
            start: datetime_sv(parse_ts(a)?, tz),
            end: datetime_sv(parse_ts(b)?, tz),
        }),
        _ => None,
    })
}

/// The access-rights review of `case`, blocking the outcomes of state `ix` that close it as
/// reviewed while a flagged account is undecided.
fn review_blocking(
    conn: &Db,
    routine: &Routine,
    case: &CaseRow,
    now: DateTime<Utc>,
    ix: Option<crate::routine::model::StateIx>,
    outcomes: &mut [OutcomeView],
) -> Result<crate::evidence::access::Review> {
    let review = crate::engine::access::review_of(conn, routine, case, now)?;
    if review.counts.undecided_flagged > 0
        && let Some(ix) = ix
    {
        for (o, next) in routine.outcomes(ix) {
            if routine.graph[next].result
                == Some(crate::routine::model::ResultCategory::RightsReviewed)
                && let Some(view) = outcomes.iter_mut().find(|v| v.name == o.name)
            {
                view.blocked = true;
            }
        }
    }
    Ok(review)
}

/// Blocks the outcomes of state `ix` that close a unit's information case as informed.
fn block_informed(
    routine: &Routine,
    ix: crate::routine::model::StateIx,
    outcomes: &mut [OutcomeView],
) {
    for (o, next) in routine.outcomes(ix) {
        if crate::engine::information::closes_informed(routine, next)
            && let Some(view) = outcomes.iter_mut().find(|v| v.name == o.name)
        {
            view.blocked = true;
        }
    }
}

/// Task `task`'s step (state `ix` of `routine`) as the page shows it on `today`.
fn step_view(
    routine: &Routine,
    org: &Org,
    task: &TaskRow,
    ix: Option<crate::routine::model::StateIx>,
    today: chrono::NaiveDate,
) -> StepView {
    let state = ix.map(|ix| &routine.graph[ix]);
    StepView {
        name: task.state.clone(),
        title: state
            .map(|s| s.title.clone())
            .unwrap_or_else(|| task.state.clone()),
        guidance: state
            .and_then(|s| s.guidance.as_deref())
            .map(paragraphs)
            .unwrap_or_default(),
        guide: state.and_then(|s| s.guide.as_ref()).map(|g| match g {
            crate::routine::model::Guide::Url(url) => GuideView {
                url: Some(url.clone()),
                name: url
                    .rsplit('/')
                    .find(|p| !p.is_empty())
                    .unwrap_or(url)
                    .to_string(),
                file: None,
            },
            crate::routine::model::Guide::File(file) => GuideView {
                url: None,
                name: file.rsplit('/').next().unwrap_or(file).to_string(),
                file: Some(
                    std::path::Path::new(&routine.path)
                        .parent()
                        .unwrap_or(std::path::Path::new(""))
                        .join(file),
                ),
            },
        }),
        due: crate::sv::date(task.due_date),
        overdue: task.answered_at.is_none() && task.due_date < today,
        role: role_title(&task.role),
        assignee: task
            .assignee_id
            .as_deref()
            .map(|p| Views::name(org, p))
            .unwrap_or_default(),
    }
}

impl Views {
    /// The evidence of `case` as the task page shows it; the accesses themselves only when
    /// `identities` (someone who may answer).
    pub(crate) fn evidence_shown(
        &self,
        conn: &Db,
        org: &Org,
        routine: &Routine,
        case: &CaseRow,
        identities: bool,
        now: DateTime<Utc>,
    ) -> Result<EvidenceShown> {
        let tz = routine.timezone;
        let systems: Vec<String> = case.systems.iter().map(|s| system_title(s)).collect();
        let systems = match systems.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} eller {last}", rest.join(", ")),
        };
        // Without any log near the period there is nothing to assess (and nothing judged).
        let ev = match crate::engine::judge::evidence_if_any(conn, org, routine, case, now)? {
            Some(ev) => ev,
            None => evidence_without_log(conn, case)?,
        };
        let log_note = log_note_of(ev.log, &systems);
        let pending = ev.unjudged_flagged().len();
        let against = ev.judged_against().len();
        let block_note = block_note_of(pending, against);
        let groups = if identities {
            groups_shown(&ev, org, tz)
        } else {
            Vec::new()
        };
        let mut groups = groups;
        let mut next = String::new();
        if let Some(a) = groups
            .iter_mut()
            .filter(|g| !g.quiet)
            .flat_map(|g| g.accesses.iter_mut())
            .find(|a| a.needs_judgement && a.judgement.is_none())
        {
            a.next = true;
            next = a.anchor.clone();
        }
        let quiet: Vec<&GroupShown> = groups.iter().filter(|g| g.quiet).collect();
        let (quiet_groups, quiet_accesses) =
            (quiet.len(), quiet.iter().map(|g| g.accesses.len()).sum());
        Ok(EvidenceShown {
            quiet_groups,
            quiet_accesses,
            log: ev.log.as_str(),
            log_note,
            summary: ev.summary_sv(),
            counts: ev.counts,
            groups,
            pending,
            against,
            block_note,
            next,
        })
    }
}

/// The evidence of `case` when no log lies near its period: no access, and how much of the
/// period the log covers.
fn evidence_without_log(conn: &Db, case: &CaseRow) -> Result<crate::evidence::Evidence> {
    let mut ev = crate::evidence::Evidence {
        case: case.id.clone(),
        systems: case.systems.clone(),
        from: case.window_start.clone(),
        to: case.window_end.clone(),
        log: crate::evidence::LogStatus::Missing,
        accesses: Vec::new(),
        counts: Default::default(),
    };
    if let (Some(a), Some(b)) = (&case.window_start, &case.window_end) {
        let (a, b) = (parse_ts(a)?.timestamp(), parse_ts(b)?.timestamp());
        let mut status = None;
        for s in &case.systems {
            let st = crate::evidence::coverage::of_window(conn, s, a, b)?;
            status = Some(status.map_or(st, |t: crate::evidence::LogStatus| t.combine(st)));
        }
        ev.log = status.unwrap_or(crate::evidence::LogStatus::Missing);
    }
    Ok(ev)
}

/// What to say of a log that is `log` for the period (empty when complete); `systems` names
/// where to review the rest.
fn log_note_of(log: crate::evidence::LogStatus, systems: &str) -> String {
    match log {
        crate::evidence::LogStatus::Complete => String::new(),
        crate::evidence::LogStatus::Partial => format!(
            "Den inlästa loggen täcker bara en del av perioden – granska resten i {systems}."
        ),
        crate::evidence::LogStatus::Missing => {
            format!("Ingen logg är inläst för perioden – granska i {systems}.")
        }
    }
}

/// Why "no finding" cannot be chosen yet, with `pending` flagged accesses not judged and
/// `against` judged unjustified or unclear; empty when it can.
fn block_note_of(pending: usize, against: usize) -> String {
    let mut notes = Vec::new();
    if pending > 0 {
        notes.push(if pending == 1 {
            "1 flaggad åtkomst är inte bedömd".to_string()
        } else {
            format!("{pending} flaggade åtkomster är inte bedömda")
        });
    }
    if against > 0 {
        notes.push(if against == 1 {
            "1 åtkomst är bedömd som obefogad eller oklar".to_string()
        } else {
            format!("{against} åtkomster är bedömda som obefogade eller oklara")
        });
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(
            "”Ingen anmärkning” kan väljas först när varje flaggad åtkomst är bedömd som befogad: {}.",
            notes.join(" och ")
        )
    }
}

/// The accesses of `ev` by client as the page shows them, times local to `tz`, judges named
/// from `org`.
fn groups_shown(ev: &crate::evidence::Evidence, org: &Org, tz: Tz) -> Vec<GroupShown> {
    ev.groups()
        .iter()
        .enumerate()
        .map(|(i, g)| GroupShown {
            anchor: format!("g{}", i + 1),
            target: format!("c:{}", g.client),
            client: crate::personnummer::written(g.client),
            client_name: g.client_name.unwrap_or("").to_string(),
            flagged: g.flagged,
            unexplained: g.unexplained,
            quiet: g.flagged == 0 && g.unexplained == 0,
            waiting: g
                .accesses
                .iter()
                .filter(|a| a.needs_judgement() && a.judgement.is_none())
                .count(),
            accesses: g
                .accesses
                .iter()
                .enumerate()
                .map(|(j, a)| AccessShown {
                    anchor: format!("g{}a{}", i + 1, j + 1),
                    next: false,
                    target: format!("a:{}:{}", a.system, a.log_id),
                    log_id: a.log_id.clone(),
                    system: system_title(&a.system),
                    at: short_sv(a.at_unix, tz),
                    action: a.action.clone(),
                    flags: a.flags.clone(),
                    explanations: a.explanations.clone(),
                    needs_judgement: a.needs_judgement(),
                    judgement: a.judgement.as_ref().map(|j| JudgementShown {
                        verdict: j.verdict.clone(),
                        label: crate::evidence::Verdict::parse(&j.verdict)
                            .map_or(j.verdict.as_str(), |v| v.title_sv())
                            .to_string(),
                        by: Views::name(org, &j.by),
                        at: parse_ts(&j.at)
                            .map(|t| short_sv(t.timestamp(), tz))
                            .unwrap_or_default(),
                        comment: j.comment.clone().unwrap_or_default(),
                    }),
                })
                .collect(),
        })
        .collect()
}

/// "2 mars 23:40", in `tz`.
pub(crate) fn short_sv(at: i64, tz: Tz) -> String {
    match DateTime::from_timestamp(at, 0) {
        Some(t) => {
            let l = t.with_timezone(&tz);
            format!(
                "{} {} {}",
                chrono::Datelike::day(&l),
                crate::sv::month(chrono::Datelike::month(&l)),
                l.format("%H:%M")
            )
        }
        None => String::new(),
    }
}

fn case_now(
    routine: &Routine,
    org: &Org,
    case: &CaseRow,
    last: Option<&TaskRow>,
) -> Result<CaseNow> {
    let mut now = CaseNow {
        closed: case.closed_at.is_some(),
        result: String::new(),
        step: Views::state_title(routine, &case.state),
        assignee: String::new(),
        role: String::new(),
        due: String::new(),
    };
    if now.closed {
        let result = case
            .result
            .as_deref()
            .and_then(crate::routine::model::ResultCategory::parse)
            .map(|r| r.title_sv().to_string())
            .unwrap_or_default();
        now.result = result;
        return Ok(now);
    }
    if let Some(t) = last.filter(|t| t.answered_at.is_none()) {
        now.step = Views::state_title(routine, &t.state);
        now.assignee = t
            .assignee_id
            .as_deref()
            .map(|p| Views::name(org, p))
            .unwrap_or_default();
        now.role = role_title(&t.role);
        now.due = crate::sv::date(t.due_date);
    }
    Ok(now)
}

fn role_title(role: &str) -> String {
    role.parse::<Role>()
        .map(|r| r.title().to_string())
        .unwrap_or_else(|_| role.to_string())
}

/// "tisdag 5 januari 2027 kl. 13:00", in `tz`.
pub(crate) fn datetime_sv(t: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    format!(
        "{} kl. {}",
        crate::sv::date(local.date_naive()),
        local.format("%H:%M")
    )
}

/// Text in paragraphs: lines of a paragraph joined by a space, blank lines between paragraphs.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guidance_is_split_into_paragraphs() {
        assert_eq!(
            paragraphs("Gå igenom\nloggen.\n\nBoka ett samtal.\n"),
            vec!["Gå igenom loggen.", "Boka ett samtal."]
        );
        assert!(paragraphs("  \n").is_empty());
    }

    #[test]
    fn local_times_are_swedish() {
        let t = DateTime::parse_from_rfc3339("2027-01-04T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            datetime_sv(t, chrono_tz::Europe::Stockholm),
            "måndag 4 januari 2027 kl. 13:00"
        );
    }
}
