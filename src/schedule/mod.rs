//! Schedules: when a routine's rounds run. This module owns the standard crontab language that
//! routine authors write (`0 7 1 * *`, `0 8 * * MON-FRI`, `@monthly`), its validation with
//! errors that point at the offending part, the instants a schedule runs at in the routine's
//! IANA time zone, and the Swedish sentence that tells people when that is.
//!
//! The matching of wall-clock times is the `cron` crate's, but it is wrapped because on its own
//! it is not standard crontab: it wants a seconds field, counts weekdays from Sunday = 1 (so
//! `1` means Sunday and `0` is refused), requires both day-of-month and day-of-week to match
//! where crontab wants either, and, iterated in a zone with daylight saving, skips the runs that
//! fall in the spring gap and runs twice those in the autumn fold. Here, expressions are parsed
//! by our own parser into value sets, handed to the crate in its syntax (two schedules whose
//! union is the crontab one when both day fields are restricted), iterated in UTC taken as a
//! zone without daylight saving so that the crate sees every wall-clock time exactly once, and
//! each wall-clock time is then placed in the real zone by `wall_clock`: a time in the spring
//! gap runs once at the end of the gap, a time in the autumn fold once at its first instant.
//!
//! **Invariant:** the crate's calendar ends with 2100; there are no occurrences after it.

mod crontab;
mod crontab_error;
mod describe;
mod field;
mod fields;
mod occurrences;
mod parser;
mod wall_clock;

pub use crontab::Crontab;
pub use crontab_error::CrontabError;
pub use occurrences::Occurrences;

#[cfg(test)]
mod tests;
