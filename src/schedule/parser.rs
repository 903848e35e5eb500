//! Standard crontab text → [`Fields`]: five whitespace-separated fields or a macro, checked
//! value by value, every error pointing at the exact part of the text it is about.

use super::crontab_error::CrontabError;
use super::field::Field;
use super::fields::{Fields, full};

const FIELD_ORDER: &str = "minute hour day-of-month month day-of-week";

/// The macros and the line each stands for.
const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// A whitespace-separated part of the expression and its byte offset.
#[derive(Debug, Clone, Copy)]
struct Word<'a> {
    offset: usize,
    text: &'a str,
}

impl Word<'_> {
    fn end(&self) -> usize {
        self.offset + self.text.len()
    }
}

/// Parses a standard crontab expression.
pub(super) fn parse(source: &str) -> Result<Fields, CrontabError> {
    let words = split_words(source);
    if let Some(first) = words.first()
        && first.text.starts_with('@')
    {
        return parse_macro(source, &words);
    }
    let [minute, hour, day_of_month, month, day_of_week] = words.as_slice() else {
        return Err(field_count_error(source, &words));
    };
    let fields = Fields {
        minutes: parse_field(Field::Minute, minute)?,
        hours: parse_field(Field::Hour, hour)?,
        days_of_month: parse_field(Field::DayOfMonth, day_of_month)?,
        months: parse_field(Field::Month, month)?,
        days_of_week: fold_sunday(parse_field(Field::DayOfWeek, day_of_week)?),
        day_of_month_star: day_of_month.text.starts_with('*'),
        day_of_week_star: day_of_week.text.starts_with('*'),
    };
    check_days_exist(&fields, day_of_month, month)?;
    Ok(fields)
}

fn split_words(source: &str) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut start = None;
    for (index, c) in source.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(offset)) => {
                words.push(Word {
                    offset,
                    text: &source[offset..index],
                });
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(offset) = start {
        words.push(Word {
            offset,
            text: &source[offset..],
        });
    }
    words
}

fn field_count_error(source: &str, words: &[Word<'_>]) -> CrontabError {
    let message = format!("expected 5 fields ({FIELD_ORDER}), found {}", words.len());
    match (words.first(), words.last(), words.get(5)) {
        (_, Some(last), Some(sixth)) => {
            let error = CrontabError::new(sixth.offset, last.end() - sixth.offset, message);
            if words.len() <= 7 {
                error.with_help(
                    "standard crontab has no seconds or year field: the first field is the minute",
                )
            } else {
                error
            }
        }
        (Some(first), Some(last), None) => {
            CrontabError::new(first.offset, last.end() - first.offset, message)
                .with_help("write all five, e.g. `0 7 1 * *` for 07:00 on the 1st of every month")
        }
        _ => CrontabError::new(0, source.len(), message)
            .with_help("write all five, e.g. `0 7 1 * *` for 07:00 on the 1st of every month"),
    }
}

fn parse_macro(source: &str, words: &[Word<'_>]) -> Result<Fields, CrontabError> {
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return Err(field_count_error(source, words));
    };
    if let Some(second) = words.get(1) {
        let extra = &source[second.offset..last.end()];
        return Err(CrontabError::new(
            second.offset,
            extra.len(),
            format!("unexpected `{extra}` after macro `{}`", first.text),
        )
        .with_help("a macro stands alone; write either the macro or the five fields"));
    }
    let name = first.text.to_lowercase();
    if let Some((_, line)) = MACROS.iter().find(|(known, _)| *known == name) {
        // The expansions are valid; should one not be, the error points at the macro.
        return parse(line).map_err(|error| CrontabError {
            offset: first.offset,
            len: first.text.len(),
            ..error
        });
    }
    if name == "@reboot" {
        return Err(CrontabError::new(
            first.offset,
            first.text.len(),
            "macro `@reboot` is not supported: a routine runs on the calendar, not at start-up",
        ));
    }
    let error = CrontabError::new(
        first.offset,
        first.text.len(),
        format!("unknown macro `{}`", first.text),
    );
    let suggestion = crate::suggest::within(&name, MACROS.iter().map(|(known, _)| *known), 2);
    Err(match suggestion {
        Some(known) => error.with_help(format!("did you mean `{known}`?")),
        None => error.with_help(
            "the macros are `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly`",
        ),
    })
}

/// Parses one field into its bit set (day of week still with 7 for Sunday).
fn parse_field(field: Field, word: &Word<'_>) -> Result<u64, CrontabError> {
    if let Some((index, c)) = word
        .text
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '*' | '-' | '/' | ',')))
    {
        let error = CrontabError::new(
            word.offset + index,
            c.len_utf8(),
            format!("unexpected character `{c}` in {}", field.name()),
        );
        return Err(match c {
            '?' => error.with_help("standard crontab has no `?`: write `*`"),
            _ => error,
        });
    }
    let items: Vec<&str> = word.text.split(',').collect();
    let mut bits = 0;
    let mut offset = word.offset;
    for (index, item) in items.iter().enumerate() {
        if item.is_empty() {
            // Point at the comma: the one after the empty item, or before a trailing one.
            let comma = if index + 1 < items.len() {
                offset
            } else {
                offset.saturating_sub(1)
            };
            return Err(CrontabError::new(
                comma,
                1,
                format!("empty item in {} list", field.name()),
            ));
        }
        bits |= parse_item(field, item, offset)?;
        offset += item.len() + 1;
    }
    Ok(bits)
}

/// Parses one list item: `*`, `N`, `A-B`, each optionally followed by `/STEP` (not `N`).
fn parse_item(field: Field, item: &str, offset: usize) -> Result<u64, CrontabError> {
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (
            base,
            Some(parse_step(field, step, offset + base.len() + 1)?),
        ),
        None => (item, None),
    };
    if base.is_empty() {
        return Err(CrontabError::new(
            offset,
            1,
            format!("missing range before `/` in {}", field.name()),
        )
        .with_help(format!("write `*{item}` to step through the whole range")));
    }
    let (low, high) = if base == "*" {
        (field.min(), field.max())
    } else if let Some(index) = base.find('*') {
        return Err(CrontabError::new(
            offset + index,
            1,
            format!("unexpected `*` in {}", field.name()),
        )
        .with_help("`*` stands alone, or before a step as in `*/15`"));
    } else if let Some((first, last)) = base.split_once('-') {
        parse_range(field, base, first, last, offset, step.is_some())?
    } else {
        let value = parse_value(field, base, offset)?;
        if step.is_some() {
            return Err(CrontabError::new(
                offset,
                item.len(),
                format!("a step needs a range before it, found `{item}`"),
            )
            .with_help(format!(
                "write `{base}-{}{}` to start at {base}, or `*{}`",
                field.max(),
                &item[base.len()..],
                &item[base.len()..],
            )));
        }
        (value, value)
    };
    let step = step.unwrap_or(1);
    let mut bits = 0;
    let mut value = low;
    while value <= high {
        bits |= 1 << value;
        value += step;
    }
    Ok(bits)
}

/// Parses `first-last` (the text `range`, at `offset`) into its bounds.
fn parse_range(
    field: Field,
    range: &str,
    first: &str,
    last: &str,
    offset: usize,
    stepped: bool,
) -> Result<(u32, u32), CrontabError> {
    if let Some(index) = last.find('-') {
        return Err(CrontabError::new(
            offset + first.len() + 1 + index,
            1,
            format!("unexpected second `-` in {}", field.name()),
        ));
    }
    if first.is_empty() || last.is_empty() {
        return Err(CrontabError::new(
            offset,
            range.len(),
            format!("incomplete range `{range}` in {}", field.name()),
        ));
    }
    let low = parse_value(field, first, offset)?;
    let mut high = parse_value(field, last, offset + first.len() + 1)?;
    // `FRI-SUN` means Friday to Sunday: as an upper bound, Sunday is 7.
    if field == Field::DayOfWeek && high == 0 && last.eq_ignore_ascii_case("SUN") {
        high = 7;
    }
    if low > high {
        let error = CrontabError::new(
            offset,
            range.len(),
            format!("range `{range}` runs backwards"),
        );
        return Err(if stepped {
            error
        } else {
            error.with_help(wrap_around_help(field, first, last, high))
        });
    }
    Ok((low, high))
}

/// How to write a range that wraps around the end of the field, e.g. `22-23,0-2` for `22-2`.
fn wrap_around_help(field: Field, first: &str, last: &str, high: u32) -> String {
    let named = first.chars().all(char::is_alphabetic);
    if field == Field::DayOfWeek {
        if high == 0 {
            return format!("Sunday is also 7: write `{first}-7`");
        }
        let (end, start) = if named { ("SUN", "MON") } else { ("7", "1") };
        return wrap_around(first, end, start, last);
    }
    if named && field == Field::Month {
        wrap_around(first, "DEC", "JAN", last)
    } else {
        wrap_around(
            first,
            &field.max().to_string(),
            &field.min().to_string(),
            last,
        )
    }
}

fn wrap_around(first: &str, end: &str, start: &str, last: &str) -> String {
    let tail = if start.eq_ignore_ascii_case(last) {
        last.to_owned()
    } else {
        format!("{start}-{last}")
    };
    format!("to wrap around, write `{first}-{end},{tail}`")
}

/// Parses the step after `/` (the text `step`, at `offset`).
fn parse_step(field: Field, step: &str, offset: usize) -> Result<u32, CrontabError> {
    let largest = field.max() - field.min();
    if step.is_empty() {
        return Err(CrontabError::new(
            offset.saturating_sub(1),
            1,
            format!("missing step after `/` in {}", field.name()),
        ));
    }
    if !step.chars().all(|c| c.is_ascii_digit()) {
        return Err(CrontabError::new(
            offset,
            step.len(),
            format!(
                "step `{step}` in {} must be a number 1–{largest}",
                field.name()
            ),
        ));
    }
    match step.parse::<u32>() {
        Ok(0) => Err(CrontabError::new(
            offset,
            step.len(),
            format!("step `{step}` must be at least 1"),
        )),
        Ok(value) if value <= largest => Ok(value),
        _ => Err(CrontabError::new(
            offset,
            step.len(),
            format!(
                "step `{step}` must be at most {largest} for {}",
                field.name()
            ),
        )),
    }
}

/// Parses one value: a number in the field's range or, for month and day of week, a name.
fn parse_value(field: Field, text: &str, offset: usize) -> Result<u32, CrontabError> {
    if text.chars().all(|c| c.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(value) if (field.min()..=field.max()).contains(&value) => Ok(value),
            _ => Err(CrontabError::new(
                offset,
                text.len(),
                format!(
                    "{} `{text}` is out of range {}",
                    field.name(),
                    field.range_text()
                ),
            )),
        };
    }
    let names = field.value_names();
    let (Some(first_name), Some(last_name)) = (names.first(), names.last()) else {
        return Err(CrontabError::new(
            offset,
            text.len(),
            format!(
                "expected a number {} for {}, found `{text}`",
                field.range_text(),
                field.name()
            ),
        ));
    };
    if !text.chars().all(char::is_alphabetic) {
        return Err(CrontabError::new(
            offset,
            text.len(),
            format!(
                "expected a number {} or a name `{first_name}`–`{last_name}` for {}, found `{text}`",
                field.range_text(),
                field.name()
            ),
        ));
    }
    if let Some(value) = field.value_of_name(text) {
        return Ok(value);
    }
    let error = CrontabError::new(
        offset,
        text.len(),
        format!("unknown {} name `{text}`", field.name()),
    );
    Err(match field.suggest_name(text) {
        Some(name) => error.with_help(format!("did you mean `{name}`?")),
        None => error.with_help(format!("the names are `{}`", names.join("`, `"))),
    })
}

/// Day of week with 7 (Sunday) folded into 0.
fn fold_sunday(bits: u64) -> u64 {
    (bits | bits >> 7) & full(0, 6)
}

/// Refuses a day of month that no chosen month has (`30 2`), when the day of week cannot make
/// up for it: such a schedule never runs.
fn check_days_exist(
    fields: &Fields,
    day_of_month: &Word<'_>,
    month: &Word<'_>,
) -> Result<(), CrontabError> {
    if fields.days_match_either() {
        return Ok(());
    }
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let possible = (1..=12u32)
        .zip(LONGEST)
        .filter(|(m, _)| fields.months >> m & 1 == 1)
        .any(|(_, days)| fields.days_of_month & full(1, days) != 0);
    if possible {
        return Ok(());
    }
    Err(CrontabError::new(
        day_of_month.offset,
        day_of_month.text.len(),
        format!(
            "day-of-month `{}` never occurs in month `{}`",
            day_of_month.text, month.text
        ),
    ))
}
