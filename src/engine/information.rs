//! Informing staff ("Informationen ges i samband med nyanställning"; "Enhetschefen ansvarar för
//! att informera sina medarbetare"): a person who gets an account in a system after the first
//! roster import waits in `store::information` until they are employed, and the tick then opens
//! one case per routine of kind `information` that covers the system, at the person's home
//! unit. Its step goes to the role the routine names (the verksamhetschef for NPÖ, the
//! enhetschef for Treserva), never to the person themselves. A routine with `repeat: 1 year`
//! informs each person again that long after their last case closed, while they hold an account
//! ("kontinuerligt och vid behov").

use super::Engine;
use crate::Result;
use crate::routine::model::Trigger;
use crate::store::cases::{self as db, NewCase};
use crate::store::information as info;
use chrono::{DateTime, Utc};
use serde_json::json;

impl Engine {
    /// Opens the information cases due at `now`; how many.
    pub(super) fn tick_information(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let (store, ctx) = self.parts();
        let waiting = info::due(store.db())?;
        let routines: Vec<&crate::routine::Routine> = ctx
            .current
            .iter()
            .filter(|r| matches!(r.trigger, Trigger::OnRoster))
            .collect();
        if waiting.is_empty() && routines.iter().all(|r| r.repeat.is_none()) {
            return Ok(0);
        }
        let mut opened = 0;
        let tx = store.write()?;
        for due in waiting {
            let Some(person) = ctx.org.person(&due.person_id) else {
                info::clear(&tx, &due.person_id, &due.system)?;
                continue;
            };
            let day = super::deadline::local_date(now, ctx.config.timezone);
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
        let day = super::deadline::local_date(now, ctx.config.timezone);
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

/// Opens `routine`'s information case for `due` (inside the caller's transaction).
fn open(
    tx: &crate::store::Db,
    ctx: &super::Ctx,
    routine: &crate::routine::Routine,
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
