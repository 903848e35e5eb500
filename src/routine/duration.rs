//! Lengths of time as quality staff write them: `10 working days`, `14 days`, `24 hours`,
//! `3 months`, `5 years`, in English or Swedish (`10 arbetsdagar`, `14 dagar`, `5 år`), and the
//! reminder offsets `2 working days before`, `at deadline`, `1 day after`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Hours,
    Days,
    WorkingDays,
    Weeks,
    Months,
    Years,
}

impl Unit {
    fn parse(word: &str) -> Option<Unit> {
        Some(match word {
            "h" | "hour" | "hours" | "timme" | "timmar" => Unit::Hours,
            "d" | "day" | "days" | "calendar day" | "calendar days" | "dag" | "dagar"
            | "kalenderdag" | "kalenderdagar" => Unit::Days,
            "working day" | "working days" | "workday" | "workdays" | "arbetsdag"
            | "arbetsdagar" => Unit::WorkingDays,
            "week" | "weeks" | "vecka" | "veckor" => Unit::Weeks,
            "month" | "months" | "månad" | "månader" => Unit::Months,
            "year" | "years" | "år" => Unit::Years,
            _ => return None,
        })
    }

    fn name(self, amount: u32) -> &'static str {
        let one = amount == 1;
        match self {
            Unit::Hours if one => "hour",
            Unit::Hours => "hours",
            Unit::Days if one => "day",
            Unit::Days => "days",
            Unit::WorkingDays if one => "working day",
            Unit::WorkingDays => "working days",
            Unit::Weeks if one => "week",
            Unit::Weeks => "weeks",
            Unit::Months if one => "month",
            Unit::Months => "months",
            Unit::Years => {
                if one {
                    "year"
                } else {
                    "years"
                }
            }
        }
    }
}

/// An amount of a unit: `10 working days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub amount: u32,
    pub unit: Unit,
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.name(self.amount))
    }
}

impl Period {
    /// Reads `<amount> <unit>`; `24h` and `30d` are allowed too.
    pub fn parse(text: &str) -> Result<Period, String> {
        let text = text.trim();
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a length of time (expected a number and a unit, such as `10 working days`)"
            ));
        }
        let (number, rest) = text.split_at(digits);
        let amount: u32 = number
            .parse()
            .map_err(|_| format!("`{number}` is too large"))?;
        let word = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        let unit = Unit::parse(&word.to_lowercase()).ok_or_else(|| {
            if word.is_empty() {
                format!("`{text}` has no unit (write e.g. `{amount} days` or `{amount} working days`)")
            } else {
                format!("unknown unit `{word}` (expected hours, days, working days, weeks, months or years)")
            }
        })?;
        Ok(Period { amount, unit })
    }
}

/// When a step is due, counted from the day it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayCount {
    Calendar(u32),
    Working(u32),
}

impl DayCount {
    pub fn parse(text: &str) -> Result<DayCount, String> {
        let period = Period::parse(text)?;
        match period.unit {
            Unit::Days => Ok(DayCount::Calendar(period.amount)),
            Unit::WorkingDays => Ok(DayCount::Working(period.amount)),
            Unit::Weeks => Ok(DayCount::Calendar(period.amount.saturating_mul(7))),
            other => Err(format!(
                "a deadline is counted in days, working days or weeks, not {}",
                other.name(2)
            )),
        }
    }
}

impl fmt::Display for DayCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DayCount::Calendar(n) => write!(f, "{n} {}", Unit::Days.name(n)),
            DayCount::Working(n) => write!(f, "{n} {}", Unit::WorkingDays.name(n)),
        }
    }
}

/// When a reminder goes out, relative to the step's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offset {
    Before(DayCount),
    At,
    After(DayCount),
}

impl Offset {
    pub fn parse(text: &str) -> Result<Offset, String> {
        let lower = text.trim().to_lowercase();
        if matches!(
            lower.as_str(),
            "at deadline" | "at the deadline" | "on deadline" | "vid deadline" | "på sista dagen"
        ) {
            return Ok(Offset::At);
        }
        let split = |suffixes: &[&str]| {
            suffixes
                .iter()
                .find_map(|s| lower.strip_suffix(s).map(str::trim_end))
                .map(str::to_string)
        };
        if let Some(amount) = split(&[" before", " före"]) {
            return DayCount::parse(&amount).map(Offset::Before);
        }
        if let Some(amount) = split(&[" after", " efter"]) {
            return DayCount::parse(&amount).map(Offset::After);
        }
        Err(format!(
            "`{}` is not a reminder time (expected e.g. `2 working days before`, `at deadline` or `1 day after`)",
            text.trim()
        ))
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Offset::Before(n) => write!(f, "{n} before"),
            Offset::At => f.write_str("at deadline"),
            Offset::After(n) => write!(f, "{n} after"),
        }
    }
}

/// Swedish wording, for what users read.
pub trait Swedish {
    fn sv(&self) -> String;
}

fn sv_unit(unit: Unit, n: u32) -> &'static str {
    let one = n == 1;
    match unit {
        Unit::Hours => {
            if one {
                "timme"
            } else {
                "timmar"
            }
        }
        Unit::Days => {
            if one {
                "dag"
            } else {
                "dagar"
            }
        }
        Unit::WorkingDays => {
            if one {
                "arbetsdag"
            } else {
                "arbetsdagar"
            }
        }
        Unit::Weeks => {
            if one {
                "vecka"
            } else {
                "veckor"
            }
        }
        Unit::Months => {
            if one {
                "månad"
            } else {
                "månader"
            }
        }
        Unit::Years => "år",
    }
}

impl Swedish for Period {
    fn sv(&self) -> String {
        format!("{} {}", self.amount, sv_unit(self.unit, self.amount))
    }
}

impl Swedish for DayCount {
    fn sv(&self) -> String {
        match *self {
            DayCount::Calendar(n) => format!("{n} {}", sv_unit(Unit::Days, n)),
            DayCount::Working(n) => format!("{n} {}", sv_unit(Unit::WorkingDays, n)),
        }
    }
}

impl Swedish for Offset {
    fn sv(&self) -> String {
        match self {
            Offset::Before(n) => format!("{} före", n.sv()),
            Offset::At => "på sista dagen".into(),
            Offset::After(n) => format!("{} efter", n.sv()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_english_and_swedish() {
        assert_eq!(
            DayCount::parse("10 working days"),
            Ok(DayCount::Working(10))
        );
        assert_eq!(DayCount::parse("10 arbetsdagar"), Ok(DayCount::Working(10)));
        assert_eq!(DayCount::parse("14 dagar"), Ok(DayCount::Calendar(14)));
        assert_eq!(DayCount::parse("2 weeks"), Ok(DayCount::Calendar(14)));
        assert_eq!(
            Period::parse("24h"),
            Ok(Period {
                amount: 24,
                unit: Unit::Hours
            })
        );
        assert_eq!(
            Period::parse("5 år"),
            Ok(Period {
                amount: 5,
                unit: Unit::Years
            })
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(DayCount::parse("ten days").is_err());
        assert!(DayCount::parse("10").is_err());
        assert!(DayCount::parse("10 fortnights").is_err());
        assert!(DayCount::parse("3 hours").is_err());
        assert!(Period::parse("99999999999 days").is_err());
    }

    #[test]
    fn reads_reminder_offsets() {
        assert_eq!(
            Offset::parse("2 working days before"),
            Ok(Offset::Before(DayCount::Working(2)))
        );
        assert_eq!(Offset::parse("at deadline"), Ok(Offset::At));
        assert_eq!(
            Offset::parse("1 dag efter"),
            Ok(Offset::After(DayCount::Calendar(1)))
        );
        assert!(Offset::parse("soon").is_err());
    }
}
