//! `explain`: a routine told in plain Swedish for the quality staff who wrote it — when it runs,
//! how many are drawn and how likely each user is to be reviewed within a year, who does what by
//! when, reminders, escalations, retention and the annual summary.

use super::chance;
use super::duration::Swedish;
use super::model::*;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

pub(crate) fn explain(routine: &Routine, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}, version {})",
        routine.title, routine.id, routine.version
    );
    let _ = writeln!(out, "Fil: {}", routine.path);
    let _ = writeln!(
        out,
        "Typ: {} i {}",
        routine.kind.title_sv(),
        routine
            .systems
            .iter()
            .map(|s| system_title(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "Rättslig grund: {}",
        routine.legal_basis.replace('\n', " ")
    );
    let _ = writeln!(out, "Ärendenummer: {}-ÅÅÅÅ-NNNN", routine.reference_prefix);
    out.push('\n');
    explain_trigger(&mut out, routine, now);
    let e = &routine.evidence;
    let within = match e.burst_within {
        3600 => "en timme".to_string(),
        s if s % 86_400 == 0 => format!("{} dygn", s / 86_400),
        s => format!("{} timmar", s / 3600),
    };
    let _ = writeln!(
        out,
        "Underlag: varje åtkomst förklaras (kundens enhet är användarens; dokumentation i journalen inom {} dagar) och flaggas vid egen journal, kollegas journal, samma efternamn, natt ({}), fler än {} kunder inom {within}, annan enhet, nödöppning, bevakningslistan och konto efter anställningens slut",
        e.documented_days,
        e.night_sv(),
        e.burst_clients
    );
    explain_steps(&mut out, routine);
    explain_results(&mut out, routine);
    out
}

/// Writes to `out` when `routine` starts: its schedule with the next runs after `now` and how
/// many are drawn, or what starts it.
fn explain_trigger(out: &mut String, routine: &Routine, now: DateTime<Utc>) {
    let tz = routine.timezone;
    match &routine.trigger {
        Trigger::OnRoster => {
            let systems: Vec<String> = routine.systems.iter().map(|s| system_title(s)).collect();
            let _ = writeln!(
                out,
                "Start: för varje enhets medarbetare med konto i {} när loggkontrollen införs och när enheten får en ny chef; för en person som får ett konto (nyanställd eller nytt konto) vid nästa körning efter registerinläsningen",
                crate::sv::and_list(&systems)
            );
        }
        Trigger::OnDemand => {
            let _ = writeln!(
                out,
                "Start: vid behov, med `loggkoll case open {}` (ingen schemalagd körning)",
                routine.id
            );
        }
        Trigger::Schedule { crontab, catch_up } => {
            let _ = writeln!(
                out,
                "Schema: {} ({}), tidszon {}",
                crontab.describe_sv(),
                crontab.source(),
                tz
            );
            let mut next = Vec::new();
            let mut after = now;
            while next.len() < 3 {
                match crontab.next_after(tz, after) {
                    Some(t) => {
                        next.push(t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string());
                        after = t;
                    }
                    None => break,
                }
            }
            let _ = writeln!(
                out,
                "Nästa körningar: {}",
                if next.is_empty() {
                    "inga".to_string()
                } else {
                    next.join(", ")
                }
            );
            let _ = writeln!(
                out,
                "Missade körningar (datorn var avstängd): {}",
                match catch_up {
                    CatchUp::Latest => "den senaste missade körs en gång",
                    CatchUp::All => "alla missade körs",
                    CatchUp::Skip => "hoppas över; nästa ordinarie körning gäller",
                }
            );
            if let Some(s) = &routine.sampling {
                explain_sampling(out, s, chance::rounds_per_year(crontab, tz));
            }
        }
    }
}

/// Writes to `out` the steps of `routine` in the order they are reached: who acts by when,
/// reminders, escalation, who is informed, and the outcomes.
fn explain_steps(out: &mut String, routine: &Routine) {
    out.push_str("\nSteg:\n");
    let mut n = 0;
    let mut order: Vec<StateIx> = vec![routine.start];
    let mut i = 0;
    while i < order.len() {
        for (_, t) in routine.outcomes(order[i]) {
            if !order.contains(&t) {
                order.push(t);
            }
        }
        i += 1;
    }
    for ix in order {
        let state = &routine.graph[ix];
        let Some(task) = &state.task else { continue };
        n += 1;
        let _ = writeln!(
            out,
            "  {n}. {} ({}) — {}, inom {}",
            state.title,
            state.name,
            task.assignee.title(),
            task.deadline.sv()
        );
        if !task.reminders.is_empty() {
            let list: Vec<String> = task.reminders.iter().map(Swedish::sv).collect();
            let _ = writeln!(out, "     Påminnelser: {}", list.join(", "));
        }
        if let Some(e) = &task.escalation {
            let _ = writeln!(
                out,
                "     Eskalering: till {} {} efter sista dagen",
                e.to.title(),
                e.after.sv()
            );
        }
        if !state.inform.is_empty() {
            let list: Vec<&str> = state.inform.iter().map(|r| r.title()).collect();
            let _ = writeln!(out, "     Informeras: {}", list.join(", "));
        }
        for (outcome, target) in routine.outcomes(ix) {
            let _ = writeln!(
                out,
                "     • {} → {}{}",
                outcome.label,
                routine.graph[target].title,
                if outcome.comment_required {
                    " (kommentar krävs)"
                } else {
                    ""
                }
            );
        }
    }
}

/// Writes to `out` the results of `routine`, how long its cases are kept and its annual summary.
fn explain_results(out: &mut String, routine: &Routine) {
    out.push_str("\nResultat:\n");
    for (_, state) in routine.states() {
        if let Some(result) = state.result {
            let _ = writeln!(out, "  {} — {}", state.title, result.title_sv());
        }
    }
    out.push('\n');
    let periods: std::collections::BTreeSet<u32> =
        routine.retention_by_system.values().copied().collect();
    if periods.len() > 1 {
        let each: Vec<String> = routine
            .retention_by_system
            .iter()
            .map(|(system, years)| format!("{} {years} år", system_title(system)))
            .collect();
        let _ = writeln!(
            out,
            "Gallring: ärenden och protokoll gallras efter att ärendet avslutats, efter systemet som granskas: {}",
            each.join(", ")
        );
    } else {
        let _ = writeln!(
            out,
            "Gallring: ärenden och protokoll gallras {} år efter att ärendet avslutats",
            routine.retention_years
        );
    }
    match &routine.summary {
        Some(s) => {
            let _ = writeln!(
                out,
                "Årlig sammanställning: till {} senast {} {} varje år",
                s.to.title(),
                s.due_day,
                crate::sv::month(s.due_month)
            );
        }
        None => out.push_str("Årlig sammanställning: ingen\n"),
    }
}

fn explain_sampling(out: &mut String, s: &Sampling, rounds: u32) {
    let f = chance::fraction_per_round(s, rounds);
    let scope = match s.per {
        Scope::Unit => "per enhet",
        Scope::Organisation => "i hela organisationen",
    };
    let _ = writeln!(
        out,
        "Urval: {} av användarna med konto i {} {scope} och omgång, minst {} per enhet; {rounds} omgångar per år",
        chance::percent(f),
        system_title(&s.system),
        s.min_per_unit
    );
    let uniform = Sampling {
        strategy: Strategy::Uniform,
        ..s.clone()
    };
    let uniform_chance = chance::yearly_chance(&uniform, rounds);
    match s.strategy {
        Strategy::Uniform => {
            let _ = writeln!(
                out,
                "Strategi: likformigt slumpurval — alla har samma chans varje omgång"
            );
            let _ = writeln!(
                out,
                "Chans att granskas inom ett år: {}",
                chance::percent(uniform_chance)
            );
        }
        Strategy::Coverage => {
            let _ = writeln!(
                out,
                "Strategi: täckning — de som ännu inte granskats i år dras först, men alla har en chans varje omgång; omgångar fylls på så att alla hinner granskas före årets slut"
            );
            let _ = writeln!(
                out,
                "Chans att granskas inom ett år: {} (med likformigt urval hade det varit {})",
                chance::percent(chance::yearly_chance(s, rounds)),
                chance::percent(uniform_chance)
            );
        }
    }
    let _ = writeln!(
        out,
        "Granskningsintervall: {} timmar inom {} före omgången. När den inlästa loggen täcker perioden dras intervallet kring en av användarens åtkomster, så att det innehåller åtkomster att granska; utan logg slumpas det",
        s.window_hours,
        s.look_back.sv()
    );
    for rule in &s.always_include {
        let who = match rule.users {
            IncludeRule::MultiUnit => "användare med behörighet till flera enheter",
        };
        match rule.every {
            Some(p) => {
                let _ = writeln!(out, "Följs alltid upp: {who}, minst en gång per {}", p.sv());
            }
            None => {
                let _ = writeln!(out, "Följs alltid upp: {who}, varje omgång");
            }
        }
    }
}

pub(crate) use crate::sv::system_title;
