//! The log-extract letter (loggutdrag) of an extract case: every access to the client's record
//! in the requested period — when (local time), from which unit, in which role, and the name
//! only where the configuration allows — in plain Swedish, so that the client can judge whether
//! each access was justified (HSLF-FS 2016:40 4 kap.). The letter is filed with the case in the
//! export folder for the records system: one folder per case with the letter and the protocol
//! (HTML, and PDF where possible) and `arende.json`, the metadata the records system files it by.

use super::files::{self, Printer, Written};
use super::logs;
use super::protocol;
use crate::engine::Engine;
use crate::routine::explain::system_title;
use crate::routine::model::CaseKind;
use crate::store::cases::{self as db, CaseRow};
use crate::store::{parse_ts, records as rdb};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::Path;

/// Refuses a case that is not an extract request with its client and period.
fn require_extract(case: &CaseRow) -> Result<(String, DateTime<Utc>, DateTime<Utc>)> {
    protocol::require_details(case)?;
    if CaseKind::parse(&case.kind) != Some(CaseKind::Extract) {
        return Err(crate::engine::Refusal::NoLetter {
            case: case.id.clone(),
        }
        .into());
    }
    let (Some(client), Some(from), Some(to)) =
        (&case.client_ref, &case.window_start, &case.window_end)
    else {
        return Err(crate::engine::Refusal::ExtractIncomplete {
            case: case.id.clone(),
        }
        .into());
    };
    Ok((client.clone(), parse_ts(from)?, parse_ts(to)?))
}

/// The letter's values: the accesses to the client's record at `[window_start, window_end)`
/// in each system the case covers (every system of its routine unless it was opened for one),
/// system by system, with whether the imported log covers the period.
pub fn context(engine: &mut Engine, case: &CaseRow, now: DateTime<Utc>) -> Result<Value> {
    let (client, from, to) = require_extract(case)?;
    let (store, ctx) = engine.parts();
    let routine = ctx.version(store.db(), &case.routine_hash)?;
    let tz = routine.timezone;
    let subject = logs::subject_digits(&client)
        .map_err(|m| Error::runtime(format!("case {}: client {m}", case.id)))?;
    let subject = String::from_utf8_lossy(&subject).into_owned();
    // The client has the right to know who read the record: named, unless the routine (or the
    // configuration) withholds the names, which the letter then says, and why.
    let withheld = match (&routine.names_withheld, ctx.config.extract_shows_names) {
        (Some(why), _) => Some(why.trim_end_matches('.').to_string()),
        (None, false) => Some(
            "organisationen har valt att inte skriva ut namnen i utdraget (inställningen privacy.extract_shows_names)"
                .to_string(),
        ),
        (None, true) => None,
    };
    let shows_names = withheld.is_none();
    let mut all = Vec::new();
    let mut systems = Vec::new();
    for system in &case.systems {
        let rows = rdb::accesses(
            store.db(),
            system,
            &subject,
            from.timestamp(),
            to.timestamp(),
        )?;
        let log = crate::evidence::coverage::of_window(
            store.db(),
            system,
            from.timestamp(),
            to.timestamp(),
        )?;
        let accesses: Vec<Value> = rows
            .iter()
            .map(|a| {
                let at = DateTime::from_timestamp(a.at, 0).unwrap_or(from);
                let unit = match ctx.org.units.get(&a.access_unit) {
                    Some((name, _)) => name.clone(),
                    None => a.access_unit.clone(),
                };
                json!({
                    "at": files::local_at(at, tz),
                    "system": system_title(system),
                    "unit": unit,
                    "unit_id": a.access_unit,
                    "role": if a.user_title.is_empty() { "okänd roll".to_string() } else { a.user_title.clone() },
                    "name": if shows_names { a.user_name.clone() } else { String::new() },
                    "action": logs::action_sv(&a.action),
                    "purpose": a.purpose,
                })
            })
            .collect();
        systems.push(json!({
            "id": system,
            "name": system_title(system),
            "log": log.as_str(),
            "count": accesses.len(),
            "accesses": accesses.clone(),
        }));
        all.extend(accesses);
    }
    let names: Vec<String> = case.systems.iter().map(|s| system_title(s)).collect();
    Ok(json!({
        "case": {
            "id": case.id,
            "routine": routine.title,
            "unit": ctx.org.unit_name(&case.unit_id),
            "reason": case.reason.clone().unwrap_or_default(),
            "opened_at": files::local_date(Some(&case.opened_at), tz),
            "system": crate::sv::and_list(&names),
            "diary_number": case.diary_number.clone().unwrap_or_default(),
        },
        "client": files::personnummer(&client),
        "client_name": case.client_name.clone().unwrap_or_default(),
        "client_address": case.client_address.clone().unwrap_or_default(),
        // The address as lines (given with `,` or line breaks between them).
        "client_address_lines": case
            .client_address
            .as_deref()
            .unwrap_or_default()
            .split([',', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>(),
        "period": crate::sv::period(from, to, tz),
        "period_start": files::local_at(from, tz),
        "period_end": files::local_at(to, tz),
        "timezone": tz.name(),
        "systems": systems,
        "accesses": all,
        "count": all.len(),
        "log_complete": systems.iter().all(|s| s["log"] == "complete"),
        "shows_names": shows_names,
        "names_withheld": withheld.unwrap_or_default(),
        "organisation": ctx.config.organisation,
        "generated_at": files::local_at(now, tz),
        "base_url": ctx.config.base_url,
        "contact": ctx.config.contact_for(&ctx.org.lineage(&case.unit_id)),
    }))
}

/// The file name of a case's letter (without extension).
pub fn file_name(case_id: &str) -> String {
    format!("loggutdrag-{case_id}")
}

/// Files the letter, the protocol and `arende.json` of extract case `case_id` in `out/CASE/`.
pub fn write(
    engine: &mut Engine,
    case_id: &str,
    out: &Path,
    printer: &Printer,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Written> {
    let case = db::require(engine.store.db(), case_id)?;
    let (letter, values) = render(engine, &case, now)?;
    let protocol_html = protocol::render(engine, case_id, now)?;
    let dir = files::case_folder(out, case_id)?;
    let tx = engine.store.write()?;
    let mut written = files::write_document(
        &tx,
        printer,
        &files::Document {
            case_id,
            kind: "extract_letter",
            dir: &dir,
            name: &file_name(case_id),
            html: &letter,
        },
        now,
    )?;
    let proto = files::write_document(
        &tx,
        printer,
        &files::Document {
            case_id,
            kind: "protocol",
            dir: &dir,
            name: &protocol::file_name(case_id),
            html: &protocol_html,
        },
        now,
    )?;
    written.other.push(proto.html.clone());
    written.other.extend(proto.pdf.clone());
    let file_names: Vec<String> = written
        .paths()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let meta = metadata(&case, &values, &file_names, now);
    let meta_path = dir.join(files::METADATA);
    let text = serde_json::to_string_pretty(&meta).map_err(|e| Error::runtime(e.to_string()))?;
    files::write(&tx, case_id, "metadata", &meta_path, text.as_bytes(), now)?;
    written.other.push(meta_path);
    protocol::record(&tx, case_id, "extract_letter", &written, actor, now)?;
    tx.commit()?;
    Ok(written)
}

/// The letter of extract case `case` as HTML, and the values it was rendered with.
pub fn render(engine: &mut Engine, case: &CaseRow, now: DateTime<Utc>) -> Result<(String, Value)> {
    let values = context(engine, case, now)?;
    let template = {
        let (store, ctx) = engine.parts();
        ctx.version(store.db(), &case.routine_hash)?
            .templates
            .extract_letter
            .clone()
    };
    let letter = engine.templates.render_document(&template, &values)?;
    Ok((letter, values))
}

/// `arende.json`: what the records system files about an extract case, with the letter's
/// `values` and the names of the files filed with it.
pub fn metadata(
    case: &CaseRow,
    values: &Value,
    file_names: &[String],
    now: DateTime<Utc>,
) -> Value {
    json!({
        "arende": case.id,
        "rutin": case.routine_id,
        "typ": "utlämnande av loggutdrag",
        "organisation": values["organisation"],
        "enhet": {"id": case.unit_id, "namn": values["case"]["unit"]},
        "system": case.system,
        "systems": case.systems,
        "den_enskilde": values["client"],
        "period": {"fran": case.window_start, "till": case.window_end},
        "atkomster": values["count"],
        "oppnat": case.opened_at,
        "utlamnat": case.handed_out_at,
        "avslutat": case.closed_at,
        "resultat": case.result,
        "diarienummer": case.diary_number,
        "filer": file_names,
        "skapat": crate::store::ts(now),
    })
}
