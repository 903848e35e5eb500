//! The schedule in plain Swedish, for the people who read routines and reports.

use super::fields::{Fields, full, values};

use crate::sv::{MONTHS, WEEKDAYS};

/// Lists longer than this are not worth reading; such schedules are quoted instead.
const LONGEST_LIST: usize = 4;

/// The common shapes in words ("kl. 07:00 den 1:e varje månad"); `None` for the others.
pub(super) fn describe_sv(fields: &Fields) -> Option<String> {
    let time = time_of_day(fields.minutes, fields.hours)?;
    let days = days(fields)?;
    if days == "varje dag" && !time.starts_with("kl.") {
        return Some(time);
    }
    Some(format!("{time} {days}"))
}

fn time_of_day(minutes: u64, hours: u64) -> Option<String> {
    let minute_list: Vec<u32> = values(minutes).collect();
    let hour_list: Vec<u32> = values(hours).collect();
    if hours == full(0, 23) {
        if minutes == full(0, 59) {
            return Some("varje minut".to_owned());
        }
        return match minute_list.as_slice() {
            [0] => Some("varje hel timme".to_owned()),
            [1] => Some("varje timme, 1 minut över".to_owned()),
            [minute] => Some(format!("varje timme, {minute} minuter över")),
            _ => {
                let step = even_step(&minute_list, 60)?;
                Some(if step == 2 {
                    "varannan minut".to_owned()
                } else {
                    format!("var {} minut", counting_ordinal(step))
                })
            }
        };
    }
    if minute_list.len() * hour_list.len() <= LONGEST_LIST {
        let times: Vec<String> = hour_list
            .iter()
            .flat_map(|hour| {
                minute_list
                    .iter()
                    .map(move |minute| format!("{hour:02}:{minute:02}"))
            })
            .collect();
        return Some(format!("kl. {}", join(&times)));
    }
    match (minute_list.as_slice(), hour_list.first(), hour_list.last()) {
        ([minute], Some(first), Some(last)) if hour_list.len() as u32 == last - first + 1 => Some(
            format!("varje timme kl. {first:02}:{minute:02}–{last:02}:{minute:02}"),
        ),
        _ => None,
    }
}

/// The step of `list` if it is `0, step, 2·step, …` all the way round a cycle of `cycle`.
fn even_step(list: &[u32], cycle: u32) -> Option<u32> {
    let step = *list.get(1)?;
    if step == 0 || !cycle.is_multiple_of(step) {
        return None;
    }
    let expected: Vec<u32> = (0..cycle).step_by(step as usize).collect();
    (list == expected.as_slice()).then_some(step)
}

fn days(fields: &Fields) -> Option<String> {
    let every_day_of_month = fields.days_of_month == full(1, 31);
    let every_weekday = fields.days_of_week == full(0, 6);
    let every_month = fields.months == full(1, 12);
    let in_months = if every_month {
        String::new()
    } else {
        let names: Vec<String> = values(fields.months)
            .filter_map(|month| month_name(month).map(str::to_owned))
            .collect();
        format!(" i {}", join(&names))
    };
    if fields.days_match_either() {
        // "den 1:e och varje måndag i juli" would be ambiguous; such schedules are quoted.
        if !every_month {
            return None;
        }
        return Some(format!(
            "{} och {}",
            days_of_every_month(fields.days_of_month)?,
            weekdays(fields.days_of_week)
        ));
    }
    match (every_day_of_month, every_weekday) {
        (true, true) => Some(format!("varje dag{in_months}")),
        (true, false) => Some(format!("{}{in_months}", weekdays(fields.days_of_week))),
        (false, true) if every_month => days_of_every_month(fields.days_of_month),
        (false, true) => dates(fields.days_of_month, fields.months),
        (false, false) => None,
    }
}

/// "den 1:e och 15:e varje månad".
fn days_of_every_month(days_of_month: u64) -> Option<String> {
    let days: Vec<String> = values(days_of_month).map(ordinal).collect();
    (days.len() <= LONGEST_LIST).then(|| format!("den {} varje månad", join(&days)))
}

/// "den 1 januari och den 1 juli", "den 1 och 15 juni".
fn dates(days_of_month: u64, months: u64) -> Option<String> {
    let days: Vec<u32> = values(days_of_month).collect();
    let months: Vec<&str> = values(months).filter_map(month_name).collect();
    match (days.as_slice(), months.as_slice()) {
        ([day], _) if months.len() <= LONGEST_LIST => {
            let dates: Vec<String> = months
                .iter()
                .map(|month| format!("den {day} {month}"))
                .collect();
            Some(join(&dates))
        }
        (_, [month]) if days.len() <= LONGEST_LIST => {
            let days: Vec<String> = days.iter().map(u32::to_string).collect();
            Some(format!("den {} {month}", join(&days)))
        }
        _ => None,
    }
}

/// "måndag–fredag", "varje måndag", "varje lördag och söndag".
fn weekdays(days_of_week: u64) -> String {
    // Monday first, as a Swedish week.
    let chosen: Vec<u32> = [1, 2, 3, 4, 5, 6, 0]
        .into_iter()
        .filter(|day| days_of_week >> day & 1 == 1)
        .collect();
    let position = |day: u32| (day + 6) % 7;
    let names: Vec<String> = chosen
        .iter()
        .filter_map(|day| WEEKDAYS.get(*day as usize).map(|name| (*name).to_owned()))
        .collect();
    match (chosen.first(), chosen.last(), names.first(), names.last()) {
        (Some(first), Some(last), Some(first_name), Some(last_name))
            if chosen.len() >= 3
                && (position(*last) - position(*first)) as usize + 1 == chosen.len() =>
        {
            format!("{first_name}–{last_name}")
        }
        _ => format!("varje {}", join(&names)),
    }
}

fn month_name(month: u32) -> Option<&'static str> {
    MONTHS.get((month as usize).checked_sub(1)?).copied()
}

/// A day of the month as Swedish dates say it: "den 1:e", "den 2:e", "den 21:e".
fn ordinal(number: u32) -> String {
    format!("{number}:e")
}

/// A counting ordinal: "var 2:a minut", "var 3:e", "var 11:e", "var 21:a".
fn counting_ordinal(number: u32) -> String {
    let suffix = match (number % 10, number % 100) {
        (_, 11 | 12) => "e",
        (1 | 2, _) => "a",
        _ => "e",
    };
    format!("{number}:{suffix}")
}

/// "a", "a och b", "a, b och c".
fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} och {last}", init.join(", ")),
    }
}
