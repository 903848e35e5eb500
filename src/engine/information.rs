//! Informing staff ("Informationen ges i samband med nyanställning"; "Enhetschefen ansvarar för
//! att informera sina medarbetare"). Two ways in:
//! - **All staff at once.** At go-live (the first roster) and whenever a unit gets a new manager
//!   (a new holder of `unit_manager` or `operations_manager` at the unit), the unit waits in
//!   `store::information` until the tick opens one case per routine of kind `information` that
//!   covers a system its people hold accounts in. The case lists the unit's current staff with
//!   such accounts; whoever has the step ticks each as informed, and the outcome that closes it
//!   as informed is refused while someone still employed is not ticked.
//! - **A new account.** A person who gets an account in a system after the first roster import
//!   waits until they are employed, and the tick then opens a case of their own.
//!
//! Either way the step goes to the role the routine names (the verksamhetschef for NPÖ, the
//! enhetschef for Treserva), never to the person informed. A routine with `repeat: 1 year`
//! informs each person again, on a case of their own, that long after they were last informed
//! (on their own case or a unit's list), while they hold an account ("kontinuerligt och vid
//! behov"). The SAS's summary counts, over every current
//! account holder, who is informed and who is not yet ([`standing`]).

use super::Engine;
use crate::routine::Routine;
use crate::routine::model::{CaseKind, ResultCategory, StateIx, Trigger};
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as db, CaseRow, NewCase};
use crate::store::information as info;
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

impl Engine {
    /// Opens the information cases due at `now`; how many.
    pub(super) fn tick_information(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let (store, ctx) = self.parts();
        let routines: Vec<&Routine> = ctx
            .current
            .iter()
            .filter(|r| matches!(r.trigger, Trigger::OnRoster))
            .collect();
        if routines.is_empty() {
            return Ok(0);
        }
        let go_live = crate::store::meta_get(store.db(), info::GO_LIVE_KEY)?.is_none()
            && info::any_import(store.db())?;
        if !go_live
            && info::due(store.db())?.is_empty()
            && info::units_due(store.db())?.is_empty()
            && routines.iter().all(|r| r.repeat.is_none())
        {
            return Ok(0);
        }
        let day = super::deadline::local_date(now, ctx.config.timezone);
        let mut opened = 0;
        let tx = store.write()?;
        if go_live && crate::store::meta_get(&tx, info::GO_LIVE_KEY)?.is_none() {
            // Go-live: every unit's staff, and those who start later each on their first day.
            for unit in info::staffed_units(&tx)? {
                info::queue_unit(&tx, &unit, None, info::GO_LIVE, None, now)?;
            }
            for (person, system) in info::account_pairs(&tx)? {
                if ctx
                    .org
                    .person(&person)
                    .is_some_and(|p| p.active_from.is_some_and(|f| day < f))
                {
                    info::note(&tx, &person, &system, now)?;
                }
            }
            crate::store::meta_set(&tx, info::GO_LIVE_KEY, &crate::store::ts(now))?;
        }
        for due in info::units_due(&tx)? {
            if !ctx.org.units.contains_key(&due.unit_id) {
                info::clear_unit(&tx, &due.unit_id, due.role.as_deref())?;
                continue;
            }
            if due.not_before.is_some_and(|d| day < d) {
                // The new manager starts later: they inform, from their first day.
                continue;
            }
            for routine in &routines {
                let Some(role) = assignee(routine) else {
                    continue;
                };
                if due.role.as_deref().is_some_and(|r| r != role.as_str())
                    || info::has_open_unit_case(&tx, &routine.id, &due.unit_id)?
                {
                    continue;
                }
                // Those who inform are not on their own list.
                let informing = ctx.org.holders(role, &due.unit_id, day);
                let staff: Vec<String> = info::unit_staff(&tx, &due.unit_id, &routine.systems)?
                    .into_iter()
                    .filter(|p| {
                        !informing.contains(&p.as_str())
                            && ctx.org.person(p).is_some_and(|p| p.is_active_on(day))
                    })
                    .collect();
                if staff.is_empty() {
                    continue;
                }
                open_for_unit(&tx, &ctx, routine, &due, &staff, now)?;
                opened += 1;
                // On the list, so not informed a second time on a case of their own.
                for person in &staff {
                    for system in &routine.systems {
                        info::clear(&tx, person, system)?;
                    }
                }
            }
            info::clear_unit(&tx, &due.unit_id, due.role.as_deref())?;
        }
        for due in info::due(&tx)? {
            let Some(person) = ctx.org.person(&due.person_id) else {
                info::clear(&tx, &due.person_id, &due.system)?;
                continue;
            };
            if person.removed || person.active_to.is_some_and(|t| t < day) {
                // Gone before they started: nobody to inform.
                info::clear(&tx, &due.person_id, &due.system)?;
                continue;
            }
            if person.active_from.is_some_and(|f| day < f) {
                // Employed from a later day: informed when they start.
                continue;
            }
            let Some(account) = &due.account else {
                // The account is gone again: nothing to inform about.
                info::clear(&tx, &due.person_id, &due.system)?;
                continue;
            };
            let Some(unit) = &due.unit else {
                // No home unit yet: waits for a roster that gives one.
                continue;
            };
            for routine in routines.iter().filter(|r| r.systems.contains(&due.system)) {
                if info::has_case(&tx, &routine.id, &due.person_id, &due.system)? {
                    continue;
                }
                open(&tx, &ctx, routine, &due, account, unit, now)?;
                opened += 1;
            }
            info::clear(&tx, &due.person_id, &due.system)?;
        }
        // "Kontinuerligt och vid behov": a routine with `repeat` informs again.
        for routine in &routines {
            let Some(period) = routine.repeat else {
                continue;
            };
            let cutoff = super::rounds::back_from(now, period, routine);
            for system in &routine.systems {
                for due in info::due_again(&tx, &routine.id, system, cutoff)? {
                    let active = ctx
                        .org
                        .person(&due.person_id)
                        .is_some_and(|p| p.is_active_on(day));
                    if let (true, Some(account), Some(unit)) = (active, &due.account, &due.unit) {
                        open(&tx, &ctx, routine, &due, account, unit, now)?;
                        opened += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(opened)
    }
}

/// The role `routine`'s first step goes to: who informs.
fn assignee(routine: &Routine) -> Option<crate::roster::Role> {
    routine.start_state().task.as_ref().map(|t| t.assignee)
}

/// Opens `routine`'s information case for `due` (inside the caller's transaction).
fn open(
    tx: &Db,
    ctx: &super::Ctx,
    routine: &Routine,
    due: &info::Due,
    account: &str,
    unit: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    super::register(tx, routine, now)?;
    let id = super::cases::next_id(tx, routine, now)?;
    db::insert_case(
        tx,
        &NewCase {
            id: &id,
            routine_id: &routine.id,
            routine_hash: &routine.hash,
            kind: routine.kind.as_str(),
            system: &due.system,
            unit_id: unit,
            round_id: None,
            subject_person_id: Some(&due.person_id),
            subject_account: Some(account),
            client_ref: None,
            window_start: None,
            window_end: None,
            reason: None,
            state: &routine.start_state().name,
            opened_by: "loggkoll",
            systems: None,
            client_name: None,
            client_address: None,
        },
        now,
    )?;
    let personal = json!({"subject_user": due.person_id});
    super::cases::start_case(tx, ctx, routine, &id, None, Some(personal), now)?;
    Ok(())
}

/// Opens `routine`'s case for the whole staff of `due`'s unit, listing `staff` (inside the
/// caller's transaction).
fn open_for_unit(
    tx: &Db,
    ctx: &super::Ctx,
    routine: &Routine,
    due: &info::UnitDue,
    staff: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    super::register(tx, routine, now)?;
    let id = super::cases::next_id(tx, routine, now)?;
    let reason = if due.reason == info::NEW_MANAGER {
        "Enheten har fått en ny chef: informera enhetens medarbetare om loggkontroll."
    } else {
        "Loggkontrollen införs: informera enhetens medarbetare om loggkontroll."
    };
    db::insert_case(
        tx,
        &NewCase {
            id: &id,
            routine_id: &routine.id,
            routine_hash: &routine.hash,
            kind: routine.kind.as_str(),
            system: routine.system(),
            unit_id: &due.unit_id,
            round_id: None,
            subject_person_id: None,
            subject_account: None,
            client_ref: None,
            window_start: None,
            window_end: None,
            reason: Some(reason),
            state: &routine.start_state().name,
            opened_by: "loggkoll",
            systems: (routine.systems.len() > 1).then_some(routine.systems.as_slice()),
            client_name: None,
            client_address: None,
        },
        now,
    )?;
    info::list_staff(tx, &id, staff)?;
    let personal = json!({"staff": staff});
    super::cases::start_case(tx, ctx, routine, &id, None, Some(personal), now)?;
    Ok(())
}

/// One person on a unit's information case, as pages and `case staff` show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub person_id: String,
    pub name: String,
    /// The job title in the roster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Who ticked them as informed (name) and when (local time), once ticked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informed: Option<Ticked>,
    /// No longer employed (or gone from the roster): need not be ticked.
    pub left: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticked {
    pub by: String,
    pub by_name: String,
    pub at: String,
}

/// The staff of a unit's information case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffList {
    pub case: String,
    pub unit: String,
    pub people: Vec<Member>,
    pub counts: StaffCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StaffCounts {
    pub listed: usize,
    pub informed: usize,
    /// Still employed and not ticked: the case cannot close as informed until they are.
    pub waiting: usize,
    /// Left before they were ticked: need not be.
    pub left: usize,
}

/// The staff list of case `case` at local day `day`; `None` when it lists nobody (a person's own
/// case, or another kind).
pub fn staff_list(
    conn: &Db,
    org: &super::org::Org,
    case: &CaseRow,
    day: NaiveDate,
    tz: chrono_tz::Tz,
) -> Result<Option<StaffList>> {
    let rows = info::staff_of(conn, &case.id)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut people = Vec::with_capacity(rows.len());
    let mut counts = StaffCounts {
        listed: rows.len(),
        ..StaffCounts::default()
    };
    for row in rows {
        let person = org.person(&row.person_id);
        let left = !person.is_some_and(|p| p.is_active_on(day));
        let informed = match (row.informed_by, row.informed_at) {
            (Some(by), Some(at)) => Some(Ticked {
                by_name: org
                    .person(&by)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| by.clone()),
                by,
                at: crate::engine::view::datetime_sv(crate::store::parse_ts(&at)?, tz),
            }),
            _ => None,
        };
        match (&informed, left) {
            (Some(_), _) => counts.informed += 1,
            (None, true) => counts.left += 1,
            (None, false) => counts.waiting += 1,
        }
        people.push(Member {
            name: person
                .map(|p| p.name.clone())
                .unwrap_or_else(|| row.person_id.clone()),
            title: person.and_then(|p| p.title.clone()),
            person_id: row.person_id,
            informed,
            left,
        });
    }
    // Those left to tick first, then by name.
    people.sort_by(|a, b| {
        (a.informed.is_some() || a.left, &a.name).cmp(&(b.informed.is_some() || b.left, &b.name))
    });
    Ok(Some(StaffList {
        case: case.id.clone(),
        unit: org.unit_name(&case.unit_id).to_string(),
        people,
        counts,
    }))
}

/// Whether the outcome of `routine` that leads to `next` closes an information case as informed.
pub(crate) fn closes_informed(routine: &Routine, next: StateIx) -> bool {
    routine.kind == CaseKind::Information
        && routine.graph[next].result == Some(ResultCategory::Informed)
}

/// Why the outcome that closes `case` as informed (to `next`) is refused, if it is: someone on
/// its list who is still employed is not ticked.
pub(crate) fn closing_refusal(
    conn: &Db,
    org: &super::org::Org,
    routine: &Routine,
    case: &CaseRow,
    next: StateIx,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if !closes_informed(routine, next) {
        return Ok(None);
    }
    let day = super::deadline::local_date(now, routine.timezone);
    let Some(list) = staff_list(conn, org, case, day, routine.timezone)? else {
        return Ok(None);
    };
    let waiting: Vec<String> = list
        .people
        .iter()
        .filter(|m| m.informed.is_none() && !m.left)
        .map(|m| format!("{} ({})", m.person_id, m.name))
        .collect();
    if waiting.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "outcome `{outcome}` of case {} is refused: {} on its list {} not ticked as informed yet: {} (tick each with `loggkoll case inform {} PERSON --by ID`, or everyone with --all)",
        case.id,
        crate::sv::count(waiting.len(), "person", "people"),
        if waiting.len() == 1 { "is" } else { "are" },
        waiting.join(", "),
        case.id
    )))
}

/// Ticks people on a unit's information case as informed.
#[derive(Debug, Clone)]
pub struct InformRequest<'a> {
    pub case_id: &'a str,
    /// Person ids as the list shows them; empty: everyone still employed and not yet ticked.
    pub people: &'a [String],
    pub by: &'a str,
    /// When given (an emailed link), the step it is made in: it must still be open.
    pub task_id: Option<i64>,
    /// Take the ticks of `people` back instead (a mistake), while the step is open.
    pub undo: bool,
}

impl Engine {
    /// The staff list of case `case_id` at `now`.
    pub fn staff_list(&mut self, case_id: &str, now: DateTime<Utc>) -> Result<StaffList> {
        self.refresh_org()?;
        let (store, ctx) = self.parts();
        let case = db::require(store.db(), case_id)?;
        let routine = ctx.version(store.db(), &case.routine_hash)?;
        let day = super::deadline::local_date(now, routine.timezone);
        staff_list(store.db(), ctx.org, &case, day, routine.timezone)?
            .ok_or_else(|| not_a_unit_case(&case))
    }

    /// Ticks `req.people` (or everyone still to tick) as informed, or takes their ticks back
    /// (`req.undo`), in one transaction, audited; how many changed.
    pub fn inform_staff(&mut self, req: &InformRequest, now: DateTime<Utc>) -> Result<usize> {
        self.refresh_org()?;
        let (store, ctx) = self.parts();
        let tx = store.write()?;
        let case = db::require(&tx, req.case_id)?;
        let routine = ctx.version(&tx, &case.routine_hash)?;
        let day = super::deadline::local_date(now, routine.timezone);
        let Some(list) = staff_list(&tx, ctx.org, &case, day, routine.timezone)? else {
            return Err(not_a_unit_case(&case));
        };
        super::cases::step_to_act_in(
            &tx,
            ctx.org,
            &routine,
            &case,
            req.by,
            req.task_id,
            day,
            &super::cases::Acting {
                what: "tick the staff",
                closed: "its list can no longer be ticked",
            },
        )?;
        for p in req.people {
            if !list.people.iter().any(|m| &m.person_id == p) {
                return Err(Error::bad_input(format!(
                    "`{p}` is not on the list of case {} (`loggkoll case staff {}` lists it)",
                    case.id, case.id
                )));
            }
        }
        if req.undo && req.people.is_empty() {
            return Err(Error::bad_input(format!(
                "name the people whose ticks on case {} are to be taken back",
                case.id
            )));
        }
        let chosen: Vec<String> = if req.people.is_empty() {
            list.people
                .iter()
                .filter(|m| m.informed.is_none() && !m.left)
                .map(|m| m.person_id.clone())
                .collect()
        } else {
            req.people.to_vec()
        };
        let mut changed = Vec::new();
        for p in &chosen {
            let done = if req.undo {
                info::untick(&tx, &case.routine_id, &case.id, p)?
            } else {
                info::tick(&tx, &case.routine_id, &case.id, p, req.by, now)?
            };
            if done {
                changed.push(p.clone());
            }
        }
        if !changed.is_empty() {
            audit::append(
                &tx,
                now,
                &Event {
                    actor: req.by,
                    event: if req.undo {
                        "staff.uninformed"
                    } else {
                        "staff.informed"
                    },
                    case_id: Some(&case.id),
                    round_id: None,
                    data: json!({"people": changed.len()}),
                    personal: Some(json!({"people": changed})),
                },
            )?;
        }
        tx.commit()?;
        Ok(changed.len())
    }
}

fn not_a_unit_case(case: &CaseRow) -> Error {
    Error::bad_input(format!(
        "case {} lists no staff: only an information case for a unit's whole staff has a list",
        case.id
    ))
}

/// Where informing stands for `routine` (of kind `information`) on local day `day`: of the
/// current account holders in its systems, how many it has informed and how many not yet.
pub(crate) fn standing(
    conn: &Db,
    org: &super::org::Org,
    routine: &str,
    systems: &[String],
    day: NaiveDate,
) -> Result<(usize, usize)> {
    let informed = info::informed_by_routine(conn, routine)?;
    let (mut yes, mut no) = (0, 0);
    for person in info::account_holders(conn, systems)? {
        if !org.person(&person).is_some_and(|p| p.is_active_on(day)) {
            continue;
        }
        if informed.contains(&person) {
            yes += 1;
        } else {
            no += 1;
        }
    }
    Ok((yes, no))
}
