//! The values each email is rendered with: one struct per purpose. The engine fills one in and
//! the outbox row keeps it; `check`'s sample of the purpose is the same struct with sample values
//! ([`sample`]), so a template passes `check` exactly when the emails it makes carry every
//! variable it names.

use crate::config::Contact;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a template is for; decides where it lives and which variables it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    Task,
    Reminder,
    Escalation,
    Inform,
    SummaryMail,
    /// The daily digest of a person's tasks (`mail.digest`).
    Digest,
    /// To the contact (`[contact]`): a file in the logs inbox was refused.
    InboxFailed,
    Protocol,
    ExtractLetter,
    AnnualSummary,
}

/// The summary's conclusions as `records::annual::conclusions` gives them.
pub(crate) fn sample_conclusions() -> Value {
    json!({
        "lines": [
            {"text": "Systematisk logguppföljning i Treserva: målet (att alla användare granskas under året) nåddes inte. 38 av 40 användare granskades (95,0 %); 12 av 12 omgångar genomfördes.", "ok": false},
            {"text": "11 av 12 ärenden avslutades: Ingen anmärkning 10, Förklarad åtkomst 1.", "ok": true},
            {"text": "2 ärenden blev försenade (ett steg besvarat efter sista dagen, eller ännu obesvarat efter den); 1 fortfarande öppet.", "ok": false},
        ],
        "act": ["1 ärende är inte besvarat: följ upp med dem som har det (översiktens Ärenden och Försenade)."],
    })
}

/// What every email names: where loggkoll is and whom to ask (none when not configured).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Common {
    pub base_url: String,
    pub contact: Option<Contact>,
}

/// A step's email: its task, a reminder, an escalation, or a notice for information.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Step {
    pub routine: String,
    pub routine_id: String,
    pub kind: String,
    pub kind_phrase: String,
    pub case_id: String,
    pub step: String,
    pub unit: String,
    pub recipient: String,
    /// The step's last day in words, or empty.
    pub deadline: String,
    pub link: String,
    /// The reviewed user's name when the configuration lets emails name them, else empty.
    pub subject_user: String,
    #[serde(flatten)]
    pub common: Common,
    #[serde(flatten)]
    pub extra: StepMail,
}

/// What a step's email is, with what it adds. Read back from the outbox by what it adds, the
/// variants that add most first: a task's email adds nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum StepMail {
    Reminder {
        /// `före` or `efter` the deadline.
        when: String,
        days_left: i64,
    },
    Escalation {
        assignee: String,
        days_overdue: i64,
    },
    Inform {
        /// The case's result in words, or empty.
        result: String,
    },
    Task {},
}

impl Default for StepMail {
    fn default() -> StepMail {
        StepMail::Task {}
    }
}

impl StepMail {
    pub(crate) fn purpose(&self) -> Purpose {
        match self {
            StepMail::Task {} => Purpose::Task,
            StepMail::Reminder { .. } => Purpose::Reminder,
            StepMail::Escalation { .. } => Purpose::Escalation,
            StepMail::Inform { .. } => Purpose::Inform,
        }
    }
}

/// The year's summary to the SAS.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Summary {
    pub routine: String,
    pub routine_id: String,
    pub year: i32,
    pub recipient: String,
    pub link: String,
    /// `records::annual::conclusions`: `{"lines": [{"text", "ok"}], "act": [..]}`.
    pub conclusions: Value,
    #[serde(flatten)]
    pub common: Common,
}

/// A person's daily digest of tasks and reminders (`mail.digest`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Digest {
    pub recipient: String,
    pub date: String,
    pub count: usize,
    pub tasks: Vec<DigestTask>,
    #[serde(flatten)]
    pub common: Common,
}

/// One task or reminder of a digest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DigestTask {
    pub case_id: String,
    pub routine: String,
    pub step: String,
    pub unit: String,
    pub deadline: String,
    pub link: String,
    pub reminder: bool,
}

/// To the contact: a file in the logs inbox was refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct InboxFailed {
    pub recipient: String,
    pub file: String,
    pub error_file: String,
    pub folder: String,
    pub organisation: String,
    pub link: String,
    #[serde(flatten)]
    pub common: Common,
}

/// An email's values as the outbox keeps them, read back by the row's purpose: one shape per
/// email, from the engine that queues it to the template that renders it.
#[derive(Debug, Clone)]
pub(crate) enum Values {
    Step(Step),
    Summary(Summary),
    Digest(Digest),
    InboxFailed(InboxFailed),
}

impl Values {
    /// The values of an email of `purpose` (a [`Purpose::key`]) kept as `text`, or why not.
    pub(crate) fn read(purpose: &str, text: &str) -> std::result::Result<Values, String> {
        fn parse<T: serde::de::DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
            serde_json::from_str(text).map_err(|e| e.to_string())
        }
        Ok(match purpose {
            "task" | "reminder" | "escalation" | "inform" => {
                let step: Step = parse(text)?;
                let is = step.extra.purpose().key();
                if is != purpose {
                    return Err(format!(
                        "the values of a {purpose} email are those of a {is} email"
                    ));
                }
                Values::Step(step)
            }
            "summary" | "summary_mail" => Values::Summary(parse(text)?),
            "digest" => Values::Digest(parse(text)?),
            "inbox_failed" => Values::InboxFailed(parse(text)?),
            other => return Err(format!("no email has the purpose `{other}`")),
        })
    }

    /// The values as a template reads them.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Values::Step(v) => serde_json::to_value(v),
            Values::Summary(v) => serde_json::to_value(v),
            Values::Digest(v) => serde_json::to_value(v),
            Values::InboxFailed(v) => serde_json::to_value(v),
        }
        .unwrap_or(Value::Null)
    }
}

/// The values as the outbox keeps them (JSON text).
pub(crate) fn context(values: &impl Serialize) -> crate::Result<String> {
    serde_json::to_string(values)
        .map_err(|e| crate::Error::runtime(format!("an email's values: {e}")))
}

/// The sample values of `purpose`'s email, for `check`; `None` for a document.
pub(crate) fn sample(purpose: Purpose) -> Option<Value> {
    let common = Common {
        base_url: "https://loggkoll.example.se".into(),
        contact: Some(Contact {
            name: "Karin Kvalitet".into(),
            email: "karin.kvalitet@kommun.se".into(),
            phone: "0504-123 45".into(),
        }),
    };
    let step = |extra| Step {
        routine: "Systematisk logguppföljning i Treserva".into(),
        routine_id: "treserva-sampling".into(),
        kind: "systematisk stickprovskontroll".into(),
        kind_phrase: "en systematisk stickprovskontroll".into(),
        case_id: "TRE-2027-0042".into(),
        step: "Granska loggen".into(),
        unit: "Hemtjänst Norr".into(),
        recipient: "Anna Andersson".into(),
        deadline: "fredag 15 januari 2027".into(),
        link: "https://loggkoll.example.se/t/abc123".into(),
        subject_user: String::new(),
        common: common.clone(),
        extra,
    };
    let value = match purpose {
        Purpose::Task => serde_json::to_value(step(StepMail::Task {})),
        Purpose::Reminder => serde_json::to_value(step(StepMail::Reminder {
            when: "före".into(),
            days_left: 2,
        })),
        Purpose::Escalation => serde_json::to_value(step(StepMail::Escalation {
            assignee: "Bertil Berg".into(),
            days_overdue: 3,
        })),
        Purpose::Inform => serde_json::to_value(step(StepMail::Inform {
            result: String::new(),
        })),
        Purpose::SummaryMail => serde_json::to_value(Summary {
            routine: "Systematisk logguppföljning i Treserva".into(),
            routine_id: "treserva-sampling".into(),
            year: 2027,
            recipient: "Sara Svensson".into(),
            link: "https://loggkoll.example.se/overview".into(),
            conclusions: sample_conclusions(),
            common,
        }),
        Purpose::Digest => serde_json::to_value(Digest {
            recipient: "Anna Andersson".into(),
            date: "måndag 18 januari 2027".into(),
            count: 1,
            tasks: vec![DigestTask {
                case_id: "TRE-2027-0042".into(),
                routine: "Systematisk logguppföljning i Treserva".into(),
                step: "Granska loggen".into(),
                unit: "Hemtjänst Norr".into(),
                deadline: "fredag 29 januari 2027".into(),
                link: "https://loggkoll.example.se/t/abc123".into(),
                reminder: false,
            }],
            common,
        }),
        Purpose::InboxFailed => serde_json::to_value(InboxFailed {
            recipient: "Karin Kvist".into(),
            file: "treserva-2027-01.csv".into(),
            error_file: "treserva-2027-01.csv.error.txt".into(),
            folder: "/srv/loggkoll/inkorg/failed".into(),
            organisation: "Exempel kommun".into(),
            link: "https://loggkoll.example.se/overview/logs".into(),
            common,
        }),
        Purpose::Protocol | Purpose::ExtractLetter | Purpose::AnnualSummary => return None,
    };
    value.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_emails_values_are_flat_and_carry_what_it_adds() {
        let v = sample(Purpose::Reminder).expect("a mail");
        for key in [
            "routine",
            "case_id",
            "link",
            "base_url",
            "contact",
            "when",
            "days_left",
        ] {
            assert!(v.get(key).is_some(), "{key} in {v}");
        }
        let task = sample(Purpose::Task).expect("a mail");
        assert!(task.get("when").is_none() && task.get("base_url").is_some());
        assert_eq!(sample(Purpose::Protocol), None);
        // A step's email says which purpose it is.
        assert_eq!(
            StepMail::Inform {
                result: String::new()
            }
            .purpose(),
            Purpose::Inform
        );
    }
}
