//! Simulation: a synthetic organisation run on a simulated clock, with answers drawn by a seeded
//! policy. Used by `simulate`, `demo`, the benchmarks and the property tests.

pub mod logs;
pub mod org;
pub mod run;
