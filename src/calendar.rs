//! The Swedish calendar that deadlines are counted in: public holidays (allmänna helgdagar,
//! lag (1989:253)), the three eves treated like them (midsommarafton, julafton, nyårsafton) and
//! working-day (arbetsdag) arithmetic on top of them. Pure: no I/O, no clock, no allocation
//! except in [`holidays`]; every function is defined for every date chrono can represent.
//!
//! Today's rules (in force since 2005-04-01, when nationaldagen replaced annandag pingst) are
//! applied to every year, past and future alike: deadlines are computed for now and later, and
//! one rule set keeps the arithmetic simple.
//!
//! A working day is a Monday–Friday that is not a holiday in the list above. That is the day the
//! söndagsregeln (lag (1930:173) om beräkning av lagstadgad tid, 2 §) moves a deadline to.

use crate::clock::resolve_local;
use HolidayKind::{DeFacto, Public};
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use std::iter;

/// A holiday on a given date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holiday {
    pub date: NaiveDate,
    /// The Swedish name, as users read it (`"långfredagen"`).
    pub name: &'static str,
    pub kind: HolidayKind,
}

/// Whether a holiday is one by law or only treated as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolidayKind {
    /// An allmän helgdag under lag (1989:253) om allmänna helgdagar.
    Public,
    /// Not an allmän helgdag, but treated as one for deadlines (lag (1930:173), 2 §) and free in
    /// practice: midsommarafton, julafton, nyårsafton.
    DeFacto,
}

/// How a holiday's date is found in a given year.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// The same day every year.
    Fixed { month: u32, day: u32 },
    /// This many days after Easter Sunday (negative: before).
    Easter(i64),
    /// The `weekday` among the seven days starting at `month`/`day`.
    WeekdayFrom {
        weekday: Weekday,
        month: u32,
        day: u32,
    },
}

/// Every holiday, in the order of lag (1989:253), 2 §, with the eves after their holidays.
/// [`holidays`] sorts by date; two holidays can share one (första maj and Kristi
/// himmelsfärdsdag in 2008), and then this order decides.
const RULES: [(Rule, &str, HolidayKind); 16] = [
    (Rule::Fixed { month: 1, day: 1 }, "nyårsdagen", Public),
    (Rule::Fixed { month: 1, day: 6 }, "trettondedag jul", Public),
    (Rule::Easter(-2), "långfredagen", Public),
    (Rule::Easter(0), "påskdagen", Public),
    (Rule::Easter(1), "annandag påsk", Public),
    (Rule::Fixed { month: 5, day: 1 }, "första maj", Public),
    // The sixth Thursday after Easter Sunday.
    (Rule::Easter(39), "Kristi himmelsfärdsdag", Public),
    // The seventh Sunday after Easter Sunday.
    (Rule::Easter(49), "pingstdagen", Public),
    (
        Rule::Fixed { month: 6, day: 6 },
        "Sveriges nationaldag",
        Public,
    ),
    // The Friday before midsommardagen: midsommardagen is the Saturday in 20–26 June.
    (
        Rule::WeekdayFrom {
            weekday: Weekday::Fri,
            month: 6,
            day: 19,
        },
        "midsommarafton",
        DeFacto,
    ),
    (
        Rule::WeekdayFrom {
            weekday: Weekday::Sat,
            month: 6,
            day: 20,
        },
        "midsommardagen",
        Public,
    ),
    (
        Rule::WeekdayFrom {
            weekday: Weekday::Sat,
            month: 10,
            day: 31,
        },
        "alla helgons dag",
        Public,
    ),
    (Rule::Fixed { month: 12, day: 24 }, "julafton", DeFacto),
    (Rule::Fixed { month: 12, day: 25 }, "juldagen", Public),
    (Rule::Fixed { month: 12, day: 26 }, "annandag jul", Public),
    (Rule::Fixed { month: 12, day: 31 }, "nyårsafton", DeFacto),
];

impl Rule {
    /// The rule's date in `year`, whose Easter Sunday is `easter`; `None` only for a year chrono
    /// cannot represent.
    fn date(self, year: i32, easter: NaiveDate) -> Option<NaiveDate> {
        match self {
            Rule::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            Rule::Easter(offset) => easter.checked_add_signed(TimeDelta::try_days(offset)?),
            Rule::WeekdayFrom {
                weekday,
                month,
                day,
            } => {
                let start = NaiveDate::from_ymd_opt(year, month, day)?;
                let ahead = (7 + weekday.num_days_from_monday()
                    - start.weekday().num_days_from_monday())
                    % 7;
                start.checked_add_days(Days::new(u64::from(ahead)))
            }
        }
    }

    /// Whether `date` is this rule's date in its year, whose Easter Sunday is `easter`. Same
    /// answer as comparing with [`Rule::date`], but cheaper: it is on the `is_working_day` path.
    fn matches(self, date: NaiveDate, easter: NaiveDate) -> bool {
        match self {
            Rule::Fixed { month, day } => date.month() == month && date.day() == day,
            Rule::Easter(offset) => date.signed_duration_since(easter).num_days() == offset,
            Rule::WeekdayFrom { weekday, .. } => {
                date.weekday() == weekday && self.date(date.year(), easter) == Some(date)
            }
        }
    }
}

/// Every Swedish public holiday (allmän helgdag, lag (1989:253)) of `year`, plus the days treated
/// as holidays in working-day counting (midsommarafton, julafton, nyårsafton), with Swedish
/// names, sorted by date.
///
/// Ordinary Sundays, allmänna helgdagar by law too, are not listed: they are weekend days.
/// Empty for a year chrono cannot represent.
pub fn holidays(year: i32) -> Vec<Holiday> {
    let Some(easter) = easter_sunday_opt(year) else {
        return Vec::new();
    };
    let mut all: Vec<Holiday> = RULES
        .iter()
        .filter_map(|&(rule, name, kind)| {
            rule.date(year, easter)
                .map(|date| Holiday { date, name, kind })
        })
        .collect();
    // Stable: holidays sharing a date keep the order of `RULES`.
    all.sort_by_key(|holiday| holiday.date);
    all
}

/// Easter Sunday (påskdagen) of `year` in the Gregorian calendar, by the anonymous Gregorian
/// algorithm (Meeus/Jones/Butcher), extended proleptically to every year.
///
/// Always a Sunday between 22 March and 25 April. For a year chrono cannot represent (before
/// `NaiveDate::MIN` or after `NaiveDate::MAX`) no date of that year exists; the result is then
/// `NaiveDate::MIN` or `NaiveDate::MAX`, whichever is nearer.
pub fn easter_sunday(year: i32) -> NaiveDate {
    easter_sunday_opt(year).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// Easter Sunday of `year`; `None` for a year chrono cannot represent.
fn easter_sunday_opt(year: i32) -> Option<NaiveDate> {
    let (month, day) = easter_month_day(year);
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The month and day of Easter Sunday. Euclidean division keeps every intermediate in its range
/// for negative years too, so the result is always 22 March–25 April.
fn easter_month_day(year: i32) -> (u32, u32) {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    // 114 <= n <= 148: month 3 or 4, day 1..=31; the casts cannot truncate.
    ((n / 31) as u32, (n % 31 + 1) as u32)
}

/// Whether `date` is a public holiday or one of the three eves treated as holidays. Ordinary
/// Sundays are not (see [`holidays`]).
pub fn is_holiday(date: NaiveDate) -> bool {
    // Direct tests against each rule: no list is built, as this is called for every day of
    // simulated years.
    let easter = easter_sunday(date.year());
    RULES.iter().any(|&(rule, _, _)| rule.matches(date, easter))
}

/// Whether `date` is a working day (arbetsdag): Monday–Friday and not a holiday.
pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(date)
}

/// The `n`-th working day after `from` (`from` itself not counted); `from` when `n` is 0.
///
/// Saturates: if that day lies after `NaiveDate::MAX`, returns `NaiveDate::MAX`.
pub fn add_working_days(from: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        return from;
    }
    // The n-th working day is at least n days away; without this, a huge n would walk every
    // day up to the end of chrono's range before saturating.
    if from.checked_add_days(Days::new(u64::from(n))).is_none() {
        return NaiveDate::MAX;
    }
    days_after(from)
        .filter(|&date| is_working_day(date))
        .nth(n as usize - 1)
        .unwrap_or(NaiveDate::MAX)
}

/// The `n`-th working day before `from` (`from` itself not counted); `from` when `n` is 0.
///
/// Saturates: if that day lies before `NaiveDate::MIN`, returns `NaiveDate::MIN`.
pub fn sub_working_days(from: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        return from;
    }
    if from.checked_sub_days(Days::new(u64::from(n))).is_none() {
        return NaiveDate::MIN;
    }
    days_before(from)
        .filter(|&date| is_working_day(date))
        .nth(n as usize - 1)
        .unwrap_or(NaiveDate::MIN)
}

/// The number of working days in `(from, to]`: `from` not counted, `to` counted. When `to` is
/// before `from`, minus the number in `(to, from]`, so that
/// `working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)`.
///
/// For a working day `from`, `working_days_between(from, add_working_days(from, n)) == n`.
/// Linear in the distance between the dates.
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return -working_days_between(to, from);
    }
    let count = days_after(from)
        .take_while(|&date| date <= to)
        .filter(|&date| is_working_day(date))
        .count();
    // chrono spans fewer than 2^28 days, so the count always fits.
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// The days after `date`, up to and including `NaiveDate::MAX` (chrono's own `iter_days` stops
/// one short of it).
fn days_after(date: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    iter::successors(date.succ_opt(), |day| day.succ_opt())
}

/// The days before `date`, back to and including `NaiveDate::MIN`.
fn days_before(date: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    iter::successors(date.pred_opt(), |day| day.pred_opt())
}

/// The local hour at which a task's calendar alarm fires on the deadline day.
pub const ALARM_HOUR: u32 = 8;

/// When emails may go out: between two local times on Swedish working days (weekdays that are
/// not public holidays, midsommarafton, julafton or nyårsafton). An email that falls due
/// outside waits for the next opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

impl SendHours {
    /// 07:00–17:00.
    pub(crate) fn office() -> SendHours {
        SendHours {
            from: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or(NaiveTime::MIN),
            to: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }

    /// `07:00-17:00` (or `7-17`); `always` for no restriction (`None`).
    pub fn parse(text: &str) -> Result<Option<SendHours>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("always") || text.eq_ignore_ascii_case("alltid") {
            return Ok(None);
        }
        let time = |t: &str| {
            let t = t.trim();
            NaiveTime::parse_from_str(t, "%H:%M")
                .ok()
                .or_else(|| {
                    t.parse::<u32>()
                        .ok()
                        .and_then(|h| NaiveTime::from_hms_opt(h, 0, 0))
                })
                .ok_or_else(|| format!("`{t}` is not a time such as 07:00"))
        };
        let (a, b) = text
            .split_once('-')
            .or_else(|| text.split_once('–'))
            .ok_or_else(|| format!("`{text}` is not two times such as 07:00-17:00, or `always`"))?;
        let (from, to) = (time(a)?, time(b)?);
        if from >= to {
            return Err(format!(
                "`{text}`: the first time must be before the second"
            ));
        }
        Ok(Some(SendHours { from, to }))
    }

    /// Whether an email may go out at `now`.
    pub(crate) fn allows(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        let local = now.with_timezone(&tz);
        let time = local.time();
        is_working_day(local.date_naive()) && self.from <= time && time < self.to
    }

    /// The first instant at or after `now` when an email may go out.
    pub(crate) fn next_open(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        if self.allows(now, tz) {
            return now;
        }
        let local = now.with_timezone(&tz);
        let mut day = local.date_naive();
        if !(is_working_day(day) && local.time() < self.from) {
            day = day.succ_opt().unwrap_or(day);
        }
        while !is_working_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        resolve_local(day.and_time(self.from), tz)
    }
}
