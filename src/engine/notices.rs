//! Notices: the emails the engine's events cause — a new task, a reminder, an escalation, a notice
//! to a role informed without a task — rendered from the state's templates and written to the
//! outbox in the transaction of the event. What an email may carry is decided here: the routine,
//! the case reference, the step, the deadline and a signed link; never a client's identity or a
//! finding, and the reviewed user's name only when the configuration allows it.

use super::Ctx;
use super::deadline;
use crate::links::{self, Claims};
use crate::mails::{Common, Step, StepMail};
use crate::routine::Routine;
use crate::routine::model::State;
use crate::store::Db;
use crate::store::outbox::{self, NewMessage};
use crate::store::roster::PersonInfo;
use crate::templates::Purpose;
use crate::{Error, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The case facts a notice may use.
pub(crate) struct CaseFacts<'a> {
    pub id: &'a str,
    pub unit_id: &'a str,
    pub subject_person_id: Option<&'a str>,
}

pub(crate) struct Notice<'a> {
    /// Which email, with what it adds to a step's values.
    pub mail: StepMail,
    pub routine: &'a Routine,
    pub state: &'a State,
    pub case: &'a CaseFacts<'a>,
    /// The task the link opens.
    pub task_id: Option<i64>,
    pub recipient: &'a PersonInfo,
    pub due: Option<NaiveDate>,
    /// The step's link generation (`links::Claims::generation`): 0 for a step just entered.
    pub generation: u32,
}

/// The signed link for `task` and `person`, valid until the configured days after `due` (or
/// after `now`, when that is later).
#[allow(clippy::too_many_arguments)]
pub(crate) fn link(
    ctx: &Ctx,
    routine: &Routine,
    task_id: i64,
    person_id: &str,
    due: Option<NaiveDate>,
    read_only: bool,
    generation: u32,
    now: DateTime<Utc>,
) -> String {
    // A link lives the configured days past the deadline, and never less than that from when
    // it is sent: an escalation or a late reminder goes out after the deadline.
    let valid = Duration::days(i64::from(ctx.config.link_valid_days_after_deadline));
    let expires = match due {
        Some(due) => (deadline::due_end(due, routine.timezone) + valid).max(now + valid),
        None => now + Duration::days(i64::from(ctx.config.link_valid_days_after_deadline.max(7))),
    };
    let token = links::sign(
        ctx.secret,
        &Claims {
            task_id,
            person_id: person_id.to_string(),
            expires,
            read_only,
            generation,
        },
    );
    format!("{}/t/{token}", ctx.config.base_url)
}

/// Sends open step `task` of `case` to `recipient` again (a reassignment, a resent link): the
/// step's task email with a link of link generation `generation`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn queue_step(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    state: &State,
    case: &crate::store::cases::CaseRow,
    task: &crate::store::cases::TaskRow,
    recipient: &PersonInfo,
    generation: u32,
    now: DateTime<Utc>,
) -> Result<i64> {
    let facts = CaseFacts {
        id: &case.id,
        unit_id: &case.unit_id,
        subject_person_id: case.subject_person_id.as_deref(),
    };
    queue(
        conn,
        ctx,
        &Notice {
            mail: StepMail::Task {},
            routine,
            state,
            case: &facts,
            task_id: Some(task.id),
            recipient,
            due: Some(task.due_date),
            generation,
        },
        now,
    )
}

/// Writes `notice` to the outbox: the template and the values to render it with.
pub(crate) fn queue(conn: &Db, ctx: &Ctx, notice: &Notice, now: DateTime<Utc>) -> Result<i64> {
    let routine = notice.routine;
    let purpose = notice.mail.purpose();
    let link = match notice.task_id {
        // A notice "för kännedom" opens the step read-only, whoever follows it.
        Some(task) => link(
            ctx,
            routine,
            task,
            &notice.recipient.id,
            notice.due,
            purpose == Purpose::Inform,
            notice.generation,
            now,
        ),
        None => ctx.config.base_url.clone(),
    };
    let subject_user = match (
        ctx.config.mail_names_subject_user,
        notice.case.subject_person_id,
    ) {
        (true, Some(id)) => ctx
            .org
            .person(id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let values = Step {
        routine: routine.title.clone(),
        routine_id: routine.id.clone(),
        kind: routine.kind.title_sv().to_string(),
        kind_phrase: routine.kind.phrase_sv().to_string(),
        case_id: notice.case.id.to_string(),
        step: notice.state.title.clone(),
        unit: ctx.org.unit_name(notice.case.unit_id).to_string(),
        recipient: notice.recipient.name.clone(),
        deadline: notice.due.map(crate::sv::date).unwrap_or_default(),
        link,
        subject_user,
        common: Common {
            base_url: ctx.config.base_url.clone(),
            contact: ctx
                .config
                .contact_for(&ctx.org.lineage(notice.case.unit_id))
                .cloned(),
        },
        extra: notice.mail.clone(),
    };
    let names = &notice.state.templates;
    let name = match purpose {
        Purpose::Task => &names.task,
        Purpose::Reminder => &names.reminder,
        Purpose::Escalation => &names.escalation,
        Purpose::Inform => &names.inform,
        Purpose::SummaryMail => &names.summary_mail,
        other => {
            return Err(Error::runtime(format!(
                "`{}` is not a mail template",
                other.key()
            )));
        }
    };
    let to = crate::notify::message::mailbox_text(&notice.recipient.name, &notice.recipient.email);
    let context = crate::mails::context(&values)?;
    let due = notice.due.map(crate::store::date);
    outbox::insert(
        conn,
        &NewMessage {
            purpose: purpose.key(),
            case_id: Some(notice.case.id),
            task_id: notice.task_id,
            recipient_id: Some(&notice.recipient.id),
            to_addr: &to,
            template: name,
            context: &context,
            due_date: due.as_deref(),
            held: ctx.config.mail.digest && matches!(purpose, Purpose::Task | Purpose::Reminder),
        },
        now,
    )
}
