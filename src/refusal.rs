//! Why the engine refused what was asked, typed: each front end words it itself. The command
//! line names its flags (`Refusal::cli`, the error's message); the overview says it in Swedish
//! (`Refusal::sv`). An [`Error`] made from a refusal carries it (`Error::refusal`).

use crate::{Error, ErrorKind};

/// The longest diary number (*diarienummer*), in characters.
pub(crate) const DIARY_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Opening a case: the unit is not in the roster.
    NoUnit {
        unit: String,
    },
    /// Opening a case: whoever opens it is not in the roster, or no longer active.
    OpenerUnknown {
        person: String,
    },
    OpenerInactive {
        person: String,
    },
    /// A system the routine does not cover.
    SystemNotCovered {
        routine: String,
        covers: Vec<String>,
        system: String,
    },
    /// The reviewed user is not in the roster.
    SubjectUnknown {
        person: String,
    },
    /// The client's personal identity number is not one (why, in English).
    BadClient {
        why: String,
    },
    /// The period ends before it starts.
    PeriodReversed,
    /// The routine opens its cases itself (information cases, access-rights reviews).
    OpensItself {
        routine: String,
        per_unit: bool,
    },
    ExtractNeedsClient,
    ExtractNeedsPeriod,
    TargetedNeedsReason,
    SamplingNeedsSubject,
    /// Acting on a case's step: there is none open, or it is another than the one seen.
    NoOpenStep {
        case: String,
    },
    StepMoved {
        case: String,
    },
    /// The step is nobody's (the role has no holder).
    StepHasNobody {
        case: String,
    },
    /// Giving the step to the one who has it, to the reviewed user, or to someone without its
    /// role or no longer active.
    HasStepAlready {
        person: String,
    },
    OwnAccess,
    NotHolder {
        person: String,
        role: String,
    },
    PersonInactive {
        person: String,
    },
    /// A document of a purged case, a letter of a case that is no extract, a PDF without
    /// Chromium.
    Purged {
        case: String,
        at: String,
    },
    NoLetter {
        case: String,
    },
    /// An extract case without its client or its period.
    ExtractIncomplete {
        case: String,
    },
    NoChromium,
    /// The watch list: an entry without a reason, or with one too long or holding control
    /// characters; an end that has passed; an entry not in force.
    WatchReasonMissing,
    ReasonTooLong {
        max: usize,
    },
    ReasonControl,
    UntilPassed {
        until: String,
        today: String,
    },
    NoWatchEntry {
        id: i64,
    },
    /// Whoever acts is not in the roster.
    ActorUnknown {
        person: String,
    },
    /// Delegations: the period ends before it starts, the holder or the deputy is not in the
    /// roster, the holder does not hold the role, the delegation is not in force.
    DelegationReversed,
    HolderUnknown {
        person: String,
    },
    DeputyUnknown {
        person: String,
    },
    HolderLacksRole {
        person: String,
        role: String,
    },
    NoDelegation {
        id: i64,
    },
    /// The overview's accounts: a name that cannot be one, one that exists, one that does not.
    BadAccountName {
        name: String,
    },
    AccountExists {
        name: String,
    },
    NoAccount {
        name: String,
    },
    /// A diary number longer than [`DIARY_MAX`] characters, or
    /// with a control character.
    BadDiaryNumber,
}

impl Refusal {
    /// For the command line, naming its flags.
    pub fn cli(&self) -> String {
        match self {
            Refusal::NoUnit { unit } => format!("--unit: no unit `{unit}` in the roster"),
            Refusal::OpenerUnknown { person } => format!("--by: no person `{person}` in the roster"),
            Refusal::OpenerInactive { person } => {
                format!("--by: `{person}` is not active in the roster")
            }
            Refusal::SystemNotCovered {
                routine,
                covers,
                system,
            } => format!(
                "--system: routine `{routine}` covers {}, not `{system}`",
                covers.join(", ")
            ),
            Refusal::SubjectUnknown { person } => {
                format!("--subject-user: no person `{person}` in the roster")
            }
            Refusal::BadClient { why } => format!("--client: {why}"),
            Refusal::PeriodReversed => "--from must be before --to".into(),
            Refusal::OpensItself { routine, per_unit: false } => format!(
                "routine `{routine}` opens its cases itself when someone gets an account; import the roster"
            ),
            Refusal::OpensItself { routine, per_unit: true } => format!(
                "routine `{routine}` opens a case per unit on its schedule (`loggkoll tick`)"
            ),
            Refusal::ExtractNeedsClient => {
                "an extract case needs --client (the client's personal identity number)".into()
            }
            Refusal::ExtractNeedsPeriod => {
                "an extract case needs the requested period: --from and --to".into()
            }
            Refusal::TargetedNeedsReason => {
                "a targeted review needs --reason (what the suspicion is)".into()
            }
            Refusal::SamplingNeedsSubject => "an ad hoc sampling case needs --subject-user".into(),
            Refusal::NoOpenStep { case } => format!("case {case} has no open step"),
            Refusal::StepMoved { case } => {
                format!("case {case} has moved on to another step since: look at it again")
            }
            Refusal::StepHasNobody { case } => format!("case {case}: the step has nobody"),
            Refusal::HasStepAlready { person } => {
                format!("`{person}` has the step already (to send it again, resend the link)")
            }
            Refusal::OwnAccess => "the reviewed user cannot review their own access".into(),
            Refusal::NotHolder { person, role } => {
                format!("`{person}` does not hold the role `{role}` for the case's unit")
            }
            Refusal::PersonInactive { person } => {
                format!("`{person}` is not active in the roster")
            }
            Refusal::Purged { case, at } => format!(
                "case {case} was purged {at} (past its retention period): its details are gone"
            ),
            Refusal::NoLetter { case } => {
                format!("case {case} is not a request for a log extract: it has no letter")
            }
            Refusal::ExtractIncomplete { case } => {
                format!("case {case} has no client or no requested period: it has no letter")
            }
            Refusal::NoChromium => {
                "no PDF: Chromium is not installed (apt-get install chromium, or set LOGGKOLL_CHROMIUM)"
                    .into()
            }
            Refusal::WatchReasonMissing => "--reason: say why the client is watched (media interest, protected identity, a relative's record …)".into(),
            Refusal::ReasonTooLong { max } => format!("--reason is longer than {max} characters"),
            Refusal::ReasonControl => "--reason: control characters are not allowed".into(),
            Refusal::UntilPassed { until, today } => {
                format!("--until: {until} has passed (today is {today})")
            }
            Refusal::NoWatchEntry { id } => {
                format!("no watch-list entry {id} in force (`loggkoll watch list` shows them)")
            }
            Refusal::ActorUnknown { person } => format!("--by: no person `{person}` in the roster"),
            Refusal::DelegationReversed => "--to is before --from".into(),
            Refusal::HolderUnknown { person } => {
                format!("--holder: no person `{person}` in the roster")
            }
            Refusal::DeputyUnknown { person } => {
                format!("--deputy: no person `{person}` in the roster")
            }
            Refusal::HolderLacksRole { person, role } => {
                format!("--holder: `{person}` does not hold the role `{role}`")
            }
            Refusal::NoDelegation { id } => format!("no delegation {id} in force"),
            Refusal::BadAccountName { name } => format!(
                "`{name}` is not an account name: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`"
            ),
            Refusal::AccountExists { name } => format!("account `{name}` exists"),
            Refusal::NoAccount { name } => format!("no account `{name}`"),
            Refusal::BadDiaryNumber => format!(
                "NUMBER: a diary number is at most {} characters, without line breaks or control characters",
                DIARY_MAX
            ),
        }
    }

    /// For the overview, in Swedish.
    pub fn sv(&self) -> String {
        match self {
            Refusal::NoUnit { .. } => "Enheten finns inte i personallistan.".into(),
            Refusal::OpenerUnknown { .. } | Refusal::OpenerInactive { .. } => {
                "Den som öppnar ärendet finns inte som aktiv i personallistan.".into()
            }
            Refusal::SystemNotCovered { covers, .. } => format!(
                "Rutinen omfattar inte det systemet, bara {}.",
                covers
                    .iter()
                    .map(|s| crate::sv::system_title(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Refusal::SubjectUnknown { .. } => "Personen finns inte i personallistan.".into(),
            Refusal::BadClient { why } if why.contains("check digit") => {
                "Personnumret har fel kontrollsiffra.".into()
            }
            Refusal::BadClient { .. } => {
                "Personnumret är inte giltigt: skriv det som ÅÅÅÅMMDD-NNNN.".into()
            }
            Refusal::PeriodReversed => "Från-datumet ska ligga före till-datumet.".into(),
            Refusal::OpensItself { .. } => {
                "Rutinen öppnar sina ärenden själv; de kan inte öppnas här.".into()
            }
            Refusal::ExtractNeedsClient => "Skriv kundens personnummer.".into(),
            Refusal::ExtractNeedsPeriod => "Ange perioden: första och sista dagen.".into(),
            Refusal::TargetedNeedsReason => "Skriv vad misstanken gäller (anledning).".into(),
            Refusal::SamplingNeedsSubject => "Ange vem som ska granskas.".into(),
            Refusal::NoOpenStep { .. } => "Ärendet har inget öppet steg.".into(),
            Refusal::StepMoved { .. } => {
                "Ärendet har gått vidare sedan sidan lästes in. Läs in den igen.".into()
            }
            Refusal::StepHasNobody { .. } => "Ingen har steget.".into(),
            Refusal::HasStepAlready { .. } => {
                "Personen har redan steget. Skicka länken igen i stället.".into()
            }
            Refusal::OwnAccess => {
                "Den granskade användaren kan inte granska sina egna åtkomster.".into()
            }
            Refusal::NotHolder { .. } => "Personen har inte stegets roll för ärendets enhet.".into(),
            Refusal::PersonInactive { .. } => "Personen är inte aktiv i personallistan.".into(),
            Refusal::Purged { .. } => "Ärendet är gallrat; dess uppgifter finns inte kvar.".into(),
            Refusal::NoLetter { .. } => {
                "Ärendet är ingen begäran om loggutdrag och har inget brev.".into()
            }
            Refusal::ExtractIncomplete { .. } => {
                "Ärendet saknar kund eller period och har därför inget brev.".into()
            }
            Refusal::NoChromium => "Ingen PDF kan göras här: Chromium är inte installerat på servern. Hämta HTML-versionen och skriv ut den.".into(),
            Refusal::WatchReasonMissing => "Skriv varför kunden bevakas (mediaintresse, skyddad identitet, en anhörigs journal …).".into(),
            Refusal::ReasonTooLong { max } => format!("Skälet är längre än {max} tecken."),
            Refusal::ReasonControl => "Skälet får inte innehålla styrtecken.".into(),
            Refusal::UntilPassed { until, .. } => format!("Slutdagen {until} har redan passerat."),
            Refusal::NoWatchEntry { .. } => {
                "Bevakningen finns inte, eller har redan tagits bort.".into()
            }
            Refusal::ActorUnknown { .. } => "Du finns inte i personallistan.".into(),
            Refusal::DelegationReversed => "Slutdagen ligger före startdagen.".into(),
            Refusal::HolderUnknown { .. } | Refusal::DeputyUnknown { .. } => {
                "Personen finns inte i personallistan.".into()
            }
            Refusal::HolderLacksRole { .. } => "Personen har inte den rollen.".into(),
            Refusal::NoDelegation { .. } => "Delegeringen gäller inte längre.".into(),
            Refusal::BadAccountName { .. } => {
                "Ett kontonamn är 1–64 bokstäver, siffror, punkt, understreck, bindestreck eller @.".into()
            }
            Refusal::AccountExists { name } => format!("Det finns redan ett konto {name}."),
            Refusal::NoAccount { name } => format!("Det finns inget konto {name}."),
            Refusal::BadDiaryNumber => format!(
                "Ett diarienummer är högst {} tecken, utan radbrytningar.",
                DIARY_MAX
            ),
        }
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        let mut error = Error::new(ErrorKind::BadInput, refusal.cli());
        error.refusal = Some(Box::new(refusal));
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Refusal> {
        let s = |t: &str| t.to_string();
        vec![
            Refusal::NoUnit { unit: s("EN9") },
            Refusal::OpenerUnknown { person: s("P1") },
            Refusal::OpenerInactive { person: s("P1") },
            Refusal::SystemNotCovered {
                routine: s("r"),
                covers: vec![s("npo")],
                system: s("treserva"),
            },
            Refusal::SubjectUnknown { person: s("P1") },
            Refusal::BadClient {
                why: s("`19121212-1213` has the wrong check digit"),
            },
            Refusal::BadClient {
                why: s("is not 12 digits"),
            },
            Refusal::PeriodReversed,
            Refusal::OpensItself {
                routine: s("r"),
                per_unit: true,
            },
            Refusal::ExtractNeedsClient,
            Refusal::ExtractNeedsPeriod,
            Refusal::TargetedNeedsReason,
            Refusal::SamplingNeedsSubject,
            Refusal::NoOpenStep {
                case: s("RIK-2027-0001"),
            },
            Refusal::StepMoved {
                case: s("RIK-2027-0001"),
            },
            Refusal::StepHasNobody {
                case: s("RIK-2027-0001"),
            },
            Refusal::HasStepAlready { person: s("P1") },
            Refusal::OwnAccess,
            Refusal::NotHolder {
                person: s("P1"),
                role: s("operations_manager"),
            },
            Refusal::PersonInactive { person: s("P1") },
            Refusal::Purged {
                case: s("TRE-2020-0001"),
                at: s("2026-01-01"),
            },
            Refusal::NoLetter {
                case: s("TRE-2027-0001"),
            },
            Refusal::ExtractIncomplete {
                case: s("UTL-2027-0001"),
            },
            Refusal::NoChromium,
            Refusal::WatchReasonMissing,
            Refusal::ReasonTooLong { max: 500 },
            Refusal::ReasonControl,
            Refusal::UntilPassed {
                until: s("2027-01-01"),
                today: s("2027-02-01"),
            },
            Refusal::NoWatchEntry { id: 3 },
            Refusal::ActorUnknown { person: s("P1") },
            Refusal::DelegationReversed,
            Refusal::HolderUnknown { person: s("P1") },
            Refusal::DeputyUnknown { person: s("P2") },
            Refusal::HolderLacksRole {
                person: s("P1"),
                role: s("operations_manager"),
            },
            Refusal::NoDelegation { id: 4 },
            Refusal::BadDiaryNumber,
            Refusal::BadAccountName { name: s("a b") },
            Refusal::AccountExists {
                name: s("kvalitet"),
            },
            Refusal::NoAccount {
                name: s("kvalitet"),
            },
        ]
    }

    #[test]
    fn each_front_end_words_a_refusal_itself() {
        for r in all() {
            let sv = r.sv();
            // The pages name no flag and no English.
            assert!(!sv.contains("--") && !sv.contains(" the "), "{r:?}: {sv}");
            assert!(sv.ends_with('.'), "{r:?}: {sv}");
            let error = Error::from(r.clone());
            assert_eq!(error.kind, ErrorKind::BadInput);
            assert_eq!(error.message, r.cli());
            assert_eq!(error.refusal.as_deref(), Some(&r));
        }
        assert_eq!(
            Refusal::NoUnit { unit: "EN9".into() }.cli(),
            "--unit: no unit `EN9` in the roster"
        );
        assert!(
            Refusal::BadClient {
                why: "`x` has the wrong check digit".into()
            }
            .sv()
            .contains("kontrollsiffra")
        );
    }
}
