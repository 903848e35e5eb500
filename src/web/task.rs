//! The page behind an emailed link, `/t/{token}`. `GET` verifies the signed link and shows the
//! step: what to review (routine, system, the reviewed account and user, the 24-hour window in
//! the routine's time zone), the routine's guidance, the steps answered before, and a form with
//! the step's outcomes as buttons. `POST` records the answer through the engine, the same
//! transition as `case answer`, for exactly the step the link names.
//!
//! A tampered link gets 403, an expired one 410, a link whose step has been answered shows that
//! answer and where the case stands (and changes nothing). Someone who is only informed sees the
//! page without the form. The form carries a CSRF token bound to the link (`csrf`); a post
//! without it is refused before anything is read or written.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::csrf::{self, Purpose};
use super::{App, page};
use crate::ErrorKind;
use crate::engine::AnswerRequest;
use crate::engine::view::{Mode, TaskPage};
use crate::links::{self, Claims, LinkError};
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Form, FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Longer tokens are not ours; they are refused before any work.
pub(crate) const MAX_TOKEN: usize = 512;
/// The longest comment kept, in characters.
pub(crate) const MAX_COMMENT: usize = 10_000;
/// The query the answer redirects to, so the page can say thank you.
const SAVED: &str = "svar=sparat";
/// The query a judgement redirects to.
const JUDGED: &str = "bedomning=sparad";
/// What the page says after a judgement, beside the next access to judge.
const JUDGED_NOTICE: &str = "Bedömningen är sparad.";
/// The query a saved decision on an account comes back with.
const DECIDED: &str = "beslut=sparat";
/// The query people ticked as informed come back with.
const INFORMED: &str = "information=sparad";
/// The page for someone who may not tick a unit's staff (or a step that lists none).
const NOT_STAFF: (&str, &str) = (
    "Du kan inte markera medarbetarna",
    "Bara den som har steget markerar vilka som är informerade, och bara medan steget är öppet.",
);

/// The answer form. Every field may be missing: a missing one is refused with a page, never a
/// panic or a bare error.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub comment: String,
}

fn tampered(app: &App) -> Response {
    page::message(
        app,
        StatusCode::FORBIDDEN,
        "Länken fungerar inte",
        &[
            "Länken är ogiltig. Den kan ha ändrats eller kopierats ofullständigt.",
            "Öppna länken direkt från mejlet. Om det inte hjälper, kontakta den som ansvarar för loggkontrollen.",
        ],
    )
}

fn expired(app: &App) -> Response {
    page::message(
        app,
        StatusCode::GONE,
        "Länken har gått ut",
        &[
            "Länken gällde en tid efter stegets sista dag och fungerar inte längre.",
            "Om uppgiften fortfarande behöver göras, kontakta den som ansvarar för loggkontrollen.",
        ],
    )
}

fn replaced(app: &App) -> Response {
    page::message(
        app,
        StatusCode::GONE,
        "Länken har ersatts",
        &[
            "En ny länk till samma uppgift har skickats, och den här fungerar inte längre.",
            "Använd länken i det senaste mejlet om uppgiften.",
        ],
    )
}

fn gone(app: &App) -> Response {
    page::message(
        app,
        StatusCode::NOT_FOUND,
        "Uppgiften finns inte längre",
        &["Ärendet som länken gäller finns inte kvar, till exempel för att det har gallrats."],
    )
}

/// The claims of a genuine, unexpired link, or the page that refuses it.
fn verify(app: &App, token: &str, now: DateTime<Utc>) -> Result<Claims, Response> {
    if token.is_empty() || token.len() > MAX_TOKEN {
        return Err(tampered(app));
    }
    match links::verify(app.secret(), token, now) {
        Ok(claims) => Ok(claims),
        Err(LinkError::Invalid) => Err(tampered(app)),
        Err(LinkError::Expired) => Err(expired(app)),
    }
}

async fn load(app: &Arc<App>, claims: Claims, now: DateTime<Utc>) -> Result<TaskPage, Response> {
    match app
        .with_store(move |app, store| {
            // A link sent again from the overview replaces the assignee's links before it;
            // others' links to the step (informed, escalated) are theirs and stay.
            if let Some(task) = crate::store::cases::task(store.db(), claims.task_id)?
                && !claims.read_only
                && task.assignee_id.as_deref() == Some(claims.person_id.as_str())
                && task.link_generation != claims.generation
            {
                return Ok(Err(()));
            }
            app.views.task_page(store.db(), &claims, now).map(Ok)
        })
        .await
    {
        Ok(Ok(Some(page))) => Ok(page),
        Ok(Ok(None)) => Err(gone(app)),
        Ok(Err(())) => Err(replaced(app)),
        Err(err) => Err(page::server_error(app, &err)),
    }
}

/// A judgement of one access (`a:SYSTEM:LOG_ID`) or of every access to a client (`c:DIGITS`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct JudgeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub verdict: String,
    #[serde(default)]
    pub comment: String,
    /// The group to come back to (`g3`).
    #[serde(default)]
    pub back: String,
}

/// What the form needs besides the page.
struct FormState<'a> {
    error: Option<String>,
    comment: &'a str,
    chosen: &'a str,
    /// A confirmation to show at the top ("Bedömningen är sparad.").
    notice: Option<String>,
}

/// The page shown again with `error` above the form, which keeps what was written and chosen.
fn again(
    app: &App,
    page: &TaskPage,
    token: &str,
    status: StatusCode,
    error: String,
    comment: &str,
    chosen: &str,
) -> Response {
    let form = FormState {
        error: Some(error),
        comment,
        chosen,
        notice: None,
    };
    show_page(app, status, page, token, &form, false)
}

fn show_page(
    app: &App,
    status: StatusCode,
    page: &TaskPage,
    token: &str,
    form: &FormState,
    thanks: bool,
) -> Response {
    let title = format!("{} – {}", page.step.title, page.case_id);
    if page.mode == Mode::Answered {
        return page::render(
            app,
            status,
            "web/answered.html",
            &json!({"title": title, "page": page, "thanks": thanks, "token": token}),
        );
    }
    let csrf = csrf::token(app.secret(), Purpose::Task, token);
    // A judgement's notice is said beside the access to judge next (or the way to the answer),
    // not at the top; a "no finding" refused for unjudged accesses leads to the first of them.
    let judged = form.notice.as_deref() == Some(JUDGED_NOTICE);
    let waiting = page
        .evidence
        .as_ref()
        .filter(|e| !e.next.is_empty() && form.error.as_deref() == Some(e.block_note.as_str()));
    page::render(
        app,
        status,
        "web/task.html",
        &json!({
            "title": title,
            "page": page,
            "token": token,
            "csrf": csrf,
            "error": form.error,
            "error_link": if waiting.is_some() { "nasta" } else { "comment" },
            "comment": form.comment,
            "chosen": form.chosen,
            "notice": if judged { None } else { form.notice.as_deref() },
            "judged": judged,
        }),
    )
}

/// `GET /t/{token}`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    token: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let now = app.clock.now();
    let Ok(Path(token)) = token else {
        return tampered(&app);
    };
    let claims = match verify(&app, &token, now) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let page = match load(&app, claims, now).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let thanks = query.as_deref() == Some(SAVED) && page.mode == Mode::Answered;
    let judged = query.as_deref() == Some(JUDGED) && page.mode == Mode::Answer;
    let decided = query.as_deref() == Some(DECIDED) && page.mode == Mode::Answer;
    let informed = query.as_deref() == Some(INFORMED) && page.mode == Mode::Answer;
    show_page(
        &app,
        StatusCode::OK,
        &page,
        &token,
        &FormState {
            error: None,
            comment: "",
            chosen: "",
            notice: if decided {
                Some("Beslutet är sparat.".to_string())
            } else if informed {
                Some("Markeringen är sparad.".to_string())
            } else {
                judged.then(|| JUDGED_NOTICE.to_string())
            },
        },
        thanks,
    )
}

/// How a task-page form names itself on the pages that refuse it.
struct Words {
    /// "Bedömningen", "Beslutet", "Markeringen", "Svaret".
    noun: &'static str,
    /// What to do on the page shown again: "bedöm", "besluta", "markera", "svara".
    verb: &'static str,
    /// Said after "Öppna länken i mejlet igen" when the form could not be read.
    from_there: &'static str,
    /// The title and text of the page for someone who may not act in the step (`None`: the
    /// handler shows the step as it stands instead).
    may_not: Option<(&'static str, &'static str)>,
}

/// The words of each task-page post.
const JUDGING: Words = Words {
    noun: "Bedömningen",
    verb: "bedöm",
    from_there: "",
    may_not: Some((
        "Du kan inte bedöma åtkomsterna",
        "Bara den som har steget bedömer åtkomsterna, och bara medan steget är öppet.",
    )),
};

const DECIDING: Words = Words {
    noun: "Beslutet",
    verb: "besluta",
    from_there: "",
    may_not: Some((
        "Du kan inte besluta om kontona",
        "Bara den som har steget beslutar om kontona, och bara medan steget är öppet.",
    )),
};

const TICKING: Words = Words {
    noun: "Markeringen",
    verb: "markera",
    from_there: "",
    may_not: Some(NOT_STAFF),
};

const ANSWERING: Words = Words {
    noun: "Svaret",
    verb: "svara",
    from_there: " och svara därifrån",
    may_not: None,
};

/// A form posted to a task page, with the CSRF code bound to the link, and the words its
/// refusals use.
trait TaskForm: serde::de::DeserializeOwned + Send {
    const WORDS: &'static Words;
    fn csrf(&self) -> &str;
}

impl TaskForm for AnswerForm {
    const WORDS: &'static Words = &ANSWERING;
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl TaskForm for JudgeForm {
    const WORDS: &'static Words = &JUDGING;
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl TaskForm for DecideForm {
    const WORDS: &'static Words = &DECIDING;
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl TaskForm for InformForm {
    const WORDS: &'static Words = &TICKING;
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A task-page post that may be acted on: its link, the link's claims, the page as it stands,
/// the form, and when it came. As an extractor, the handler runs only for such a post: every
/// other gets the page that refuses it (see [`posted`]).
pub(crate) struct Posted<F> {
    token: String,
    claims: Claims,
    page: TaskPage,
    form: F,
    now: DateTime<Utc>,
}

impl<F> Posted<F> {
    fn parts(self) -> (String, Claims, TaskPage, F, DateTime<Utc>) {
        (self.token, self.claims, self.page, self.form, self.now)
    }
}

impl<F: TaskForm> FromRequest<Arc<App>> for Posted<F> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Response> {
        let now = app.clock.now();
        let (mut parts, body) = req.into_parts();
        let token = Path::<String>::from_request_parts(&mut parts, app).await;
        let form = Form::<F>::from_request(Request::from_parts(parts, body), app).await;
        posted(app, token, form, now).await
    }
}

/// What every task-page post does first: the link verified, the form read and its CSRF code
/// checked (before anything is read or written), the page loaded, and (where `words.may_not`
/// says so) the visitor allowed to act in the step; or the page that refuses.
async fn posted<F: TaskForm>(
    app: &Arc<App>,
    token: Result<Path<String>, PathRejection>,
    form: Result<Form<F>, FormRejection>,
    now: DateTime<Utc>,
) -> Result<Posted<F>, Response> {
    let words = F::WORDS;
    let Ok(Path(token)) = token else {
        return Err(tampered(app));
    };
    let claims = verify(app, &token, now)?;
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return Err(page::unreadable_form(
                app,
                &rejection,
                &format!("{} kunde inte läsas", words.noun),
                &format!(
                    "Formuläret kom inte fram som det skulle. Inget har sparats. Öppna länken i mejlet igen{}.",
                    words.from_there
                ),
            ));
        }
    };
    if !csrf::verify(app.secret(), Purpose::Task, &token, form.csrf()) {
        return Err(page::message(
            app,
            StatusCode::FORBIDDEN,
            &format!("{} kunde inte tas emot", words.noun),
            &[
                "Formuläret saknade sin säkerhetskod eller hade en felaktig, så inget har sparats.",
                &format!(
                    "Öppna länken i mejlet igen och {} på sidan som visas.",
                    words.verb
                ),
            ],
        ));
    }
    let page = load(app, claims.clone(), now).await?;
    if let Some((title, text)) = words.may_not
        && page.mode != Mode::Answer
    {
        return Err(page::message(app, StatusCode::FORBIDDEN, title, &[text]));
    }
    Ok(Posted {
        token,
        claims,
        page,
        form,
        now,
    })
}

/// `POST /t/{token}/judge`: records a judgement of one access or a client's accesses, then
/// shows the page again (303) at the group it came from.
pub(crate) async fn judge(State(app): State<Arc<App>>, posted: Posted<JudgeForm>) -> Response {
    let (token, claims, page, form, now) = posted.parts();
    let person = claims.person_id.clone();
    let task_id = claims.task_id;
    let reshow = |status, error| again(&app, &page, &token, status, error, "", "");
    let Some(verdict) = crate::evidence::Verdict::parse(&form.verdict) else {
        return reshow(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Välj Befogad, Obefogad eller Oklar.".into(),
        );
    };
    let target = match form.target.split_once(':') {
        Some(("a", rest)) => match rest.split_once(':') {
            Some((system, log_id)) if !system.is_empty() && !log_id.is_empty() => {
                crate::engine::judge::Target::Access {
                    log_id: log_id.to_string(),
                    system: Some(system.to_string()),
                }
            }
            _ => {
                return reshow(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Åtkomsten kunde inte hittas. Ladda om sidan och försök igen.".into(),
                );
            }
        },
        Some(("c", digits)) if digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()) => {
            crate::engine::judge::Target::Client(digits.to_string())
        }
        _ => {
            return reshow(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Åtkomsten kunde inte hittas. Ladda om sidan och försök igen.".into(),
            );
        }
    };
    let comment = form.comment.trim().to_string();
    if comment.chars().count() > MAX_COMMENT {
        return reshow(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Kommentaren är för lång. Den får vara högst {MAX_COMMENT} tecken."),
        );
    }
    let case_id = page.case_id.clone();
    let result = app
        .with_engine(move |engine| {
            engine.judge(
                &crate::engine::judge::JudgeRequest {
                    case_id: &case_id,
                    target,
                    verdict,
                    by: &person,
                    comment: (!comment.is_empty()).then_some(comment.as_str()),
                    task_id: Some(task_id),
                },
                now,
            )
        })
        .await;
    after_write(
        &app,
        result.map(drop),
        Written {
            claims,
            token: &token,
            now,
            back: &form.back,
            anchor: "#underlag",
            query: JUDGED,
            failed: "Bedömningen kunde inte sparas: steget eller underlaget har ändrats sedan sidan öppnades. Sidan visar nu hur det ser ut.",
        },
    )
    .await
}

/// Where a judgement or a decision came from, and what to say when it was refused.
struct Written<'a> {
    claims: Claims,
    token: &'a str,
    now: DateTime<Utc>,
    /// The card to come back to (`g3`, `konto3`); only letters and digits are kept.
    back: &'a str,
    /// Where to come back to without one.
    anchor: &'static str,
    /// The query the page comes back with (its notice).
    query: &'static str,
    /// The page's error when the engine refused the write.
    failed: &'static str,
}

/// After a judgement or a decision: back to the page at its card (303), or the page again with
/// why it was not saved, or the server's error page.
async fn after_write(app: &Arc<App>, result: crate::Result<()>, w: Written<'_>) -> Response {
    let token = w.token;
    match result {
        Ok(()) => {
            let back: String = w
                .back
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(12)
                .collect();
            let anchor = if back.is_empty() {
                w.anchor.to_string()
            } else {
                format!("#{back}")
            };
            page::redirect(&format!("/t/{token}?{}{anchor}", w.query))
        }
        Err(err) if matches!(err.kind, ErrorKind::BadInput | ErrorKind::Usage) => {
            match load(app, w.claims, w.now).await {
                Ok(fresh) => show_page(
                    app,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &fresh,
                    token,
                    &FormState {
                        error: Some(w.failed.into()),
                        comment: "",
                        chosen: "",
                        notice: None,
                    },
                    false,
                ),
                Err(response) => response,
            }
        }
        Err(err) => page::server_error(app, &err),
    }
}

/// `GET /t/{token}/doc/{file}`: the protocol (and for an extract, the letter) of the link's case,
/// made now, for the one who may answer the open step: so that no step asks for a terminal.
/// Links for information, and links of a step already answered, get none (the documents name
/// clients, which the page shows only to someone who may answer).
pub(crate) async fn document(
    State(app): State<Arc<App>>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: std::result::Result<
        axum::extract::Query<super::cases::DocumentQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let now = app.clock.now();
    let Ok(Path((token, file))) = path else {
        return tampered(&app);
    };
    let claims = match verify(&app, &token, now) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let Some((doc, format)) = crate::records::download::Doc::parse(&file) else {
        return page::not_found(&app);
    };
    let person = claims.person_id.clone();
    let page = match load(&app, claims, now).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let offered = crate::records::download::Doc::of_kind(page.kind_code).contains(&doc)
        && doc != crate::records::download::Doc::Metadata;
    // The one who answered the step may read its protocol afterwards, from the same link
    // (not someone informed, nor a holder the step was taken from).
    let answered_protocol = page.mode == Mode::Answered
        && page.answered_by_link
        && doc == crate::records::download::Doc::Protocol;
    if !(page.mode == Mode::Answer || answered_protocol) || !offered {
        return page::message(
            &app,
            StatusCode::FORBIDDEN,
            "Dokumentet kan inte hämtas här",
            &[
                "Bara den som har steget kan hämta ärendets dokument från länken: medan steget är öppet, och protokollet även när steget är besvarat. Kvalitetssamordnaren når dem från översikten.",
            ],
        );
    }
    let as_file = query.is_ok_and(|q| q.as_file());
    super::cases::deliver(&app, page.case_id, doc, format, person, as_file).await
}

/// `GET /t/{token}/guide`: the step's how-to file (a `guide:` beside the routines), for whoever
/// holds a valid link to the step.
pub(crate) async fn guide(
    State(app): State<Arc<App>>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let now = app.clock.now();
    let Ok(Path(token)) = token else {
        return tampered(&app);
    };
    let claims = match verify(&app, &token, now) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let page = match load(&app, claims, now).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let Some(file) = page.step.guide.as_ref().and_then(|g| g.file.clone()) else {
        let mut response = page::not_found(&app);
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let name = page
        .step
        .guide
        .as_ref()
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let read = tokio::task::spawn_blocking({
        let file = file.clone();
        move || std::fs::read(file)
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    match read {
        Ok(bytes) => {
            let kind = match file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("pdf") => "application/pdf",
                Some("html" | "htm") => "text/html; charset=utf-8",
                Some("txt" | "md") => "text/plain; charset=utf-8",
                Some("docx") => {
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                }
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            let mut response = axum::response::IntoResponse::into_response(bytes);
            let headers = response.headers_mut();
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static(kind),
            );
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if let Ok(v) =
                axum::http::HeaderValue::from_str(&format!("inline; filename=\"{ascii}\""))
            {
                headers.insert(axum::http::header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(err) => {
            eprintln!("web: guide `{}`: {err}", file.display());
            page::message(
                &app,
                StatusCode::NOT_FOUND,
                "Lathunden finns inte",
                &[
                    "Lathunden för steget kunde inte hittas. Kontakta den som ansvarar för loggkontrollen.",
                ],
            )
        }
    }
}

/// A decision on one account of an access-rights review.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub decision: String,
    /// The account's card to come back to (`konto3`).
    #[serde(default)]
    pub back: String,
}

/// `POST /t/{token}/decide`: records a decision on one account of an access-rights review, then
/// shows the page again (303) at the account it came from.
pub(crate) async fn decide(State(app): State<Arc<App>>, posted: Posted<DecideForm>) -> Response {
    let (token, claims, page, form, now) = posted.parts();
    let person = claims.person_id.clone();
    let task_id = claims.task_id;
    let Some(decision) = crate::evidence::access::Keep::parse(&form.decision) else {
        let error = "Välj Behålls eller Avslutas.".to_string();
        return again(
            &app,
            &page,
            &token,
            StatusCode::UNPROCESSABLE_ENTITY,
            error,
            "",
            "",
        );
    };
    let case_id = page.case_id.clone();
    let (system, account) = (form.system.clone(), form.account.clone());
    let result = app
        .with_engine(move |engine| {
            engine.decide_account(
                &crate::engine::access::DecideRequest {
                    case_id: &case_id,
                    system: (!system.is_empty()).then_some(system.as_str()),
                    account: &account,
                    decision,
                    by: &person,
                    comment: None,
                    task_id: Some(task_id),
                },
                now,
            )
        })
        .await;
    after_write(
        &app,
        result.map(drop),
        Written {
            claims,
            token: &token,
            now,
            back: &form.back,
            anchor: "#konton",
            query: DECIDED,
            failed: "Beslutet kunde inte sparas: steget eller kontona har ändrats sedan sidan öppnades. Sidan visar nu hur det ser ut.",
        },
    )
    .await
}

/// People ticked as informed on a unit's information case: one person, or (`person` empty)
/// everyone not yet ticked.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InformForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub person: String,
    /// `1`: take the person's tick back (a mistake).
    #[serde(default)]
    pub undo: String,
    /// The row to come back to (`person3`).
    #[serde(default)]
    pub back: String,
}

/// `POST /t/{token}/inform`: ticks people on a unit's information case as informed, then shows
/// the page again (303) at the row it came from.
pub(crate) async fn inform(State(app): State<Arc<App>>, posted: Posted<InformForm>) -> Response {
    let (token, claims, page, form, now) = posted.parts();
    let person = claims.person_id.clone();
    let task_id = claims.task_id;
    if page.staff.is_none() {
        let (title, text) = NOT_STAFF;
        return page::message(&app, StatusCode::FORBIDDEN, title, &[text]);
    }
    let case_id = page.case_id.clone();
    let chosen: Vec<String> = Some(form.person.trim().to_string())
        .filter(|p| !p.is_empty())
        .into_iter()
        .collect();
    let result = app
        .with_engine(move |engine| {
            engine.inform_staff(
                &crate::engine::information::InformRequest {
                    case_id: &case_id,
                    people: &chosen,
                    by: &person,
                    task_id: Some(task_id),
                    undo: form.undo == "1",
                },
                now,
            )
        })
        .await;
    after_write(
        &app,
        result.map(drop),
        Written {
            claims,
            token: &token,
            now,
            back: &form.back,
            anchor: "#medarbetare",
            query: INFORMED,
            failed: "Markeringen kunde inte sparas: steget eller listan har ändrats sedan sidan öppnades. Sidan visar nu hur det ser ut.",
        },
    )
    .await
}

/// Why `outcome` waits on `page`, in the words the page shows beside it: accounts to decide,
/// people to tick, or accesses to judge.
fn blocked_note(page: &TaskPage, outcome: &str) -> Option<String> {
    page.outcomes
        .iter()
        .find(|o| o.name == outcome && o.blocked)?;
    if let Some(accounts) = &page.accounts {
        return Some(format!(
            "Besluta först om varje flaggat konto ({} kvar).",
            accounts.counts.undecided_flagged
        ));
    }
    if let Some(staff) = &page.staff {
        return Some(format!(
            "Markera först var och en som informerad ({} kvar).",
            staff.counts.waiting
        ));
    }
    page.evidence.as_ref().map(|e| e.block_note.clone())
}

/// `POST /t/{token}`: records the answer, then shows the page again (303) with the thanks and
/// where the case goes next.
pub(crate) async fn answer(State(app): State<Arc<App>>, posted: Posted<AnswerForm>) -> Response {
    let (token, claims, page, form, now) = posted.parts();
    let person = claims.person_id.clone();
    let task_id = claims.task_id;
    let reshow = |status, error| {
        again(
            &app,
            &page,
            &token,
            status,
            error,
            &form.comment,
            &form.outcome,
        )
    };
    match page.mode {
        Mode::Answered => {
            let blank = FormState {
                error: None,
                comment: "",
                chosen: "",
                notice: None,
            };
            return show_page(&app, StatusCode::CONFLICT, &page, &token, &blank, false);
        }
        Mode::ReadOnly => {
            return page::message(
                &app,
                StatusCode::FORBIDDEN,
                "Du kan inte besvara det här steget",
                &["Du har fått länken för kännedom. Steget besvaras av den som har uppgiften."],
            );
        }
        Mode::Answer => {}
    }
    let Some(outcome) = page.outcomes.iter().find(|o| o.name == form.outcome) else {
        return reshow(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Välj ett av svaren längst ned på sidan.".into(),
        );
    };
    if outcome.blocked {
        let note = page
            .evidence
            .as_ref()
            .map(|e| e.block_note.clone())
            .unwrap_or_default();
        return reshow(StatusCode::UNPROCESSABLE_ENTITY, note);
    }
    let comment = form.comment.trim();
    if comment.chars().count() > MAX_COMMENT {
        return reshow(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Kommentaren är för lång. Den får vara högst {MAX_COMMENT} tecken."),
        );
    }
    if outcome.comment_required && comment.is_empty() {
        return reshow(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Svaret ”{}” kräver en kommentar. Skriv en kommentar och välj svaret igen.",
                outcome.label
            ),
        );
    }
    let result = app
        .answer(
            AnswerRequest::new(page.case_id.clone(), outcome.name.clone(), person)
                .comment(Some(comment).filter(|c| !c.is_empty()))
                .task(Some(task_id)),
        )
        .await;
    match result {
        Ok(_) => {
            app.kick.notify_one();
            page::redirect(&format!("/t/{token}?{SAVED}"))
        }
        Err(err) if matches!(err.kind, ErrorKind::BadInput | ErrorKind::Usage) => {
            // The step changed between the page and the answer (answered in another tab, the
            // roster changed): show it as it is now.
            match load(&app, claims, now).await {
                Ok(fresh) if fresh.mode == Mode::Answered => {
                    let blank = FormState {
                        error: None,
                        comment: "",
                        chosen: "",
                        notice: None,
                    };
                    show_page(&app, StatusCode::CONFLICT, &fresh, &token, &blank, false)
                }
                Ok(fresh) => show_page(
                    &app,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &fresh,
                    &token,
                    &FormState {
                        // "No finding" refused since the page was read (a new flag, a
                        // judgement elsewhere): say why; else the step itself changed.
                        error: Some(blocked_note(&fresh, &form.outcome).unwrap_or_else(|| {
                            "Svaret kunde inte sparas: steget har ändrats sedan sidan öppnades. Sidan visar nu hur det ser ut."
                                .into()
                        })),
                        comment: &form.comment,
                        chosen: &form.outcome,
                        notice: None,
                    },
                    false,
                ),
                Err(response) => response,
            }
        }
        Err(err) => page::server_error(&app, &err),
    }
}
