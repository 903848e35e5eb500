//! The access-rights review of a unit ("Underhålla behörigheter": the verksamhetschef
//! "ansvarar för att kontinuerligt beställa, revidera samt avbeställa behörigheter"): the
//! accounts of the unit's people in the routine's systems, each flagged when
//!
//! - `left_with_account`: the person has left (their last day has passed, or the roster no
//!   longer lists them) but the account is still theirs;
//! - `used_after_leaving`: the imported log shows the account used after the person left;
//! - `no_holder`: the log shows the account, mostly from this unit, and nobody in the roster
//!   ever held it.
//!
//! The reviewer decides per account: `keep` (behålls) or `end` (avslutas, ordered from the
//! system's administrator). Rules only: the facts come from `store::access`.

use super::assess::Said;
use crate::store::Db;
use crate::store::access::{self as db, Decision};
use crate::store::logindex;
use crate::store::records::string_id;
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A decision on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    Keep,
    End,
}

impl Keep {
    pub fn parse(s: &str) -> Option<Keep> {
        match s.trim().to_lowercase().as_str() {
            "keep" | "behålls" | "behall" | "behålla" => Some(Keep::Keep),
            "end" | "avslutas" | "avsluta" => Some(Keep::End),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Keep::Keep => "keep",
            Keep::End => "end",
        }
    }

    pub fn sv(self) -> &'static str {
        match self {
            Keep::Keep => "Behålls",
            Keep::End => "Avslutas (beställt)",
        }
    }
}

/// One account of the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub system: String,
    /// The system as people write it (`NPÖ`).
    pub system_name: String,
    pub account: String,
    /// The holder; `None` for an account in the log that belongs to nobody.
    pub person_id: Option<String>,
    pub name: Option<String>,
    /// The holder's last day, if they have left or will.
    pub active_to: Option<String>,
    /// Accesses in the imported log, and the last one (RFC 3339).
    pub accesses: i64,
    pub last_used: Option<String>,
    pub flags: Vec<Said>,
    pub decision: Option<DecisionView>,
}

impl AccountView {
    pub fn flagged(&self) -> bool {
        !self.flags.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionView {
    pub decision: String,
    pub text: String,
    /// Who decided: a person id, and their name.
    pub by: String,
    pub by_name: String,
    pub at: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub accounts: usize,
    pub flagged: usize,
    pub keep: usize,
    pub end: usize,
    pub undecided_flagged: usize,
}

/// The review of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub case: String,
    pub unit: String,
    pub systems: Vec<String>,
    pub accounts: Vec<AccountView>,
    pub counts: Counts,
}

/// The review of access-rights case `case` (unit `unit`, systems `systems`) on `today`.
pub fn review(
    conn: &Db,
    case: &str,
    unit: &str,
    systems: &[String],
    today: NaiveDate,
    tz: chrono_tz::Tz,
) -> Result<Review> {
    let decided = db::decisions(conn, case)?;
    let mut accounts = Vec::new();
    for system in systems {
        let used = db::log_accounts(conn, system)?;
        for h in db::holders(conn, unit, system)? {
            let left_on: Option<NaiveDate> = match (&h.removed_at, h.active_to) {
                (_, Some(to)) if to < today => Some(to),
                (Some(removed), to) => {
                    let removed = crate::store::parse_ts(removed)?
                        .with_timezone(&tz)
                        .date_naive();
                    Some(to.map_or(removed, |t| t.min(removed)))
                }
                _ => None,
            };
            let (n, last) = used.get(&h.account).copied().unwrap_or((0, 0));
            let mut flags = Vec::new();
            let used_after = left_on.is_some_and(|left| {
                let after = crate::clock::resolve_local(
                    left.succ_opt()
                        .unwrap_or(left)
                        .and_hms_opt(0, 0, 0)
                        .unwrap_or_default(),
                    tz,
                )
                .timestamp();
                n > 0 && last >= after
            });
            // Someone gone from the roster whose account the roster no longer lists is not the
            // review's business any more, unless the log shows the account used after they left.
            if left_on.is_some() && !h.listed && !used_after {
                continue;
            }
            if let Some(left) = left_on
                && h.listed
            {
                flags.push(Said {
                    code: "left_with_account",
                    text: format!(
                        "{} slutade {} men kontot finns kvar{}",
                        h.name,
                        crate::sv::day(left),
                        if h.listed {
                            ""
                        } else {
                            " (personen finns inte längre i personalregistret)"
                        }
                    ),
                });
            }
            if used_after {
                flags.push(Said {
                    code: "used_after_leaving",
                    text: format!(
                        "Kontot användes efter att {} slutade, senast {}",
                        h.name,
                        at_text(last, tz)
                    ),
                });
            }
            accounts.push(AccountView {
                decision: decided
                    .get(&(h.system.clone(), h.account.clone()))
                    .map(view),
                system_name: crate::routine::explain::system_title(&h.system),
                system: h.system,
                account: h.account,
                person_id: Some(h.person_id),
                name: Some(h.name),
                active_to: h.active_to.map(crate::store::date),
                accesses: n,
                last_used: (n > 0).then(|| iso(last)),
                flags,
            });
        }
        // Accounts in the log that nobody ever held, used mostly from this unit.
        let unit_id = string_id(conn, unit)?;
        for (account, (n, last)) in &used {
            if db::has_holder(conn, system, account)? {
                continue;
            }
            let Some(unit_id) = unit_id else { break };
            let (here, all) = units_of(conn, system, account, unit_id)?;
            if here * 2 <= all {
                continue;
            }
            accounts.push(AccountView {
                decision: decided.get(&(system.clone(), account.clone())).map(view),
                system: system.clone(),
                system_name: crate::routine::explain::system_title(system),
                account: account.clone(),
                person_id: None,
                name: None,
                active_to: None,
                accesses: *n,
                last_used: Some(iso(*last)),
                flags: vec![Said {
                    code: "no_holder",
                    text: format!(
                        "Kontot finns i loggen ({n} {}, senast {}) men ingen i personalregistret har det",
                        if *n == 1 { "åtkomst" } else { "åtkomster" },
                        at_text(*last, tz)
                    ),
                }],
            });
        }
    }
    let mut counts = Counts {
        accounts: accounts.len(),
        ..Counts::default()
    };
    for a in &accounts {
        if a.flagged() {
            counts.flagged += 1;
        }
        match a.decision.as_ref().map(|d| d.decision.as_str()) {
            Some("keep") => counts.keep += 1,
            Some("end") => counts.end += 1,
            _ if a.flagged() => counts.undecided_flagged += 1,
            _ => {}
        }
    }
    // Flagged first, then by system, holder and account.
    accounts.sort_by(|a, b| {
        (!a.flagged(), &a.system, &a.name, &a.account).cmp(&(
            !b.flagged(),
            &b.system,
            &b.name,
            &b.account,
        ))
    });
    Ok(Review {
        case: case.to_string(),
        unit: unit.to_string(),
        systems: systems.to_vec(),
        accounts,
        counts,
    })
}

/// (accesses from `unit`, all accesses) of `account` in the log.
fn units_of(conn: &Db, system: &str, account: &str, unit: i64) -> Result<(u64, u64)> {
    let (mut here, mut all) = (0, 0);
    for d in logindex::digests_of(conn, system, account, i64::MIN, i64::MAX)? {
        for e in &d.entries {
            all += 1;
            if i64::from(e.access_unit) == unit {
                here += 1;
            }
        }
    }
    Ok((here, all))
}

fn view(d: &Decision) -> DecisionView {
    DecisionView {
        text: Keep::parse(&d.decision).map_or("", Keep::sv).to_string(),
        decision: d.decision.clone(),
        by: d.by.clone(),
        by_name: d.by_name.clone(),
        at: d.at.clone(),
        comment: d.comment.clone(),
    }
}

fn iso(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(crate::store::ts)
        .unwrap_or_default()
}

fn at_text(t: i64, tz: chrono_tz::Tz) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|t| crate::sv::day(t.with_timezone(&tz).date_naive()))
        .unwrap_or_default()
}

/// Refuses an account the review does not list.
pub fn require_listed<'r>(
    review: &'r Review,
    system: Option<&str>,
    account: &str,
) -> Result<&'r AccountView> {
    let matching: Vec<&AccountView> = review
        .accounts
        .iter()
        .filter(|a| a.account == account && system.is_none_or(|s| s == a.system))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::bad_input(format!(
            "account `{account}` is not among the accounts of case {} (unit {})",
            review.case, review.unit
        ))),
        _ => Err(Error::bad_input(format!(
            "account `{account}` is in several systems of case {}; name one with --system",
            review.case
        ))),
    }
}
