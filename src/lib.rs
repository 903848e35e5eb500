//! loggkoll runs the access-log review routines (loggkontroll) of Swedish care and
//! social-services providers: routines written in YAML compile into state graphs, and the engine
//! draws samples, opens cases, tracks them through their graph, reminds, escalates, reports and
//! purges. See `ARCHITECTURE.md` for the code map.

#![warn(unreachable_pub)]
#![warn(clippy::too_many_lines)]

pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod diagnostic;
pub(crate) mod embedded;
pub mod engine;
pub(crate) mod error;
pub mod evidence;
pub mod links;
pub(crate) mod location;
pub(crate) mod log_format;
pub(crate) mod mails;
pub(crate) mod names;
pub mod notify;
pub mod personnummer;
pub(crate) mod private_files;
pub mod records;
pub(crate) mod refusal;
pub mod roster;
pub mod routine;
pub mod schedule;
pub mod simulate;
pub mod source;
pub mod store;
pub(crate) mod suggest;
pub(crate) mod sv;
pub(crate) mod svg;
pub(crate) mod sym;
pub(crate) mod tabular;
pub mod templates;
pub mod web;

pub use error::{Error, ErrorKind, Result};
