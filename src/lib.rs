//! loggkoll runs the access-log review routines (loggkontroll) of Swedish care and
//! social-services providers: routines written in YAML compile into state graphs, and the engine
//! draws samples, opens cases, tracks them through their graph, reminds, escalates, reports and
//! purges. See `ARCHITECTURE.md` for the code map.

pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod diagnostic;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod links;
pub mod location;
pub mod log_format;
pub mod mails;
pub mod names;
pub mod notify;
pub mod personnummer;
pub mod private_files;
pub mod records;
pub mod refusal;
pub mod roster;
pub mod routine;
pub mod schedule;
pub mod simulate;
pub mod source;
pub mod store;
pub mod suggest;
pub mod sv;
pub mod svg;
pub mod sym;
pub mod tabular;
pub mod templates;
pub mod web;

pub use error::{Error, ErrorKind, Result};
