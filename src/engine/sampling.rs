//! The draw: which users of a round's population are reviewed. Pure: the population, who has
//! already been drawn this year, and a seeded ChaCha RNG go in; the drawn users come out, the same
//! every time for the same inputs (so `round redraw` can show a draw was what it claims).
//!
//! Per unit (or the whole organisation), `k = max(min_per_unit, ⌈fraction · N⌉)` users are drawn.
//! `uniform` draws them with equal chances. `coverage` first draws `m = ⌈U / r⌉` of the `U` users
//! not yet drawn this year (`r` rounds left in the year, this one included), then fills the
//! remaining `k − m` places from everyone else in the unit, so the not-yet-reviewed come first but
//! everyone keeps a chance; when `m ≥ k` one extra place is drawn from everyone left, so that
//! chance never drops to zero. In the year's last round `m = U`: everyone present all year has
//! been drawn by 31 December. `always_include` rules then add users with several units.

use crate::routine::chance;
use crate::routine::duration::{Period, Unit};
use crate::routine::model::{IncludeRule, Sampling, Scope, Strategy};
use crate::store::roster::Member;
use chrono::{Months, NaiveDate};
use rand::seq::index;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Why a user was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The random sample.
    Sample,
    /// A place the coverage strategy kept for users not yet reviewed this year.
    Coverage,
    /// An `always_include` rule (several units).
    MultiUnit,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Sample => "sample",
            Reason::Coverage => "coverage",
            Reason::MultiUnit => "multi_unit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// Index into the population.
    pub member: usize,
    pub reason: Reason,
}

/// Everything a draw depends on besides the RNG.
pub struct Input<'a> {
    pub population: &'a [Member],
    pub sampling: &'a Sampling,
    pub rounds_per_year: u32,
    /// Rounds left in the year, this one included (at least 1).
    pub rounds_left: u32,
    /// Users drawn in this routine's earlier rounds this year.
    pub drawn_this_year: &'a HashSet<String>,
    /// When each user was last drawn by this routine (for `always_include … every`).
    pub last_drawn: &'a HashMap<String, NaiveDate>,
    /// The round's local date.
    pub day: NaiveDate,
}

/// How many to draw from a group of `n`.
pub(crate) fn sample_size(sampling: &Sampling, rounds_per_year: u32, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let f = chance::fraction_per_round(sampling, rounds_per_year).clamp(0.0, 1.0);
    // Rounding up with a small tolerance, so that 10 % of 30 is 3, not 4.
    let k = ((f * n as f64) - 1e-9).ceil().max(0.0) as usize;
    k.max(sampling.min_per_unit as usize).min(n)
}

fn choose(rng: &mut ChaCha20Rng, from: &[usize], amount: usize) -> Vec<usize> {
    let amount = amount.min(from.len());
    index::sample(rng, from.len(), amount)
        .into_iter()
        .map(|i| from[i])
        .collect()
}

/// Draws the round. The result is sorted by population index.
pub fn draw(input: &Input, rng: &mut ChaCha20Rng) -> Vec<Drawn> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, m) in input.population.iter().enumerate() {
        let key = match input.sampling.per {
            Scope::Unit => m.home_unit.as_str(),
            Scope::Organisation => "",
        };
        groups.entry(key).or_default().push(i);
    }
    let mut out: Vec<Drawn> = Vec::new();
    for members in groups.values() {
        let k = sample_size(input.sampling, input.rounds_per_year, members.len());
        match input.sampling.strategy {
            Strategy::Uniform => {
                for i in choose(rng, members, k) {
                    out.push(Drawn {
                        member: i,
                        reason: Reason::Sample,
                    });
                }
            }
            Strategy::Coverage => {
                let (fresh, seen): (Vec<usize>, Vec<usize>) = members.iter().partition(|&&i| {
                    !input
                        .drawn_this_year
                        .contains(&input.population[i].person_id)
                });
                let rounds_left = input.rounds_left.max(1) as usize;
                let must = fresh.len().div_ceil(rounds_left);
                let first = choose(rng, &fresh, must);
                let chosen: HashSet<usize> = first.iter().copied().collect();
                // The rest of the places, from everyone not yet chosen; one extra place when the
                // coverage places took them all, so that nobody's chance is zero.
                let rest_places = if must >= k {
                    usize::from(!seen.is_empty())
                } else {
                    k - must
                };
                let others: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|i| !chosen.contains(i))
                    .collect();
                for i in first {
                    out.push(Drawn {
                        member: i,
                        reason: Reason::Coverage,
                    });
                }
                for i in choose(rng, &others, rest_places) {
                    out.push(Drawn {
                        member: i,
                        reason: Reason::Sample,
                    });
                }
            }
        }
    }
    let already: HashSet<usize> = out.iter().map(|d| d.member).collect();
    for rule in &input.sampling.always_include {
        match rule.users {
            IncludeRule::MultiUnit => {
                for (i, m) in input.population.iter().enumerate() {
                    if m.units < 2 || already.contains(&i) {
                        continue;
                    }
                    let due = match (rule.every, input.last_drawn.get(&m.person_id)) {
                        (_, None) | (None, _) => true,
                        (Some(every), Some(&last)) => since(last, every) <= input.day,
                    };
                    if due {
                        out.push(Drawn {
                            member: i,
                            reason: Reason::MultiUnit,
                        });
                    }
                }
            }
        }
    }
    out.sort_by_key(|d| d.member);
    out.dedup_by_key(|d| d.member);
    out
}

/// `last` plus `period` (at least a day).
fn since(last: NaiveDate, period: Period) -> NaiveDate {
    let n = period.amount;
    let later = match period.unit {
        Unit::Months => last.checked_add_months(Months::new(n)),
        Unit::Years => last.checked_add_months(Months::new(n.saturating_mul(12))),
        Unit::Weeks => last.checked_add_days(chrono::Days::new(u64::from(n) * 7)),
        Unit::Days | Unit::WorkingDays | Unit::Hours => {
            last.checked_add_days(chrono::Days::new(u64::from(n.max(1))))
        }
    };
    later.unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routine::model::{AlwaysInclude, SampleSize};
    use rand::SeedableRng;

    fn sampling(strategy: Strategy, fraction: f64) -> Sampling {
        Sampling {
            system: "treserva".into(),
            per: Scope::Unit,
            size: SampleSize::Fraction(fraction),
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

    fn population(units: &[(&str, usize)]) -> Vec<Member> {
        let mut out = Vec::new();
        for (unit, n) in units {
            for i in 0..*n {
                out.push(Member {
                    person_id: format!("{unit}-{i:03}"),
                    home_unit: unit.to_string(),
                    account: format!("acc-{unit}-{i}"),
                    other_accounts: vec![],
                    units: 1,
                });
            }
        }
        out
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()
    }

    #[test]
    fn sizes_round_up_with_a_minimum_per_unit() {
        let s = sampling(Strategy::Uniform, 0.10);
        assert_eq!(sample_size(&s, 12, 30), 3);
        assert_eq!(sample_size(&s, 12, 31), 4);
        assert_eq!(sample_size(&s, 12, 7), 1);
        assert_eq!(sample_size(&s, 12, 0), 0);
    }

    #[test]
    fn the_same_seed_gives_the_same_draw_and_every_unit_gets_one() {
        let pop = population(&[("a", 30), ("b", 5), ("c", 1)]);
        let s = sampling(Strategy::Uniform, 0.10);
        let none = HashSet::new();
        let input = Input {
            population: &pop,
            sampling: &s,
            rounds_per_year: 12,
            rounds_left: 10,
            drawn_this_year: &none,
            last_drawn: &HashMap::new(),
            day: day(),
        };
        let a = draw(&input, &mut ChaCha20Rng::seed_from_u64(7));
        let b = draw(&input, &mut ChaCha20Rng::seed_from_u64(7));
        let c = draw(&input, &mut ChaCha20Rng::seed_from_u64(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let per_unit =
            |d: &[Drawn], unit: &str| d.iter().filter(|x| pop[x.member].home_unit == unit).count();
        assert_eq!(
            (per_unit(&a, "a"), per_unit(&a, "b"), per_unit(&a, "c")),
            (3, 1, 1)
        );
    }

    #[test]
    fn coverage_takes_the_unreviewed_first_and_everyone_by_the_last_round() {
        let pop = population(&[("a", 40)]);
        let s = sampling(Strategy::Coverage, 0.10);
        let mut drawn: HashSet<String> = HashSet::new();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for round in 0..12u32 {
            let input = Input {
                population: &pop,
                sampling: &s,
                rounds_per_year: 12,
                rounds_left: 12 - round,
                drawn_this_year: &drawn.clone(),
                last_drawn: &HashMap::new(),
                day: day(),
            };
            for d in draw(&input, &mut rng) {
                drawn.insert(pop[d.member].person_id.clone());
            }
        }
        assert_eq!(drawn.len(), 40);
    }

    #[test]
    fn coverage_keeps_a_chance_for_the_already_reviewed() {
        // Last round of the year with 10 not yet drawn of 40: all 10 must come, and one more
        // place goes to anyone, so a reviewed user can still be drawn.
        let pop = population(&[("a", 40)]);
        let s = sampling(Strategy::Coverage, 0.10);
        let reviewed: HashSet<String> = pop[..30].iter().map(|m| m.person_id.clone()).collect();
        let mut hits = 0;
        for seed in 0..200 {
            let input = Input {
                population: &pop,
                sampling: &s,
                rounds_per_year: 12,
                rounds_left: 1,
                drawn_this_year: &reviewed,
                last_drawn: &HashMap::new(),
                day: day(),
            };
            let d = draw(&input, &mut ChaCha20Rng::seed_from_u64(seed));
            assert_eq!(d.len(), 11);
            assert!((30..40).all(|i| d.iter().any(|x| x.member == i)));
            if d.iter().any(|x| x.member < 30) {
                hits += 1;
            }
        }
        assert!(hits > 100, "reviewed users drawn in {hits} of 200 rounds");
    }

    #[test]
    fn multi_unit_users_are_followed_up_as_often_as_the_rule_says() {
        let mut pop = population(&[("a", 20)]);
        pop[5].units = 2;
        let mut s = sampling(Strategy::Uniform, 0.05);
        s.always_include = vec![AlwaysInclude {
            users: IncludeRule::MultiUnit,
            every: Some(Period {
                amount: 3,
                unit: Unit::Months,
            }),
        }];
        let none = HashSet::new();
        let recent: HashMap<String, NaiveDate> = [(
            pop[5].person_id.clone(),
            NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        )]
        .into();
        let old: HashMap<String, NaiveDate> = [(
            pop[5].person_id.clone(),
            NaiveDate::from_ymd_opt(2026, 11, 15).unwrap(),
        )]
        .into();
        for (last, expected) in [(&recent, false), (&old, true), (&HashMap::new(), true)] {
            let input = Input {
                population: &pop,
                sampling: &s,
                rounds_per_year: 12,
                rounds_left: 10,
                drawn_this_year: &none,
                last_drawn: last,
                day: day(),
            };
            // Seed chosen so the sample itself does not pick member 5.
            let d = draw(&input, &mut ChaCha20Rng::seed_from_u64(3));
            let followed = d
                .iter()
                .any(|x| x.member == 5 && x.reason == Reason::MultiUnit);
            let sampled = d
                .iter()
                .any(|x| x.member == 5 && x.reason == Reason::Sample);
            assert!(sampled || followed == expected, "{last:?}: {d:?}");
        }
    }
}
