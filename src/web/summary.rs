//! The SAS's yearly summary (*årlig sammanställning*) from the overview: a page listing the
//! years with cases and, per year, the summary of every routine together and of each routine,
//! as HTML (opened in the browser), PDF and CSV — the same documents `report annual` writes.

use super::auth::Staff;
use super::cases::{hand_over, printing_place, query_value};
use super::overview::{read, show};
use super::{App, page};
use crate::records::annual;
use crate::records::download::{Format, Rendered};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Datelike;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /overview/summary`: the years, newest first, with their documents.
pub(crate) async fn page(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let this_year = now.with_timezone(&tz).year();
        let first = crate::store::view::first_case_year(conn)?.unwrap_or(this_year);
        let routines: Vec<Value> = app
            .views
            .routines()
            .iter()
            .map(|r| json!({"id": r.id, "title": r.title, "key": query_value(&r.id)}))
            .collect();
        let years: Vec<Value> = (first.min(this_year)..=this_year)
            .rev()
            .map(|y| json!({"year": y, "current": y == this_year}))
            .collect();
        Ok(json!({"years": years, "routines": routines}))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/summary",
            "web/summary.html",
            "Årlig sammanställning",
            data,
        ),
        Err(response) => response,
    }
}

/// A summary file's name: `sammanstallning.html` (every routine) or
/// `sammanstallning-ROUTINE.pdf`; the routine and the format.
fn parse(file: &str) -> Option<(Option<String>, Format)> {
    let (stem, extension) = file.rsplit_once('.')?;
    let format = match extension {
        "html" => Format::Html,
        "pdf" => Format::Pdf,
        "csv" => Format::Csv,
        _ => return None,
    };
    let routine = match stem.strip_prefix("sammanstallning") {
        Some("") => None,
        Some(rest) => Some(rest.strip_prefix('-')?.to_string()),
        None => return None,
    };
    Some((routine, format))
}

/// `GET /overview/summary/{year}/{file}[?download=1]`: the year's summary made now.
pub(crate) async fn document(
    State(app): State<Arc<App>>,
    _staff: Staff,
    Path((year, file)): Path<(String, String)>,
    query: std::result::Result<
        Query<super::cases::DocumentQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let (Some((routine, format)), Ok(year)) = (parse(&file), year.parse::<i32>()) else {
        return page::not_found(&app);
    };
    if !(2000..=2200).contains(&year)
        || routine
            .as_deref()
            .is_some_and(|r| !app.views.routines().iter().any(|x| x.id == r))
    {
        return page::not_found(&app);
    }
    let printing = match printing_place(&app, format).await {
        Ok(place) => place,
        Err(busy) => return busy,
    };
    let now = app.clock.now();
    hand_over(
        &app,
        query.is_ok_and(|q| q.as_file()),
        printing,
        move |engine| {
            let (scopes, title, template) = annual::scopes(engine, routine.as_deref())?;
            let rendered = annual::render(engine, &scopes, year, &template, &title, now)?;
            let stem = match &routine {
                Some(r) => format!("sammanstallning-{year}-{r}"),
                None => format!("sammanstallning-{year}"),
            };
            let text = match format {
                Format::Csv => rendered.csv,
                _ => rendered.html,
            };
            Ok(Some(Rendered::new(stem, text, format)))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_name_the_routine_and_the_format() {
        assert!(matches!(
            parse("sammanstallning.html"),
            Some((None, Format::Html))
        ));
        assert!(matches!(
            parse("sammanstallning-treserva-sampling.pdf"),
            Some((Some(r), Format::Pdf)) if r == "treserva-sampling"
        ));
        assert!(matches!(
            parse("sammanstallning.csv"),
            Some((None, Format::Csv))
        ));
        for bad in [
            "sammanstallning.exe",
            "annat.html",
            "sammanstallningx.html",
            "",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
