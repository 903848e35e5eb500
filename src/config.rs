//! `loggkoll.toml` and its environment variables (`LOGGKOLL_BASE_URL`, `LOGGKOLL_TIMEZONE`,
//! `LOGGKOLL_MAIL_FROM`, `LOGGKOLL_MAIL_URL`, …): every key has a default, so a fresh install
//! runs without a file. The environment wins over the file.

use crate::{Error, Result};
use chrono_tz::Tz;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Links in emails start here.
    pub base_url: String,
    pub timezone: Tz,
    pub mail: MailConfig,
    /// Whether emails may name the reviewed user (never the client). Off by default.
    pub mail_names_subject_user: bool,
    /// Days after a step's deadline that its emailed link stays valid.
    pub link_valid_days_after_deadline: u32,
    /// Whether the log-extract letter may name the people who read the record (default: yes,
    /// the client has the right to know who; an extract routine's `names_withheld` says why not).
    pub extract_shows_names: bool,
    /// The organisation's name, for letters and summaries.
    pub organisation: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed: behind one, login throttling counts
    /// failures per real client address instead of per proxy. Empty by default.
    pub trusted_proxies: Vec<IpAddr>,
    /// `roster import` refuses to remove more than this share of the people (percent), unless
    /// `--allow-mass-removal`.
    pub roster_max_removal_percent: u32,
    /// Whom people ask about the log checks (`[contact]`): shown in emails, on error pages and
    /// in letters. `None` when not configured.
    pub contact: Option<Contact>,
    /// A unit's own contact (`[contact.units.UNIT]`), for the unit and the units below it.
    pub unit_contacts: std::collections::BTreeMap<String, Contact>,
    /// The folder `serve` and every `tick` import access-log exports from (`[logs] inbox`).
    pub logs_inbox: Option<std::path::PathBuf>,
    /// How long an inbox file's size and modification time must stand still before it is taken
    /// (`[logs] inbox_quiet`, default two minutes).
    pub logs_inbox_quiet: std::time::Duration,
    /// The longest value an import reads: a CSV line, a cell, an XML node (`[logs] max_value`,
    /// bytes, default 1 MB).
    pub logs_max_value: usize,
    /// The folder of log formats (`[logs] formats`, `LOGGKOLL_FORMATS`); `--formats` comes
    /// first, then this, then `./formats`, then the embedded ones.
    pub logs_formats: Option<std::path::PathBuf>,
    /// Signing in through the organisation's identity provider (`[web.oidc]`); `None`: local
    /// accounts only.
    pub oidc: Option<OidcConfig>,
    /// Local accounts of every role need a second factor (`[web] second_factor = "all"`);
    /// otherwise only administrators (`"admin"`, the default).
    pub second_factor_for_all: bool,
}

/// `[web.oidc]`: an OpenID Connect provider quality staff sign in through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer URL; its discovery document is `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// From `LOGGKOLL_OIDC_CLIENT_SECRET` (never the file).
    pub client_secret: Option<String>,
    /// Besides `openid`, always asked for.
    pub scopes: Vec<String>,
    /// The claim that lists the person's groups or roles (none: `groups`, else `roles`).
    pub roles_claim: Option<String>,
    /// The claim values that give each role; the highest role any value gives counts.
    pub admin: Vec<String>,
    pub quality: Vec<String>,
    pub reader: Vec<String>,
    /// The account's name: this claim (default `preferred_username`, else `email`, else `sub`).
    pub name_claim: String,
    /// Refuse a login whose `acr` is not one of these (e.g. a second factor).
    pub required_acr: Vec<String>,
    /// Create the account at its first login (audited), or require it to exist.
    pub provision: bool,
    /// Whether the password form is offered too.
    pub local_login: bool,
    /// The sign-in button's words.
    pub button: String,
}

/// A contact person.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

impl Config {
    /// The contact for a unit with `lineage` (the unit first, then the units above it): the
    /// nearest unit's own, else the organisation's.
    pub(crate) fn contact_for<'a>(&'a self, lineage: &[&str]) -> Option<&'a Contact> {
        lineage
            .iter()
            .find_map(|u| self.unit_contacts.get(*u))
            .or(self.contact.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MailConfig {
    pub from: String,
    /// `file://DIR` (the default) or `smtp://…`/`smtps://…`.
    pub url: String,
    /// Task notices and reminders gathered into one email a day per person.
    pub digest: bool,
    /// When emails go out (`[mail] send_hours`, default 07:00–17:00 on Swedish working days);
    /// `None` (`always`) for any time.
    pub send_hours: Option<crate::calendar::SendHours>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            base_url: "http://127.0.0.1:8080".into(),
            timezone: chrono_tz::Europe::Stockholm,
            mail: MailConfig {
                from: "loggkoll@example.se".into(),
                url: "file://outbox".into(),
                digest: false,
                send_hours: Some(crate::calendar::SendHours::office()),
            },
            mail_names_subject_user: false,
            link_valid_days_after_deadline: 7,
            extract_shows_names: true,
            organisation: "Organisationen".into(),
            trusted_proxies: Vec::new(),
            oidc: None,
            second_factor_for_all: false,
            roster_max_removal_percent: 50,
            logs_inbox: None,
            logs_inbox_quiet: std::time::Duration::from_secs(120),
            logs_max_value: crate::log_format::MAX_VALUE,
            logs_formats: None,
            contact: None,
            unit_contacts: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    base_url: Option<String>,
    timezone: Option<String>,
    organisation: Option<String>,
    mail: Option<MailFile>,
    links: Option<LinksFile>,
    privacy: Option<PrivacyFile>,
    web: Option<WebFile>,
    roster: Option<RosterFile>,
    contact: Option<ContactFile>,
    logs: Option<LogsFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsFile {
    inbox: Option<String>,
    formats: Option<String>,
    inbox_quiet: Option<String>,
    max_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactFile {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    units: Option<std::collections::BTreeMap<String, Contact>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    max_removal_percent: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebFile {
    trusted_proxies: Option<Vec<String>>,
    second_factor: Option<String>,
    oidc: Option<OidcFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcFile {
    issuer: String,
    client_id: String,
    scopes: Option<Vec<String>>,
    roles_claim: Option<String>,
    roles: Option<OidcRolesFile>,
    name_claim: Option<String>,
    required_acr: Option<OneOrMany>,
    provision: Option<bool>,
    local_login: Option<bool>,
    button: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcRolesFile {
    admin: Option<OneOrMany>,
    quality: Option<OneOrMany>,
    reader: Option<OneOrMany>,
}

/// A value or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailFile {
    from: Option<String>,
    url: Option<String>,
    digest: Option<bool>,
    send_hours: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinksFile {
    valid_days_after_deadline: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyFile {
    mail_names_subject_user: Option<bool>,
    extract_shows_names: Option<bool>,
}

impl Config {
    /// Reads `path` when given (it must exist) or `./loggkoll.toml` when present, then the
    /// environment (`env` is passed in so tests need not touch the process environment).
    pub fn load(path: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let default_path = Path::new("loggkoll.toml");
        let file = match path {
            Some(p) => Some(p),
            None if default_path.is_file() => Some(default_path),
            None => None,
        };
        let parsed = read_file(file)?;
        let mut config = Config::default();
        let mail = parsed.mail.unwrap_or_default();
        let links = parsed.links.unwrap_or_default();
        let privacy = parsed.privacy.unwrap_or_default();
        let web = parsed.web.unwrap_or_default();
        let roster = parsed.roster.unwrap_or_default();
        let logs = parsed.logs.unwrap_or_default();
        apply_logs(&mut config, logs, file, env)?;
        apply_contact(&mut config, parsed.contact.unwrap_or_default(), env);
        let pick = |key: &str, file_value: Option<String>| env(key).or(file_value);
        if let Some(v) = pick("LOGGKOLL_BASE_URL", parsed.base_url) {
            config.base_url = v.trim_end_matches('/').to_string();
        }
        if let Some(v) = pick("LOGGKOLL_TIMEZONE", parsed.timezone) {
            config.timezone = v.parse().map_err(|_| {
                Error::bad_input(format!(
                    "timezone `{v}` is not an IANA time zone such as `Europe/Stockholm`"
                ))
            })?;
        }
        if let Some(v) = pick("LOGGKOLL_ORGANISATION", parsed.organisation) {
            config.organisation = v;
        }
        if let Some(v) = pick("LOGGKOLL_MAIL_FROM", mail.from) {
            config.mail.from = v;
        }
        if let Some(v) = pick("LOGGKOLL_MAIL_URL", mail.url) {
            config.mail.url = v;
        }
        if let Some(v) = pick("LOGGKOLL_MAIL_SEND_HOURS", mail.send_hours) {
            config.mail.send_hours = crate::calendar::SendHours::parse(&v)
                .map_err(|m| Error::bad_input(format!("mail.send_hours: {m}")))?;
        }
        apply_switches(&mut config, &privacy, mail.digest, env)?;
        apply_limits(&mut config, &links, &roster, env)?;
        apply_web(&mut config, web, file, env)?;
        Ok(config)
    }
}

/// The configuration file `file` parsed; all defaults without one.
fn read_file(file: Option<&Path>) -> Result<File> {
    let parsed: File = match file {
        None => File::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::usage(format!("cannot read config `{}`: {e}", p.display())))?;
            toml::from_str(&text).map_err(|e| {
                Error::bad_input(format!(
                    "{}: {}",
                    p.display(),
                    e.to_string().trim_end().replace('\n', "\n  ")
                ))
            })?
        }
    };
    Ok(parsed)
}

/// Sets the `[logs]` settings of `config` from the environment or the file's `logs` (read from
/// `file`).
fn apply_logs(
    config: &mut Config,
    logs: LogsFile,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    config.logs_inbox = env("LOGGKOLL_LOGS_INBOX")
        .or(logs.inbox)
        .filter(|v| !v.trim().is_empty())
        .map(std::path::PathBuf::from);
    // A relative folder in the file is the file's neighbour; in the environment, the working
    // directory's.
    let beside_file = |v: String| match file.and_then(Path::parent) {
        Some(dir) if Path::new(&v).is_relative() => dir.join(v),
        _ => std::path::PathBuf::from(v),
    };
    config.logs_formats = match env("LOGGKOLL_FORMATS") {
        Some(v) => Some(std::path::PathBuf::from(v)),
        None => logs.formats.map(beside_file),
    }
    .filter(|v| !v.as_os_str().is_empty());
    if let Some(v) = env("LOGGKOLL_LOGS_INBOX_QUIET").or(logs.inbox_quiet) {
        config.logs_inbox_quiet = parse_seconds(&v).ok_or_else(|| {
            Error::bad_input(format!(
                "logs.inbox_quiet `{v}`: expected seconds or minutes, e.g. `120s` or `2m`"
            ))
        })?;
    }
    if let Some(v) = env("LOGGKOLL_LOGS_MAX_VALUE").or(logs.max_value) {
        config.logs_max_value = parse_bytes(&v)
            .filter(|n| (1024..=(16 << 20)).contains(n))
            .ok_or_else(|| {
                Error::bad_input(format!(
                    "logs.max_value `{v}`: expected a size from 1 kB to 16 MB, e.g. `1MB` or `65536`"
                ))
            })?;
    }
    Ok(())
}

/// Sets the organisation's contact and the units' own contacts of `config` from the
/// environment or the file's `contact`.
fn apply_contact(config: &mut Config, contact: ContactFile, env: &dyn Fn(&str) -> Option<String>) {
    let org_contact = Contact {
        name: env("LOGGKOLL_CONTACT_NAME")
            .or(contact.name)
            .unwrap_or_default(),
        email: env("LOGGKOLL_CONTACT_EMAIL")
            .or(contact.email)
            .unwrap_or_default(),
        phone: env("LOGGKOLL_CONTACT_PHONE")
            .or(contact.phone)
            .unwrap_or_default(),
    };
    if org_contact != Contact::default() {
        config.contact = Some(org_contact);
    }
    config.unit_contacts = contact.units.unwrap_or_default();
}

/// The true-or-false setting `key` of the environment, else `file_value`.
fn env_flag(
    env: &dyn Fn(&str) -> Option<String>,
    key: &str,
    file_value: Option<bool>,
) -> Result<Option<bool>> {
    match env(key) {
        None => Ok(file_value),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            _ => Err(Error::bad_input(format!(
                "{key}=`{v}`: expected true or false"
            ))),
        },
    }
}

/// Sets the true-or-false settings of `config` (privacy, the daily digest) from the
/// environment or the file.
fn apply_switches(
    config: &mut Config,
    privacy: &PrivacyFile,
    digest: Option<bool>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    if let Some(v) = env_flag(
        env,
        "LOGGKOLL_PRIVACY_MAIL_NAMES_SUBJECT_USER",
        privacy.mail_names_subject_user,
    )? {
        config.mail_names_subject_user = v;
    }
    if let Some(v) = env_flag(env, "LOGGKOLL_MAIL_DIGEST", digest)? {
        config.mail.digest = v;
    }
    if let Some(v) = env_flag(
        env,
        "LOGGKOLL_PRIVACY_EXTRACT_SHOWS_NAMES",
        privacy.extract_shows_names,
    )? {
        config.extract_shows_names = v;
    }
    Ok(())
}

/// Sets the numbers of `config` (how long links stay valid, how much of the roster an import
/// may remove) from the environment or the file.
fn apply_limits(
    config: &mut Config,
    links: &LinksFile,
    roster: &RosterFile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    if let Some(v) = env("LOGGKOLL_LINKS_VALID_DAYS_AFTER_DEADLINE") {
        config.link_valid_days_after_deadline = v.parse().map_err(|_| {
            Error::bad_input(format!(
                "LOGGKOLL_LINKS_VALID_DAYS_AFTER_DEADLINE=`{v}`: expected a whole number"
            ))
        })?;
    } else if let Some(v) = links.valid_days_after_deadline {
        config.link_valid_days_after_deadline = v;
    }
    if let Some(v) = env("LOGGKOLL_ROSTER_MAX_REMOVAL_PERCENT") {
        config.roster_max_removal_percent = v.parse().map_err(|_| {
            Error::bad_input(format!(
                "LOGGKOLL_ROSTER_MAX_REMOVAL_PERCENT=`{v}`: expected a whole number of percent"
            ))
        })?;
    } else if let Some(v) = roster.max_removal_percent {
        config.roster_max_removal_percent = v;
    }
    Ok(())
}

/// Sets the `[web]` settings of `config` (trusted proxies, second factor, single sign-on) from
/// the environment or the file's `web` (read from `file`).
fn apply_web(
    config: &mut Config,
    web: WebFile,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    let proxies = match env("LOGGKOLL_WEB_TRUSTED_PROXIES") {
        Some(v) => Some((
            "LOGGKOLL_WEB_TRUSTED_PROXIES".to_string(),
            v.split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
        )),
        None => web.trusted_proxies.map(|v| {
            let path = file.map(|p| p.display().to_string()).unwrap_or_default();
            (format!("{path}: web.trusted_proxies"), v)
        }),
    };
    match web.second_factor.as_deref().map(str::trim) {
        None | Some("admin") => {}
        Some("all") => config.second_factor_for_all = true,
        Some(other) => {
            let path = file.map(|p| p.display().to_string()).unwrap_or_default();
            return Err(Error::bad_input(format!(
                "{path}: web.second_factor: `{other}` is neither \"admin\" (administrators need a second factor) nor \"all\" (every local account does)"
            )));
        }
    }
    if let Some(o) = web.oidc {
        let path = file.map(|p| p.display().to_string()).unwrap_or_default();
        config.oidc = Some(oidc_config(o, &path, env)?);
    }
    if let Some((key, addresses)) = proxies {
        config.trusted_proxies = addresses
            .iter()
            .map(|a| {
                a.parse::<IpAddr>().map_err(|_| {
                    Error::bad_input(format!(
                        "{key}: `{a}` is not an IP address such as `127.0.0.1` or `::1`"
                    ))
                })
            })
            .collect::<Result<_>>()?;
    }
    Ok(())
}

/// The single sign-on of the file's `web.oidc` (`path` names the file in errors), checked.
fn oidc_config(
    o: OidcFile,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<OidcConfig> {
    // https, or plain http to this machine only (tests, a provider beside loggkoll).
    let local_http = url::Url::parse(o.issuer.trim()).is_ok_and(|u| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
    });
    if !(o.issuer.trim().starts_with("https://") || local_http) {
        return Err(Error::bad_input(format!(
            "{path}: web.oidc.issuer: `{}` must be an https:// address (http only on this machine, for tests)",
            o.issuer
        )));
    }
    if o.client_id.trim().is_empty() {
        return Err(Error::bad_input(format!(
            "{path}: web.oidc.client_id is empty"
        )));
    }
    let roles = o.roles.unwrap_or_default();
    let list = |v: Option<OneOrMany>| v.map(OneOrMany::into_vec).unwrap_or_default();
    let oidc = OidcConfig {
        issuer: o.issuer.trim().to_string(),
        client_id: o.client_id.trim().to_string(),
        client_secret: env("LOGGKOLL_OIDC_CLIENT_SECRET").filter(|s| !s.is_empty()),
        scopes: o
            .scopes
            .unwrap_or_else(|| vec!["openid".into(), "profile".into(), "email".into()]),
        roles_claim: o.roles_claim.filter(|c| !c.trim().is_empty()),
        admin: list(roles.admin),
        quality: list(roles.quality),
        reader: list(roles.reader),
        name_claim: o.name_claim.unwrap_or_else(|| "preferred_username".into()),
        required_acr: list(o.required_acr),
        provision: o.provision.unwrap_or(true),
        local_login: o.local_login.unwrap_or(true),
        button: o
            .button
            .unwrap_or_else(|| "Logga in med organisationens konto".into()),
    };
    if oidc.admin.is_empty() && oidc.quality.is_empty() && oidc.reader.is_empty() {
        return Err(Error::bad_input(format!(
            "{path}: web.oidc.roles maps no group to a role: add e.g. quality = [\"loggkoll-kvalitet\"]"
        )));
    }
    Ok(oidc)
}

/// `2m` as 2 and `m` (the unit lower case, blanks around it dropped).
fn number_and_unit(text: &str) -> Option<(usize, String)> {
    let t = text.trim().to_ascii_lowercase();
    let i = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    Some((t[..i].parse().ok()?, t[i..].trim().to_string()))
}

/// `120`, `120s`, `2m`, `2min` as a duration.
fn parse_seconds(text: &str) -> Option<std::time::Duration> {
    let (n, unit) = number_and_unit(text)?;
    let n = u64::try_from(n).ok()?;
    let seconds = match unit.as_str() {
        "" | "s" | "sec" | "seconds" => n,
        "m" | "min" | "minutes" => n.checked_mul(60)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(seconds))
}

/// `65536`, `64kB`, `1MB` (binary units) as bytes.
fn parse_bytes(text: &str) -> Option<usize> {
    let (n, unit) = number_and_unit(text)?;
    match unit.as_str() {
        "" | "b" => Some(n),
        "k" | "kb" | "kib" => n.checked_mul(1 << 10),
        "m" | "mb" | "mib" => n.checked_mul(1 << 20),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_units_own_contact_comes_before_the_organisations() {
        let text = r#"
[contact]
name = "Karin Kvalitet"
email = "karin@kommun.se"

[contact.units.EN1]
name = "Erik Enhetschef"
phone = "0504-1"
"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loggkoll.toml");
        std::fs::write(&path, text).unwrap();
        let c = Config::load(Some(&path), &|_| None).unwrap();
        assert_eq!(
            c.contact_for(&["EN2", "VH1"]).unwrap().name,
            "Karin Kvalitet"
        );
        assert_eq!(
            c.contact_for(&["EN1", "VH1"]).unwrap().name,
            "Erik Enhetschef"
        );
        let c = Config::load(Some(&path), &|k| {
            (k == "LOGGKOLL_CONTACT_NAME").then(|| "Kim".to_string())
        })
        .unwrap();
        assert_eq!(c.contact.unwrap().name, "Kim");
        let none = Config::load(None, &|_| None).unwrap();
        assert_eq!(none.contact, None);
    }

    #[test]
    fn trusted_proxies_are_addresses_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loggkoll.toml");
        std::fs::write(&path, "[web]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n").unwrap();
        let c = Config::load(Some(&path), &|_| None).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[1].is_loopback());

        let env = |k: &str| (k == "LOGGKOLL_WEB_TRUSTED_PROXIES").then(|| "10.0.0.1, ".to_string());
        let c = Config::load(Some(&path), &env).unwrap();
        assert_eq!(
            c.trusted_proxies,
            vec!["10.0.0.1".parse::<IpAddr>().unwrap()]
        );

        std::fs::write(&path, "[web]\ntrusted_proxies = [\"proxy.kommun.se\"]\n").unwrap();
        let err = Config::load(Some(&path), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("loggkoll.toml: web.trusted_proxies"), "{err}");
        assert!(
            err.contains("`proxy.kommun.se` is not an IP address"),
            "{err}"
        );
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loggkoll.toml");
        std::fs::write(
            &path,
            "base_url = \"https://a.example\"\n[mail]\nurl = \"smtp://mail:25\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "LOGGKOLL_BASE_URL").then(|| "https://b.example/".to_string());
        let c = Config::load(Some(&path), &env).unwrap();
        assert_eq!(c.base_url, "https://b.example");
        assert_eq!(c.mail.url, "smtp://mail:25");
    }

    #[test]
    fn the_deployment_example_is_a_valid_configuration() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/loggkoll.toml.example");
        let c = Config::load(Some(&path), &|_| None).unwrap();
        assert_eq!(c.base_url, "https://loggkoll.kommun.se");
        assert!(c.mail.url.starts_with("smtp://"));
        assert_eq!(c.link_valid_days_after_deadline, 7);
        assert!(!c.mail_names_subject_user && c.extract_shows_names && !c.mail.digest);
        assert_eq!(
            c.mail.send_hours,
            Some(crate::calendar::SendHours::office())
        );
        assert!(c.contact.is_some_and(|k| !k.name.is_empty()));
    }

    #[test]
    fn unknown_keys_and_bad_zones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loggkoll.toml");
        std::fs::write(&path, "base_ulr = \"x\"\n").unwrap();
        let err = Config::load(Some(&path), &|_| None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message.contains("base_ulr"), "{}", err.message);
        let err = Config::load(None, &|k| {
            (k == "LOGGKOLL_TIMEZONE").then(|| "Mars/Base".into())
        })
        .unwrap_err();
        assert!(err.message.contains("Mars/Base"));
    }
}
