//! The template library: every tera template under `templates/`, loaded once, checked against
//! the variables each purpose provides, and rendered. Mail templates come in pairs,
//! `mail/NAME.txt` (first line the subject, then a blank line, then the plain-text body) and
//! `mail/NAME.html` (the HTML body, autoescaped); documents are `documents/NAME.html`; the web
//! pages are `web/*.html`. Routines name templates by `NAME` only.

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Source, Span};
use crate::{Error, Result};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tera::{Context, Tera};

pub use crate::mails::Purpose;
use crate::mails::sample_conclusions;

impl Purpose {
    pub(crate) fn is_mail(self) -> bool {
        matches!(
            self,
            Purpose::Task
                | Purpose::Reminder
                | Purpose::Escalation
                | Purpose::Inform
                | Purpose::SummaryMail
                | Purpose::Digest
                | Purpose::InboxFailed
        )
    }

    /// The key that names it in a routine's `templates:` mapping.
    pub fn key(self) -> &'static str {
        match self {
            Purpose::Task => "task",
            Purpose::Reminder => "reminder",
            Purpose::Escalation => "escalation",
            Purpose::Inform => "inform",
            Purpose::SummaryMail => "summary_mail",
            Purpose::Digest => "digest",
            Purpose::InboxFailed => "inbox_failed",
            Purpose::Protocol => "protocol",
            Purpose::ExtractLetter => "extract_letter",
            Purpose::AnnualSummary => "summary",
        }
    }

    /// The files a template `name` of this purpose is made of, relative to the templates folder.
    pub fn files(self, name: &str) -> Vec<String> {
        if self.is_mail() {
            vec![format!("mail/{name}.txt"), format!("mail/{name}.html")]
        } else {
            vec![format!("documents/{name}.html")]
        }
    }

    /// The variables a template of this purpose may use, with sample values for `check`: an
    /// email's are its struct's (`mails::sample`), so they are what the email carries.
    pub fn sample(self) -> Value {
        if let Some(mail) = crate::mails::sample(self) {
            return mail;
        }
        let mut value = match self {
            Purpose::Task
            | Purpose::Reminder
            | Purpose::Escalation
            | Purpose::Inform
            | Purpose::SummaryMail
            | Purpose::Digest
            | Purpose::InboxFailed => json!({}),
            Purpose::Protocol => json!({
                "case": {
                    "id": "TRE-2027-0042", "routine": "Systematisk logguppföljning i Treserva",
                    "routine_id": "treserva-sampling", "version": "1 (3f9c2a7b1d0e)",
                    "kind": "systematisk stickprovskontroll", "kind_phrase": "en systematisk stickprovskontroll", "unit": "Hemtjänst Norr",
                    "unit_id": "EN0001", "system": "Treserva", "subject_user": "Cecilia Ek",
                    "account": "ceek01", "client": "",
                    "window_start": "2027-01-04 13:00", "window_end": "2027-01-05 13:00",
                    "timezone": "Europe/Stockholm", "reason": "", "opened_at": "2027-01-05 07:00",
                    "opened_by": "loggkoll (stickprov)", "closed_at": "2027-01-12 09:14",
                    "handed_out_at": "", "result": "Ingen anmärkning",
                    "state": "Avslutad – ingen anmärkning", "reviewers": "Anna Andersson",
                },
                "steps": [{"step": "Granska loggen", "state": "review", "started": "2027-01-05",
                    "due": "2027-01-19", "assignee": "Anna Andersson", "outcome": "Ingen anmärkning",
                    "by": "Anna Andersson", "at": "2027-01-12 09:14", "comment": "",
                    "late": false, "escalated": false}],
                "evidence": {"log": "complete",
                    "summary": "37 åtkomster till 12 kunder, 1 flaggad", "accesses": 37,
                    "clients": 12, "flagged": 1, "unexplained": 0, "judged": 1,
                    "listed": [{"log_id": "T-1042", "at": "2027-01-04 23:12", "system": "Treserva",
                        "account": "ceek01", "client": "19121212-1212", "client_name": "",
                        "action": "Läsa", "flags": ["Åtkomst kl. 23:12, utanför dagtid."],
                        "explanations": ["Kunden tillhör Hemtjänst Norr, där användaren arbetar."],
                        "verdict": "Befogad", "by": "Anna Andersson", "judged_at": "2027-01-12 09:10",
                        "comment": "Nattpersonal"}]},
                "accounts": {"case": "BEH-2027-0001", "unit": "EN0001", "systems": ["npo"],
                    "counts": {"accounts": 1, "flagged": 1, "keep": 0, "end": 1,
                        "undecided_flagged": 0},
                    "accounts": [{"system": "npo", "system_name": "NPÖ", "account": "n042",
                        "person_id": "P42",
                        "name": "Anna Andersson", "active_to": "2027-01-31", "accesses": 3,
                        "last_used": "2027-02-10T09:00:00Z",
                        "flags": [{"code": "left_with_account",
                            "text": "Anna Andersson slutade 31 januari 2027 men kontot finns kvar"}],
                        "decision": {"decision": "end", "text": "Avslutas (beställt)",
                            "by": "P7", "by_name": "Bertil Berg", "at": "2027-03-02T10:00:00Z",
                            "comment": null}}]},
                "staff": {"case": "INF-2027-0001", "unit": "Hemtjänst Norr",
                    "counts": {"listed": 2, "informed": 1, "waiting": 1, "left": 0},
                    "people": [{"person_id": "P42", "name": "Anna Andersson",
                        "title": "Undersköterska", "left": false},
                        {"person_id": "P43", "name": "Bo Berg", "left": false,
                        "informed": {"by": "P7", "by_name": "Bertil Berg",
                            "at": "2027-01-12 09:14"}}]},
                "legal_basis": "Patientdatalagen (2008:355) 4 kap. 3 §",
                "organisation": "Exempel kommun",
                "generated_at": "2027-01-12 09:15",
            }),
            Purpose::ExtractLetter => json!({
                "case": {"id": "UTL-2027-0003", "routine": "Utlämnande av loggutdrag",
                    "unit": "Hemtjänst Norr", "reason": "", "opened_at": "2027-02-01",
                    "system": "Treserva"},
                "client": "19121212-1212", "client_name": "Tolvan Tolvansson",
                "client_address": "Storgatan 1, 123 45 Tibro",
                "client_address_lines": ["Storgatan 1", "123 45 Tibro"],
                "period": "från och med 1 januari 2027 till och med 31 januari 2027",
                "period_start": "2027-01-01 00:00", "period_end": "2027-02-01 00:00",
                "timezone": "Europe/Stockholm",
                "systems": [{"id": "treserva", "name": "Treserva", "log": "complete", "count": 1,
                    "accesses": [{"at": "2027-01-04 13:12", "system": "Treserva",
                        "unit": "Hemtjänst Norr", "unit_id": "EN0001", "role": "Undersköterska",
                        "name": "", "action": "Läste", "purpose": "vård"}]}],
                "accesses": [{"at": "2027-01-04 13:12", "system": "Treserva",
                    "unit": "Hemtjänst Norr", "unit_id": "EN0001", "role": "Undersköterska",
                    "name": "", "action": "Läste", "purpose": "vård"}],
                "count": 1, "log_complete": true, "shows_names": false,
                "names_withheld": "enligt nämndens beslut lämnas namnen ut på begäran",
                "organisation": "Exempel kommun",
                "generated_at": "2027-02-02 10:00",
            }),
            Purpose::AnnualSummary => {
                let figures = json!({"cases": 12, "closed": 11, "open": 1, "late": 2,
                    "population": 40, "drawn": 12, "reviewed": 11, "coverage": "27,5 %",
                    "results": [{"label": "Ingen anmärkning", "key": "no_finding", "n": 10}],
                    "labour_law": 0, "police": 0, "handed_out": 0, "hand_out_days": "–"});
                json!({
                    "title": "Systematisk logguppföljning i Treserva",
                    "year": 2027, "previous_year": 2026, "organisation": "Exempel kommun",
                    "routines": [{"id": "treserva-sampling",
                        "title": "Systematisk logguppföljning i Treserva",
                        "kind": "systematisk stickprovskontroll", "sampling": true,
                        "extract": false, "information": false, "access_rights": false,
                        "accounts_kept": 0, "accounts_ended": 0, "staff_informed": 0, "staff_waiting": 0, "systems": "", "rounds_due": 12, "rounds_held": 12,
                        "previous_rounds_due": 12, "previous_rounds_held": 11,
                        "units": [{"id": "EN0001", "name": "Hemtjänst Norr",
                            "this": figures, "previous": figures}],
                        "total": {"this": figures, "previous": figures}}],
                    "has_previous": true,
                    "conclusions": sample_conclusions(),
                    "charts": ["<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"],
                    "generated_at": "2027-12-15 07:00",
                })
            }
        };
        if let Value::Object(map) = &mut value {
            map.entry("base_url")
                .or_insert_with(|| json!("https://loggkoll.example.se"));
            // Whom to ask (`[contact]`); null when not configured.
            map.entry("contact").or_insert_with(|| {
                json!({"name": "Karin Kvalitet", "email": "karin.kvalitet@kommun.se",
                    "phone": "0504-123 45"})
            });
        }
        value
    }

    pub fn variables(self) -> BTreeSet<String> {
        match self.sample() {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => BTreeSet::new(),
        }
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// All templates of a folder.
pub struct Library {
    pub dir: PathBuf,
    tera: Tera,
    /// Template name (relative path with `/`) → its source, for diagnostics.
    sources: BTreeMap<String, Source>,
    /// Syntax errors found while loading, one per broken file.
    pub load_errors: Vec<Diagnostic>,
}

impl Library {
    /// Loads every file under `dir`. A missing folder gives an empty library: routines that name
    /// templates then report them as unknown.
    pub fn load(dir: &Path) -> Result<Library> {
        let mut files = Vec::new();
        if dir.is_dir() {
            collect(dir, dir, &mut files)?;
        }
        files.sort();
        let mut sources = BTreeMap::new();
        for (name, path) in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::runtime(format!("cannot read `{}`: {e}", path.display())))?;
            sources.insert(name, Source::new(path.display().to_string(), text));
        }
        Ok(Library::from_sources(dir.to_path_buf(), sources))
    }

    /// A library from in-memory templates (name → text), for tests.
    #[cfg(test)]
    pub(crate) fn from_memory<'a>(
        templates: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Library {
        let sources = templates
            .into_iter()
            .map(|(name, text)| (name.to_string(), Source::new(name, text)))
            .collect();
        Library::from_sources(PathBuf::from("templates"), sources)
    }

    fn from_sources(dir: PathBuf, sources: BTreeMap<String, Source>) -> Library {
        let mut load_errors = Vec::new();
        let mut good: Vec<(&str, &str)> = Vec::new();
        for (name, source) in &sources {
            // Each file alone first, so a syntax error is pinned to its own file.
            let mut alone = new_tera();
            match alone.add_raw_template(name, &source.text) {
                Err(err) if !matches!(err.kind(), tera::ErrorKind::MissingParent { .. }) => {
                    load_errors.push(tera_diagnostic(source, &err));
                }
                _ => good.push((name, &source.text)),
            }
        }
        let mut tera = new_tera();
        if let Err(err) = tera.add_raw_templates(good.iter().copied()) {
            // Inheritance problems across files: report on the first file, keep what loads.
            if let Some((name, _)) = good.first()
                && let Some(source) = sources.get(*name)
            {
                load_errors.push(tera_diagnostic(source, &err));
            }
            tera = new_tera();
            for (name, text) in &good {
                let _ = tera.add_raw_template(name, text);
            }
        }
        Library {
            dir,
            tera,
            sources,
            load_errors,
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.sources.contains_key(name)
    }

    /// The text of template `name` (`mail/task.txt`) as loaded.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.sources.get(name).map(|s| s.text.as_str())
    }

    /// This library with template `name` (`mail/task.txt`) as `text`: an edit, checked before it
    /// is written.
    pub(crate) fn with_text(&self, name: &str, text: &str) -> Library {
        let mut sources = self.sources.clone();
        let path = self.dir.join(name).display().to_string();
        sources.insert(name.to_string(), Source::new(path, text.to_string()));
        Library::from_sources(self.dir.clone(), sources)
    }

    /// The template names present, for did-you-mean.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// Checks template `name` of `purpose`: every file present and loadable, every variable one
    /// the purpose provides (a warning otherwise), and a render with sample values.
    pub fn check(&self, purpose: Purpose, name: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let provided = purpose.variables();
        for file in purpose.files(name) {
            let Some(source) = self.sources.get(&file) else {
                continue;
            };
            if self.load_errors.iter().any(|d| d.path == source.path) {
                continue;
            }
            let mut context = Context::from_serialize(&purpose.sample()).unwrap_or_default();
            if let Ok(used) = self.tera.get_template_variables(&file) {
                let mut unknown: Vec<&str> = used
                    .into_iter()
                    .filter(|v| !provided.contains(*v))
                    .collect();
                unknown.sort_unstable();
                for var in unknown {
                    let span = find_variable(&source.text, var);
                    let meant =
                        crate::diagnostic::did_you_mean(var, provided.iter().map(String::as_str));
                    out.push(
                        Diagnostic::new(
                            source,
                            span,
                            Severity::Warning,
                            "template-variable",
                            format!(
                                "template `{file}` uses `{var}`, which a {} message does not provide",
                                purpose.key()
                            ),
                        )
                        .with_help(meant.unwrap_or_else(|| {
                            format!(
                                "the variables provided are {}",
                                provided
                                    .iter()
                                    .map(|v| format!("`{v}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })),
                    );
                    context.insert(var.to_string(), "");
                }
            }
            if let Err(err) = self.tera.render(&file, &context) {
                out.push(tera_diagnostic(source, &err));
            }
        }
        out
    }

    /// Renders mail template `name` with `context`.
    pub fn render_mail(&self, name: &str, context: &Value) -> Result<Mail> {
        let context = to_context(context)?;
        let text_name = format!("mail/{name}.txt");
        let text = self.render_named(&text_name, &context)?;
        let html = self.render_named(&format!("mail/{name}.html"), &context)?;
        let (subject, body) = match text.split_once('\n') {
            Some((first, rest)) => (
                first.trim().to_string(),
                rest.trim_start_matches(['\r', '\n']),
            ),
            None => (text.trim().to_string(), ""),
        };
        if subject.is_empty() {
            return Err(Error::runtime(format!(
                "template `{text_name}` gives an empty subject line"
            )));
        }
        Ok(Mail {
            subject,
            text: body.to_string(),
            html,
        })
    }

    /// Why mail template `name` cannot be rendered with `context`, at its place in the file that
    /// fails; none when both files render.
    pub(crate) fn render_problem(&self, name: &str, context: &Value) -> Option<Diagnostic> {
        let context = to_context(context).ok()?;
        [format!("mail/{name}.txt"), format!("mail/{name}.html")]
            .into_iter()
            .find_map(|file| {
                let source = self.sources.get(&file)?;
                let err = self.tera.render(&file, &context).err()?;
                // An error in a template this one includes or extends is not at this file's
                // lines.
                let elsewhere = match err.kind() {
                    tera::ErrorKind::SyntaxError(report)
                    | tera::ErrorKind::RenderingError(report) => report.filename() != file,
                    _ => false,
                };
                (!elsewhere).then(|| tera_diagnostic(source, &err))
            })
    }

    /// Renders the document template `name` (`documents/NAME.html`).
    pub(crate) fn render_document(&self, name: &str, context: &Value) -> Result<String> {
        self.render_named(&format!("documents/{name}.html"), &to_context(context)?)
    }

    /// Renders any template by its path under the folder (`web/task.html`).
    pub fn render(&self, file: &str, context: &Value) -> Result<String> {
        self.render_named(file, &to_context(context)?)
    }

    fn render_named(&self, file: &str, context: &Context) -> Result<String> {
        if !self.contains(file) {
            return Err(Error::runtime(format!(
                "template `{file}` is missing from `{}`",
                self.dir.display()
            )));
        }
        self.tera
            .render(file, context)
            .map_err(|e| Error::runtime(format!("template `{file}`: {}", describe(&e))))
    }
}

fn new_tera() -> Tera {
    let mut tera = Tera::new();
    tera.autoescape_on([".html"]);
    // A count with its noun in agreement: `{{ n | antal(en="konto", flera="konton") }}` is
    // "1 konto" or "3 konton" (`sv::count`).
    tera.register_filter(
        "antal",
        |n: i64, kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<String> {
            let one: &str = kwargs.must_get("en")?;
            let many: &str = kwargs.must_get("flera")?;
            Ok(crate::sv::count(n, one, many))
        },
    );
    tera
}

fn to_context(value: &Value) -> Result<Context> {
    Context::from_serialize(value)
        .map_err(|e| Error::runtime(format!("template context: {}", describe(&e))))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::runtime(format!("cannot read `{}`: {e}", dir.display())))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
    Ok(())
}

/// The first line of an error, without tera's own source rendering.
fn describe(err: &tera::Error) -> String {
    match err.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let span = report.span();
            format!(
                "{} (line {}, column {})",
                lowercase_first(report.message()),
                span.start_line,
                span.start_col + 1
            )
        }
        _ => {
            let mut message = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                message = format!("{message}: {inner}");
                source = inner.source();
            }
            lowercase_first(&message)
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A diagnostic at the place tera points to in `source`.
fn tera_diagnostic(source: &Source, err: &tera::Error) -> Diagnostic {
    let (span, message) = match err.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let s = report.span();
            let len = if s.start_line == s.end_line {
                s.end_col.saturating_sub(s.start_col).max(1)
            } else {
                1
            };
            // An unclosed block is reported past the end of the text: at its last line instead.
            let last = source.text.lines().count().max(1);
            let (line, column) = if s.start_line > last {
                let end = source.text.lines().last().unwrap_or("");
                (last, end.chars().count() + 1)
            } else {
                (s.start_line.max(1), s.start_col + 1)
            };
            (
                Span::new(line, column, len),
                lowercase_first(report.message()),
            )
        }
        _ => (Span::new(1, 1, 1), describe(err)),
    };
    let code = if matches!(err.kind(), tera::ErrorKind::RenderingError(_)) {
        "template-render"
    } else {
        "template-syntax"
    };
    Diagnostic::new(source, span, Severity::Error, code, message)
}

/// Where `var` is first used in `text`, for the caret of a warning.
fn find_variable(text: &str, var: &str) -> Span {
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(pos) = line[from..].find(var) {
            let at = from + pos;
            let before = line[..at].chars().next_back();
            let after = line[at + var.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word(before) && !word(after) {
                let col = line[..at].chars().count() + 1;
                return Span::new(i + 1, col, var.chars().count());
            }
            from = at + var.len();
        }
    }
    Span::new(1, 1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_mail_pair() {
        let lib = Library::from_memory([
            (
                "mail/task.txt",
                "Loggkontroll {{ case_id }}\n\nHej {{ recipient }}!\n",
            ),
            ("mail/task.html", "<p>Hej {{ recipient }}!</p>"),
        ]);
        let mail = lib
            .render_mail("task", &json!({"case_id": "TRE-1", "recipient": "<Anna>"}))
            .unwrap();
        assert_eq!(mail.subject, "Loggkontroll TRE-1");
        assert_eq!(mail.text, "Hej <Anna>!\n");
        assert_eq!(mail.html, "<p>Hej &lt;Anna&gt;!</p>");
    }

    #[test]
    fn unknown_variables_warn_at_their_line() {
        let lib = Library::from_memory([
            ("mail/task.txt", "Ämne {{ case_id }}\n\n{{ client_name }}\n"),
            ("mail/task.html", "<p>{{ case_id }}</p>"),
        ]);
        let found = lib.check(Purpose::Task, "task");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "template-variable");
        assert_eq!((found[0].line, found[0].column), (3, 4));
        assert!(found[0].message.contains("`client_name`"));
    }

    #[test]
    fn syntax_errors_are_pinned_to_their_file_and_line() {
        let lib = Library::from_memory([
            ("mail/task.txt", "Ämne\n\n{% if case_id %}\nx\n"),
            ("mail/task.html", "<p>ok</p>"),
        ]);
        assert_eq!(lib.load_errors.len(), 1);
        assert_eq!(lib.load_errors[0].path, "mail/task.txt");
        assert_eq!(lib.load_errors[0].code, "template-syntax");
        assert!(lib.contains("mail/task.html"));
        // The block left open is reported on the text's last line, not past it.
        assert_eq!(lib.load_errors[0].line, 4, "{:?}", lib.load_errors[0]);
    }

    #[test]
    fn a_variable_the_email_lacks_is_placed_where_it_is_used_with_the_name_meant() {
        let lib = Library::from_memory([
            (
                "mail/task.txt",
                "Loggkontroll {{ case_id }}\n\nHej!\n  {{ case_idd }}\n",
            ),
            ("mail/task.html", "<p>Hej</p>"),
        ]);
        let problem = lib
            .render_problem("task", &Purpose::Task.sample())
            .expect("the email cannot be written");
        assert_eq!(problem.path, "mail/task.txt");
        assert_eq!((problem.line, problem.column), (4, 6), "{problem:?}");
        let warned = lib.check(Purpose::Task, "task");
        let warning = warned
            .iter()
            .find(|d| d.code == "template-variable")
            .expect("a warning for the unknown variable");
        assert_eq!(warning.help.as_deref(), Some("did you mean `case_id`?"));
        let fine = Library::from_memory([
            ("mail/task.txt", "Loggkontroll {{ case_id }}\n"),
            ("mail/task.html", "<p>Hej</p>"),
        ]);
        assert!(
            fine.render_problem("task", &Purpose::Task.sample())
                .is_none()
        );
    }
}
