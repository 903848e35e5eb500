//! A validated standard crontab expression and the instants it runs at.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use cron::Schedule;

use super::crontab_error::CrontabError;
use super::describe;
use super::fields::Fields;
use super::occurrences::{Occurrences, WallClockTimes};
use super::parser;
use super::wall_clock;

/// A validated standard crontab expression: five fields (minute hour day-of-month month
/// day-of-week) or a macro such as `@monthly`. It keeps the text it was written as.
#[derive(Debug, Clone)]
pub struct Crontab {
    source: String,
    fields: Fields,
    /// The same schedule for the cron crate, as one schedule or two whose union it is.
    schedules: Vec<Schedule>,
}

impl Crontab {
    /// Parses and checks a standard crontab expression.
    pub fn parse(expression: &str) -> Result<Crontab, CrontabError> {
        let fields = parser::parse(expression)?;
        let schedules = fields
            .cron_expressions()
            .iter()
            .map(|line| {
                Schedule::from_str(line).map_err(|error| {
                    // Not reachable from user text: `line` is built from checked values.
                    CrontabError::new(
                        0,
                        expression.len(),
                        format!("internal error: the cron crate refused `{line}`: {error}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Crontab {
            source: expression.to_owned(),
            fields,
            schedules,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The instants the schedule runs at in `tz`, strictly after `after` and at or before
    /// `until`, in order, each once. Cron's rules across daylight saving apply: a time in the
    /// spring gap runs once at the end of the gap, a time in the autumn fold runs once, at the
    /// first of its two instants.
    pub fn occurrences(&self, tz: Tz, after: DateTime<Utc>, until: DateTime<Utc>) -> Occurrences {
        Occurrences::new(&self.schedules, tz, after, until)
    }

    /// The first instant the schedule runs at in `tz` strictly after `after`; `None` if it never
    /// does (the cron crate's calendar ends with 2100).
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.occurrences(tz, after, DateTime::<Utc>::MAX_UTC).next()
    }

    /// The instants the schedule runs at in the calendar year `year` of `tz` (from 1 January
    /// 00:00 to 31 December 23:59 on the wall clock), in order, each once.
    pub fn occurrences_in_year(&self, tz: Tz, year: i32) -> Vec<DateTime<Utc>> {
        let Some(before_year) = NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .and_then(|midnight| midnight.checked_sub_signed(TimeDelta::seconds(1)))
        else {
            return Vec::new();
        };
        let mut instants: Vec<DateTime<Utc>> = Vec::new();
        for local in WallClockTimes::after(&self.schedules, before_year)
            .take_while(|local| local.year() == year)
        {
            if let Some(instant) = wall_clock::instant(tz, local)
                && instants.last().is_none_or(|last| instant > *last)
            {
                instants.push(instant);
            }
        }
        instants
    }

    /// The schedule in plain Swedish for people, e.g. "kl. 07:00 den 1:e varje månad" or
    /// "kl. 08:00 måndag–fredag"; shapes it cannot put in words are quoted.
    pub fn describe_sv(&self) -> String {
        describe::describe_sv(&self.fields)
            .unwrap_or_else(|| format!("enligt schemat ”{}”", self.source.trim()))
    }
}

impl PartialEq for Crontab {
    fn eq(&self, other: &Crontab) -> bool {
        self.source == other.source
    }
}

impl Eq for Crontab {}

impl fmt::Display for Crontab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Crontab {
    type Err = CrontabError;

    fn from_str(expression: &str) -> Result<Crontab, CrontabError> {
        Crontab::parse(expression)
    }
}
