//! The access-rights review of a unit ("Underhålla behörigheter": the verksamhetschef
//! "ansvarar för att kontinuerligt beställa, revidera samt avbeställa behörigheter"): the
//! accounts of the unit's people in the routine's systems, each flagged when
//!
//! - `left_with_account`: the person has left (their last day has passed, or the roster no
//!   longer lists them) but the account is still theirs;
//! - `used_after_leaving`: the imported log shows the account used after the person left;
//! - `no_holder`: the log shows the account, mostly from this unit, and nobody in the roster
//!   ever held it;
//! - `no_need`: the needs-and-risk analysis in force (`evidence::needs`) gives the holder's job
//!   title no access to the system at the holder's units, or does not analyse it (only once an
//!   analysis has been imported);
//! - `beyond_need`: the log shows accesses in the last twelve months to clients of units outside
//!   the scope the analysis gives the title;
//! - `unused`: the account was not used in the last twelve months of a log that covers the
//!   system (consider ending it).
//!
//! The reviewer decides per account: `keep` (behålls) or `end` (avslutas, ordered from the
//! system's administrator). Rules only: the facts come from `store::access`.

use super::assess::Said;
use super::needs::Analysis;
use crate::roster::needs_file::{Need, Scope};
use crate::store::Db;
use crate::store::access::{self as db, Decision};
use crate::store::logindex;
use crate::store::records::string_id;
use crate::{Error, Result};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// A decision on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Keep {
    Keep,
    End,
}

impl Keep {
    pub(crate) fn parse(s: &str) -> Option<Keep> {
        match s.trim().to_lowercase().as_str() {
            "keep" | "behålls" | "behall" | "behålla" => Some(Keep::Keep),
            "end" | "avslutas" | "avsluta" => Some(Keep::End),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keep::Keep => "keep",
            Keep::End => "end",
        }
    }

    pub(crate) fn sv(self) -> &'static str {
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
    /// The holder's job title: the roster's, else (when read against an analysis) the one the
    /// log gives the account.
    pub title: Option<String>,
    /// The needs analysed for the title at the holder's units, in this system.
    pub needs: Vec<NeedView>,
    pub flags: Vec<Said>,
    pub decision: Option<DecisionView>,
}

/// One analysed need, as a review shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeedView {
    pub unit: String,
    pub scope: &'static str,
    /// The scope in Swedish.
    pub scope_text: &'static str,
    pub risk: String,
    pub decided_by: String,
    pub decided_on: String,
    /// Decided more than a year ago.
    pub outdated: bool,
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

/// The version of the analysis a review reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalysisView {
    pub version: i64,
    pub imported_at: String,
    /// The local day it was imported.
    pub imported_on: String,
    pub file: String,
}

/// The review of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub case: String,
    pub unit: String,
    pub systems: Vec<String>,
    /// The needs-and-risk analysis the review was read against: when it was imported, from
    /// which file; `None` when none has been.
    pub analysis: Option<AnalysisView>,
    pub accounts: Vec<AccountView>,
    pub counts: Counts,
}

/// The review of access-rights case `case` (unit `unit`, systems `systems`) on `today`.
pub(crate) fn review(
    conn: &Db,
    case: &str,
    unit: &str,
    systems: &[String],
    today: NaiveDate,
    tz: chrono_tz::Tz,
) -> Result<Review> {
    let decided = db::decisions(conn, case)?;
    // The analysis in force by the end of `today` (a protocol's day is its review's last).
    let analysis = Analysis::load(
        conn,
        DateTime::from_timestamp(local_start(today.succ_opt().unwrap_or(today), tz), 0),
    )?;
    let year_ago = local_start(
        today.checked_sub_months(Months::new(12)).unwrap_or(today),
        tz,
    );
    let cx = ReviewContext {
        conn,
        unit,
        today,
        tz,
        year_ago,
        analysis: &analysis,
        decided: &decided,
    };
    // Unit ids in the log's strings, looked up once per review.
    let mut unit_ids: HashMap<String, Option<i64>> = HashMap::new();
    let mut accounts = Vec::new();
    for system in systems {
        let used = db::log_accounts(conn, system)?;
        // Whether the log covers the system's last year (eleven months of it at least): else
        // an account without accesses may simply have been used where no log was imported.
        let log_this_year = super::coverage::covered(
            &super::coverage::merge(crate::store::evidence::coverage(conn, system)?),
            year_ago,
            local_start(today, tz),
        ) >= 330 * 86_400;
        for h in db::holders(conn, unit, system)? {
            if let Some(account) =
                holder_account(&cx, &mut unit_ids, system, &used, log_this_year, h)?
            {
                accounts.push(account);
            }
        }
        // Accounts in the log that nobody ever held, used mostly from this unit.
        no_holder_accounts(&cx, system, &used, &mut accounts)?;
    }
    let counts = counts_of(&accounts);
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
        analysis: analysis_view(&analysis, tz)?,
        accounts,
        counts,
    })
}

/// What the accounts of one review are read against.
struct ReviewContext<'a> {
    conn: &'a Db,
    /// The unit reviewed.
    unit: &'a str,
    today: NaiveDate,
    tz: chrono_tz::Tz,
    /// The first second of the local day a year before `today`.
    year_ago: i64,
    /// The analysis in force.
    analysis: &'a Analysis,
    /// The decisions made in the case, by (system, account).
    decided: &'a std::collections::BTreeMap<(String, String), Decision>,
}

/// The account of holder `h` in `system` as the review shows it, flagged (`used`: each account's
/// accesses in the log, and the last; `log_this_year`: whether the log covers the system's last
/// year); `None` for someone gone from the roster whose account the roster no longer lists.
fn holder_account(
    cx: &ReviewContext,
    unit_ids: &mut HashMap<String, Option<i64>>,
    system: &str,
    used: &std::collections::BTreeMap<String, (i64, i64)>,
    log_this_year: bool,
    h: db::Holder,
) -> Result<Option<AccountView>> {
    let (conn, tz, year_ago) = (cx.conn, cx.tz, cx.year_ago);
    let left_on = day_left(&h, cx.today, tz)?;
    let (n, last) = used.get(&h.account).copied().unwrap_or((0, 0));
    let mut flags = Vec::new();
    let used_after = used_since_leaving(left_on, n, last, tz);
    // Someone gone from the roster whose account the roster no longer lists is not the
    // review's business any more, unless the log shows the account used after they left.
    if left_on.is_some() && !h.listed && !used_after {
        return Ok(None);
    }
    leaving_flags(&mut flags, &h, left_on, used_after, last, tz);
    // Only accounts the roster lists now: a remembered one is already gone.
    let current = left_on.is_none() && h.listed;
    // Read against the analysis: the year's accesses (what lies beyond the need) and the
    // title the log gives when the roster has none.
    let against = current && cx.analysis.exists();
    let year: Vec<logindex::Entry> = if against && n > 0 && last >= year_ago {
        logindex::digests_of(conn, system, &h.account, year_ago, i64::MAX)?
            .into_iter()
            .flat_map(|d| d.entries)
            .filter(|e| e.at >= year_ago)
            .collect()
    } else {
        Vec::new()
    };
    let title = match &h.title {
        Some(t) => Some(t.clone()),
        None if against => log_title(conn, system, &h.account, n, &year)?,
        None => None,
    };
    let mut needs = Vec::new();
    if against {
        let (found, flag) = needs_of(cx, unit_ids, system, &h, title.as_deref(), &year)?;
        needs = found;
        if let Some(flag) = flag {
            flags.push(flag);
        }
    }
    if let Some(flag) = unused_flag(cx, system, &h, current && log_this_year, n, last)? {
        flags.push(flag);
    }
    Ok(Some(AccountView {
        decision: cx
            .decided
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
        title,
        needs,
        flags,
    }))
}

/// The day holder `h` left (their last day before `today`, or the day the roster stopped
/// listing them), if they have.
fn day_left(h: &db::Holder, today: NaiveDate, tz: chrono_tz::Tz) -> Result<Option<NaiveDate>> {
    Ok(match (&h.removed_at, h.active_to) {
        (_, Some(to)) if to < today => Some(to),
        (Some(removed), to) => {
            let removed = crate::store::parse_ts(removed)?
                .with_timezone(&tz)
                .date_naive();
            Some(to.map_or(removed, |t| t.min(removed)))
        }
        _ => None,
    })
}

/// Whether an account with `n` accesses, the last at `last`, was used after its holder left
/// on `left_on`.
fn used_since_leaving(left_on: Option<NaiveDate>, n: i64, last: i64, tz: chrono_tz::Tz) -> bool {
    left_on.is_some_and(|left| {
        let after = crate::clock::resolve_local(
            left.succ_opt()
                .unwrap_or(left)
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
            tz,
        )
        .timestamp();
        n > 0 && last >= after
    })
}

/// Pushes the `left_with_account` and `used_after_leaving` flags of holder `h`'s account, who
/// left on `left_on` (`last`: the account's last access).
fn leaving_flags(
    flags: &mut Vec<Said>,
    h: &db::Holder,
    left_on: Option<NaiveDate>,
    used_after: bool,
    last: i64,
    tz: chrono_tz::Tz,
) {
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
}

/// The needs the analysis gives holder `h`'s job title `title` at their units in `system`, and
/// the `no_need` or `beyond_need` flag (`year`: the account's accesses of the last year).
fn needs_of(
    cx: &ReviewContext,
    unit_ids: &mut HashMap<String, Option<i64>>,
    system: &str,
    h: &db::Holder,
    title: Option<&str>,
    year: &[logindex::Entry],
) -> Result<(Vec<NeedView>, Option<Said>)> {
    let (conn, analysis) = (cx.conn, cx.analysis);
    let units = {
        let mut units = db::person_units(conn, &h.person_id)?;
        if units.is_empty() {
            units.push(cx.unit.to_string());
        }
        units
    };
    let found: Vec<&Need> = match title {
        Some(t) => units
            .iter()
            .filter_map(|u| analysis.need(u, t, system))
            .collect(),
        None => Vec::new(),
    };
    let needs: Vec<NeedView> = found.iter().map(|n| need_view(n, cx.today)).collect();
    let unit_names: Vec<String> = units.iter().map(|u| analysis.unit_name(u)).collect();
    let flag = if let Some(flag) = need_flag(&h.name, title, &unit_names, system, &found) {
        Some(flag)
    } else {
        beyond_need(conn, analysis, unit_ids, &found, year, cx.tz)?
    };
    Ok((needs, flag))
}

/// The `unused` flag of holder `h`'s account in `system` (`n` accesses, the last at `last`)
/// when it has existed a year and was not used in it (`covered`: the roster lists the account
/// now and the log covers the system's last year).
fn unused_flag(
    cx: &ReviewContext,
    system: &str,
    h: &db::Holder,
    covered: bool,
    n: i64,
    last: i64,
) -> Result<Option<Said>> {
    let (tz, year_ago) = (cx.tz, cx.year_ago);
    // The account has existed a year (the person's start and the account's first
    // listing both that old): else it may simply be new.
    let held_a_year = covered
        && h.active_from
            .is_none_or(|from| local_start(from, tz) <= year_ago)
        && match db::account_listed(cx.conn, &h.person_id, system, &h.account)? {
            db::Listed::FromTheStart => true,
            db::Listed::Since(at) => at.timestamp() <= year_ago,
            db::Listed::Unknown => false,
        };
    if held_a_year && (n == 0 || last < year_ago) {
        return Ok(Some(Said {
            code: "unused",
            text: if n == 0 {
                "Kontot har inte använts det senaste året (inte alls i den inlästa loggen): överväg att avsluta det"
                    .to_string()
            } else {
                format!(
                    "Kontot har inte använts det senaste året (senast {}): överväg att avsluta det",
                    at_text(last, tz)
                )
            },
        }));
    }
    Ok(None)
}

/// Pushes the accounts of `system` in the log (`used`: each one's accesses, and the last) that
/// nobody in the roster ever held, used mostly from the review's unit.
fn no_holder_accounts(
    cx: &ReviewContext,
    system: &str,
    used: &std::collections::BTreeMap<String, (i64, i64)>,
    accounts: &mut Vec<AccountView>,
) -> Result<()> {
    let (conn, tz) = (cx.conn, cx.tz);
    let unit_id = string_id(conn, cx.unit)?;
    for (account, (n, last)) in used {
        if db::has_holder(conn, system, account)? {
            continue;
        }
        let Some(unit_id) = unit_id else { break };
        let (here, all) = units_of(conn, system, account, unit_id)?;
        if here * 2 <= all {
            continue;
        }
        accounts.push(AccountView {
            decision: cx
                .decided
                .get(&(system.to_string(), account.clone()))
                .map(view),
            system: system.to_string(),
            system_name: crate::routine::explain::system_title(system),
            account: account.clone(),
            person_id: None,
            name: None,
            active_to: None,
            accesses: *n,
            last_used: Some(iso(*last)),
            title: None,
            needs: Vec::new(),
            flags: vec![Said {
                code: "no_holder",
                text: format!(
                    "Kontot finns i loggen ({}, senast {}) men ingen i personalregistret har det",
                    crate::sv::count(*n, "åtkomst", "åtkomster"),
                    at_text(*last, tz)
                ),
            }],
        });
    }
    Ok(())
}

/// How many of `accounts` there are, are flagged, and are decided each way.
fn counts_of(accounts: &[AccountView]) -> Counts {
    let mut counts = Counts {
        accounts: accounts.len(),
        ..Counts::default()
    };
    for a in accounts {
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
    counts
}

/// The version of `analysis` a review reads, if any.
fn analysis_view(analysis: &Analysis, tz: chrono_tz::Tz) -> Result<Option<AnalysisView>> {
    Ok(match analysis.version.as_ref() {
        Some(v) => Some(AnalysisView {
            version: v.id,
            imported_at: v.imported_at.clone(),
            imported_on: crate::store::date(
                crate::store::parse_ts(&v.imported_at)?
                    .with_timezone(&tz)
                    .date_naive(),
            ),
            file: v.file.clone(),
        }),
        None => None,
    })
}

/// The `no_need` flag of an account whose holder (`name`, job title `title`, at the units named
/// `units`) has no need of `system` in the analysis (`found`: the needs analysed for the title
/// at those units).
fn need_flag(
    name: &str,
    title: Option<&str>,
    units: &[String],
    system: &str,
    found: &[&Need],
) -> Option<Said> {
    let system_name = crate::routine::explain::system_title(system);
    let units_text = crate::sv::and_list(units);
    let text = match title {
        None => format!(
            "Ingen yrkesroll är känd för {name} (varken i personalregistret eller i den inlästa loggen): behovet av {system_name} kan inte prövas mot behovs- och riskanalysen"
        ),
        Some(title) if found.is_empty() => format!(
            "Behovs- och riskanalysen för {units_text} tar inte upp {title} i {system_name}"
        ),
        Some(title) if found.iter().all(|n| n.scope == Scope::None) => format!(
            "Enligt behovs- och riskanalysen behöver {title} vid {units_text} ingen åtkomst till {system_name}"
        ),
        Some(_) => return None,
    };
    Some(Said {
        code: "no_need",
        text,
    })
}

/// The `beyond_need` flag of an account whose year of accesses (`year`) reaches clients of
/// units outside what `found` allows. Accesses to clients of no known unit are not counted.
fn beyond_need(
    conn: &Db,
    analysis: &Analysis,
    unit_ids: &mut HashMap<String, Option<i64>>,
    found: &[&Need],
    year: &[logindex::Entry],
    tz: chrono_tz::Tz,
) -> Result<Option<Said>> {
    let mut allowed_ids = std::collections::HashSet::new();
    for n in found {
        let Some(units) = analysis.reach(&n.unit, n.scope) else {
            return Ok(None);
        };
        for u in units {
            let id = match unit_ids.get(&u) {
                Some(id) => *id,
                None => {
                    let id = string_id(conn, &u)?;
                    unit_ids.insert(u, id);
                    id
                }
            };
            allowed_ids.extend(id);
        }
    }
    let outside: Vec<&logindex::Entry> = year
        .iter()
        .filter(|e| e.client_unit != 0 && !allowed_ids.contains(&i64::from(e.client_unit)))
        .collect();
    let Some(latest) = outside.iter().map(|e| e.at).max() else {
        return Ok(None);
    };
    let mut unit_ids: Vec<u32> = outside.iter().map(|e| e.client_unit).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let names: Vec<String> = crate::store::records::texts(conn, &unit_ids)?
        .into_iter()
        .map(|(_, t)| analysis.unit_name(&t))
        .collect();
    let scopes: Vec<&str> = found.iter().map(|n| n.scope.sv()).collect();
    Ok(Some(Said {
        code: "beyond_need",
        text: format!(
            "{} under det senaste året till kunder utanför behovet ({}), senast {}; kundernas {}: {}",
            crate::sv::count(outside.len(), "åtkomst", "åtkomster"),
            scopes.join("; "),
            at_text(latest, tz),
            crate::sv::agree(
                names.len(),
                crate::sv::Gender::En,
                "enhet",
                "enhet",
                "enheter"
            ),
            crate::sv::and_list(&names)
        ),
    }))
}

/// The job title the log gives `account`: in its last access of the year, else its last of all.
fn log_title(
    conn: &Db,
    system: &str,
    account: &str,
    accesses: i64,
    year: &[logindex::Entry],
) -> Result<Option<String>> {
    let last = match year.iter().map(|e| e.row).max() {
        Some(row) => Some(row),
        None if accesses > 0 => logindex::digests_of(conn, system, account, i64::MIN, i64::MAX)?
            .iter()
            .flat_map(|d| d.entries.iter().map(|e| e.row))
            .max(),
        None => None,
    };
    match last {
        Some(row) => db::log_title(conn, row),
        None => Ok(None),
    }
}

fn need_view(n: &Need, today: NaiveDate) -> NeedView {
    NeedView {
        unit: n.unit.clone(),
        scope: n.scope.as_str(),
        scope_text: n.scope.sv(),
        risk: n.risk.clone(),
        decided_by: n.decided_by.clone(),
        decided_on: crate::store::date(n.decided_on),
        outdated: super::needs::outdated(n.decided_on, today),
    }
}

/// The first second of local day `day`, as Unix seconds.
fn local_start(day: NaiveDate, tz: chrono_tz::Tz) -> i64 {
    crate::clock::day_start(day, tz).timestamp()
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
pub(crate) fn require_listed<'r>(
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
