//! How likely a user is to be reviewed within a year, and how large each round must be: the
//! arithmetic behind the `low-review-chance` warning and `explain`.

use super::model::{SampleSize, Sampling, Strategy};
use crate::schedule::Crontab;
use chrono_tz::Tz;

/// The rounds a schedule gives in a year: the fewest over four consecutive years, so that a
/// schedule that skips some years (29 February) is judged by its lean years.
pub(crate) fn rounds_per_year(crontab: &Crontab, tz: Tz) -> u32 {
    (2025..=2028)
        .map(|year| crontab.occurrences_in_year(tz, year).len() as u32)
        .min()
        .unwrap_or(0)
}

/// The share of a unit drawn each round (before the per-unit minimum and coverage top-ups).
pub(crate) fn fraction_per_round(sampling: &Sampling, rounds: u32) -> f64 {
    match sampling.size {
        SampleSize::Fraction(f) => f,
        SampleSize::YearlyChance(c) if rounds == 0 => c,
        SampleSize::YearlyChance(c) => match sampling.strategy {
            Strategy::Uniform => 1.0 - (1.0 - c).powf(1.0 / f64::from(rounds)),
            Strategy::Coverage => (c / f64::from(rounds)).min(1.0),
        },
    }
}

/// The chance that a user present all year is reviewed at least once in it. Coverage sampling
/// draws the not-yet-reviewed first and tops rounds up so that everyone is drawn by 31 December,
/// so its chance is 1 whenever there is a round at all.
pub(crate) fn yearly_chance(sampling: &Sampling, rounds: u32) -> f64 {
    if rounds == 0 {
        return 0.0;
    }
    let f = fraction_per_round(sampling, rounds).clamp(0.0, 1.0);
    match sampling.strategy {
        Strategy::Coverage => 1.0,
        Strategy::Uniform => 1.0 - (1.0 - f).powi(rounds as i32),
    }
}

/// The uniform fraction per round that reaches `target` over `rounds` rounds.
pub(crate) fn uniform_fraction_for(target: f64, rounds: u32) -> f64 {
    if rounds == 0 {
        return 1.0;
    }
    1.0 - (1.0 - target).powf(1.0 / f64::from(rounds))
}

/// `71,8 %`: one decimal, Swedish style (a decimal comma, a space before the sign).
pub(crate) fn percent(share: f64) -> String {
    let value = (share * 1000.0).round() / 10.0;
    if (value - value.round()).abs() < f64::EPSILON {
        format!("{value:.0} %")
    } else {
        format!("{value:.1} %").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routine::duration::{Period, Unit};
    use crate::routine::model::Scope;

    fn sampling(size: SampleSize, strategy: Strategy) -> Sampling {
        Sampling {
            system: "treserva".into(),
            per: Scope::Unit,
            size,
            min_per_unit: 1,
            strategy,
            window_hours: 24,
            look_back: Period {
                amount: 1,
                unit: Unit::Months,
            },
            always_include: vec![],
        }
    }

    #[test]
    fn ten_percent_monthly_uniform_is_71_8_percent() {
        let s = sampling(SampleSize::Fraction(0.10), Strategy::Uniform);
        assert_eq!(percent(yearly_chance(&s, 12)), "71,8 %");
    }

    #[test]
    fn coverage_reaches_everyone() {
        let s = sampling(SampleSize::Fraction(0.10), Strategy::Coverage);
        assert_eq!(yearly_chance(&s, 12), 1.0);
    }

    #[test]
    fn a_yearly_target_gives_the_fraction_that_meets_it() {
        let s = sampling(SampleSize::YearlyChance(0.95), Strategy::Uniform);
        let f = fraction_per_round(&s, 12);
        assert!((yearly_chance(&s, 12) - 0.95).abs() < 1e-9);
        assert!((f - uniform_fraction_for(0.95, 12)).abs() < 1e-12);
        assert_eq!(percent(f), "22,1 %");
    }

    #[test]
    fn rounds_of_common_schedules() {
        let tz = chrono_tz::Europe::Stockholm;
        let monthly = Crontab::parse("0 7 1 * *").unwrap();
        let twice = Crontab::parse("0 7 1 3,9 *").unwrap();
        assert_eq!(rounds_per_year(&monthly, tz), 12);
        assert_eq!(rounds_per_year(&twice, tz), 2);
    }
}
