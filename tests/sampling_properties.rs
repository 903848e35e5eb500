//! Properties of the draw (`engine::sampling::draw`) over random populations: how many are drawn
//! per unit (worked out here from `ROUTINES.md`'s rules, with integer arithmetic), at least the
//! minimum from every non-empty unit, coverage drawing the not-yet-reviewed first and all of them
//! in the year's last round, multi-unit users followed up as the rule says, the same draw for the
//! same seed; and over many seeds, that uniform draws are fair and that coverage leaves everyone
//! a chance.

use chrono::{Months, NaiveDate};
use loggkoll::engine::sampling::{Input, Reason, draw};
use loggkoll::routine::duration::{Period, Unit};
use loggkoll::routine::model::{AlwaysInclude, IncludeRule, SampleSize, Sampling, Scope, Strategy};
use loggkoll::store::roster::Member;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, HashMap, HashSet};

fn sampling(percent: u32, min_per_unit: u32, strategy: Strategy, per: Scope) -> Sampling {
    Sampling {
        system: "treserva".into(),
        per,
        size: SampleSize::Fraction(f64::from(percent) / 100.0),
        min_per_unit,
        strategy,
        window_hours: 24,
        look_back: Period {
            amount: 1,
            unit: Unit::Months,
        },
        always_include: vec![],
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 6, 1).expect("date")
}

/// One member as generated: unit index, several units?, drawn earlier this year?, months since
/// last drawn (None: never).
type Spec = (usize, bool, bool, Option<u32>);

fn population(specs: &[Spec]) -> Vec<Member> {
    specs
        .iter()
        .enumerate()
        .map(|(i, (unit, multi, _, _))| Member {
            person_id: format!("P{i:04}"),
            home_unit: format!("EN{unit}"),
            account: format!("acc{i}"),
            other_accounts: vec![],
            units: if *multi { 2 } else { 1 },
        })
        .collect()
}

/// `⌈percent · n / 100⌉`, at least `min`, at most `n`.
fn places(percent: u32, min: u32, n: usize) -> usize {
    let n64 = n as u64;
    let k = (u64::from(percent) * n64).div_ceil(100);
    (k.max(u64::from(min)) as usize).min(n)
}

fn strategy_of(coverage: bool) -> Strategy {
    if coverage {
        Strategy::Coverage
    } else {
        Strategy::Uniform
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_draw_follows_the_rules(
        specs in prop::collection::vec((0usize..5, prop::bool::weighted(0.15), any::<bool>(),
                                        prop::option::of(0u32..8)), 0..80),
        percent in 1u32..=100,
        min_per_unit in 0u32..4,
        coverage in any::<bool>(),
        organisation in prop::bool::weighted(0.2),
        rounds_left in 1u32..=12,
        rule in 0u8..3,
        seed in any::<u64>(),
    ) {
        let pop = population(&specs);
        let mut s = sampling(
            percent,
            min_per_unit,
            strategy_of(coverage),
            if organisation { Scope::Organisation } else { Scope::Unit },
        );
        let three_months = Period { amount: 3, unit: Unit::Months };
        s.always_include = match rule {
            0 => vec![],
            1 => vec![AlwaysInclude { users: IncludeRule::MultiUnit, every: None }],
            _ => vec![AlwaysInclude { users: IncludeRule::MultiUnit, every: Some(three_months) }],
        };
        let seen: HashSet<String> = specs
            .iter()
            .zip(&pop)
            .filter(|(spec, _)| spec.2)
            .map(|(_, m)| m.person_id.clone())
            .collect();
        let last_drawn: HashMap<String, NaiveDate> = specs
            .iter()
            .zip(&pop)
            .filter_map(|(spec, m)| {
                spec.3.map(|months| {
                    (m.person_id.clone(), day().checked_sub_months(Months::new(months)).expect("date"))
                })
            })
            .collect();
        let input = Input {
            population: &pop,
            sampling: &s,
            rounds_per_year: 12,
            rounds_left,
            drawn_this_year: &seen,
            last_drawn: &last_drawn,
            day: day(),
        };
        let drawn = draw(&input, &mut ChaCha20Rng::seed_from_u64(seed));

        // The same seed, the same draw; sorted, each member once.
        prop_assert_eq!(&draw(&input, &mut ChaCha20Rng::seed_from_u64(seed)), &drawn);
        prop_assert!(drawn.windows(2).all(|w| w[0].member < w[1].member));
        prop_assert!(drawn.iter().all(|d| d.member < pop.len()));

        // Per group: the sample (reasons `sample` and `coverage`).
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, m) in pop.iter().enumerate() {
            let key = if organisation { String::new() } else { m.home_unit.clone() };
            groups.entry(key).or_default().push(i);
        }
        let reason: HashMap<usize, Reason> = drawn.iter().map(|d| (d.member, d.reason)).collect();
        for (group, members) in &groups {
            let n = members.len();
            let k = places(percent, min_per_unit, n);
            let sampled: Vec<usize> = members
                .iter()
                .copied()
                .filter(|i| matches!(reason.get(i), Some(Reason::Sample | Reason::Coverage)))
                .collect();
            if coverage {
                let fresh: Vec<usize> =
                    members.iter().copied().filter(|i| !seen.contains(&pop[*i].person_id)).collect();
                let must = fresh.len().div_ceil(rounds_left as usize);
                let has_seen = fresh.len() < n;
                let rest = if must >= k { usize::from(has_seen) } else { k - must };
                prop_assert_eq!(sampled.len(), (must + rest).min(n), "group {:?}", group);
                let covered: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|i| reason.get(i) == Some(&Reason::Coverage))
                    .collect();
                prop_assert_eq!(covered.len(), must);
                prop_assert!(covered.iter().all(|i| fresh.contains(i)));
                if rounds_left == 1 {
                    // The year's last round: everyone not yet reviewed.
                    prop_assert!(fresh.iter().all(|i| reason.contains_key(i)));
                }
            } else {
                prop_assert_eq!(sampled.len(), k, "group {:?}", group);
                prop_assert!(sampled.iter().all(|i| reason[i] == Reason::Sample));
            }
            // At least the minimum from every non-empty group.
            prop_assert!(sampled.len() >= (min_per_unit as usize).min(n));
        }

        // Multi-unit follow-up: exactly those with several units not otherwise drawn and due.
        for (i, m) in pop.iter().enumerate() {
            let due = match rule {
                0 => false,
                1 => true,
                _ => last_drawn.get(&m.person_id).is_none_or(|last| {
                    last.checked_add_months(Months::new(3)).expect("date") <= day()
                }),
            };
            let followed = reason.get(&i) == Some(&Reason::MultiUnit);
            let sampled = matches!(reason.get(&i), Some(Reason::Sample | Reason::Coverage));
            prop_assert_eq!(followed, m.units >= 2 && due && !sampled, "member {}", i);
        }
    }
}

/// Over 2,000 seeds, 1 of 10 drawn uniformly: each member about 200 times. The count of one
/// member is binomial(2000, 0.1): mean 200, standard deviation √(2000 · 0.1 · 0.9) ≈ 13.4; the
/// bounds 140–260 are 4.5 standard deviations, and the seeds are fixed, so this never flickers.
#[test]
fn uniform_draws_are_fair() {
    let specs: Vec<Spec> = (0..10).map(|_| (0, false, false, None)).collect();
    let pop = population(&specs);
    let s = sampling(10, 1, Strategy::Uniform, Scope::Unit);
    let (seen, last) = (HashSet::new(), HashMap::new());
    let mut hits = vec![0u32; pop.len()];
    for seed in 0..2000 {
        let input = Input {
            population: &pop,
            sampling: &s,
            rounds_per_year: 12,
            rounds_left: 6,
            drawn_this_year: &seen,
            last_drawn: &last,
            day: day(),
        };
        let d = draw(&input, &mut ChaCha20Rng::seed_from_u64(seed));
        assert_eq!(d.len(), 1);
        hits[d[0].member] += 1;
    }
    assert!(hits.iter().all(|h| (140..=260).contains(h)), "{hits:?}");
}

/// Coverage keeps a chance for everyone: in the year's last round, with 15 of 20 already
/// reviewed, the 5 others must all come and one more place goes to anyone — over 300 seeds every
/// one of the 15 is drawn again at least once (each has 1/15 a seed: the chance that a given one
/// never is, (14/15)³⁰⁰ ≈ 10⁻⁹).
#[test]
fn coverage_leaves_the_already_reviewed_a_chance() {
    let specs: Vec<Spec> = (0..20).map(|i| (0, false, i < 15, None)).collect();
    let pop = population(&specs);
    let s = sampling(10, 1, Strategy::Coverage, Scope::Unit);
    let seen: HashSet<String> = pop[..15].iter().map(|m| m.person_id.clone()).collect();
    let last = HashMap::new();
    let mut again = vec![0u32; 15];
    for seed in 0..300 {
        let input = Input {
            population: &pop,
            sampling: &s,
            rounds_per_year: 12,
            rounds_left: 1,
            drawn_this_year: &seen,
            last_drawn: &last,
            day: day(),
        };
        let d = draw(&input, &mut ChaCha20Rng::seed_from_u64(seed));
        assert_eq!(d.len(), 6);
        assert!((15..20).all(|i| d.iter().any(|x| x.member == i)));
        for x in d.iter().filter(|x| x.member < 15) {
            again[x.member] += 1;
        }
    }
    assert!(again.iter().all(|n| *n > 0), "{again:?}");
}
