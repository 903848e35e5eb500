//! Responses: pages rendered from `templates/web/`, Swedish message pages for every refusal,
//! and redirects. A failure is logged on stderr with its cause and shown as a page without it.

use super::App;
use crate::Error;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A page from template `name` with `context`.
pub(crate) fn render(app: &App, status: StatusCode, name: &str, context: &Value) -> Response {
    match app.pages.render(name, context) {
        Ok(html) => html_response(status, html),
        Err(err) => {
            eprintln!("web: {err}");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><html lang=\"sv\"><meta charset=\"utf-8\"><title>Något gick fel</title><h1>Något gick fel</h1><p>Sidan kunde inte visas. Försök igen om en stund.</p></html>".into(),
            )
        }
    }
}

pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The page for a form that could not be read: 413 when the body was larger than the server
/// takes ([`super::server::BODY_LIMIT`]), else 400 with `title` and `paragraph`.
pub(crate) fn unreadable_form(
    app: &App,
    rejection: &axum::extract::rejection::FormRejection,
    title: &str,
    paragraph: &str,
) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return message(
            app,
            StatusCode::PAYLOAD_TOO_LARGE,
            "För mycket text",
            &[
                "Formuläret var större än vad som tas emot, så inget har sparats.",
                "Korta texten och försök igen.",
            ],
        );
    }
    message(app, StatusCode::BAD_REQUEST, title, &[paragraph])
}

/// A page that says one thing: a heading and paragraphs.
pub(crate) fn message(app: &App, status: StatusCode, title: &str, paragraphs: &[&str]) -> Response {
    message_with_links(app, status, title, paragraphs, &[])
}

/// [`message`] with links under it: `(href, text)`.
pub(crate) fn message_with_links(
    app: &App,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    links: &[(&str, &str)],
) -> Response {
    let links: Vec<_> = links
        .iter()
        .map(|(href, text)| json!({"href": href, "text": text}))
        .collect();
    render(
        app,
        status,
        "web/message.html",
        &json!({
            "title": title,
            "paragraphs": paragraphs,
            "links": links,
            "contact": app.views.config().contact,
        }),
    )
}

/// The page for a failure of the machine; the cause goes to stderr only.
pub(crate) fn server_error(app: &App, err: &Error) -> Response {
    eprintln!("web: {err}");
    message(
        app,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Något gick fel",
        &[
            "Sidan kunde inte visas just nu. Försök igen om en stund. Om felet finns kvar, kontakta den som ansvarar för loggkontrollen.",
        ],
    )
}

pub(crate) fn not_found(app: &App) -> Response {
    message(
        app,
        StatusCode::NOT_FOUND,
        "Sidan finns inte",
        &["Adressen leder inte till någon sida. Kontrollera att du har kopierat hela länken."],
    )
}

/// `303 See Other` to `to` (a path on this server).
pub(crate) fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
