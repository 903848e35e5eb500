//! `loggkoll user add|password|list|remove`: the local accounts of quality staff for the web
//! overview. Passwords are read from standard input (without echo on a terminal), never from
//! the command line, and stored as argon2 hashes. Each change is recorded in the audit trail.

use super::Env;
use super::ops::{JsonArg, open_store};
use crate::engine::accounts::{self, Change};
use crate::store::web as db;
use crate::store::web::WebRole;
use crate::web::password;
use crate::{Error, Result};
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal, Read, Write};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account for the overview; the password is read from standard input.
    Add(AddArgs),
    /// Change what an account may do.
    Role(RoleArgs),
    /// Set a new password (read from standard input); ends the account's sessions.
    Password(UserArgs),
    /// Take an account's second factor away (a lost phone and recovery codes): it enrols anew
    /// at its next login; its sessions end.
    ResetSecondFactor(UserArgs),
    /// The accounts.
    List(JsonArg),
    /// Remove an account and end its sessions.
    Remove(UserArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The account name (letters, digits, `.`, `_`, `-`, `@`).
    pub name: String,
    /// `admin` also manages accounts, `quality` reads everything and starts and steers cases,
    /// `reader` reads.
    #[arg(long, default_value = "quality", value_parser = ["admin", "quality", "reader"])]
    pub role: String,
    /// An account that signs in through the identity provider only (`[web.oidc]`): no password
    /// is read; the first person of that name to sign in there has it.
    #[arg(long)]
    pub oidc: bool,
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    pub name: String,
    #[arg(value_parser = ["admin", "quality", "reader"])]
    pub role: String,
}

/// A role the argument parser has admitted already.
fn role(text: &str) -> Result<WebRole> {
    WebRole::parse(text)
        .ok_or_else(|| Error::usage(format!("unknown role `{text}`: admin, quality or reader")))
}

#[derive(Debug, Args)]
pub struct UserArgs {
    /// The account name (letters, digits, `.`, `_`, `-`, `@`).
    pub name: String,
}

/// Refuses a bad name before the password is asked for.
fn check_name(name: &str) -> Result<()> {
    if accounts::is_name(name) {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "`{name}` is not an account name: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`"
        )))
    }
}

/// The first line of standard input, without its line ending; without echo on a terminal.
fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("password: ");
        let _ = std::io::stderr().flush();
    }
    let _echo = terminal.then(EchoOff::new).flatten();
    let mut line = String::new();
    stdin
        .lock()
        .take(4096)
        .read_line(&mut line)
        .map_err(|e| Error::runtime(format!("cannot read the password: {e}")))?;
    if terminal {
        eprintln!();
    }
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Error::bad_input(
            "no password on standard input (give it as the first line)",
        ));
    }
    password::check_strength(&password).map_err(Error::bad_input)?;
    Ok(password)
}

/// Turns the terminal's echo off until dropped.
struct EchoOff {
    #[cfg(unix)]
    saved: libc::termios,
}

impl EchoOff {
    #[cfg(unix)]
    fn new() -> Option<EchoOff> {
        // SAFETY: tcgetattr/tcsetattr on standard input with a termios we own; a failure
        // leaves the terminal as it was.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut t) != 0 {
                return None;
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) != 0 {
                return None;
            }
            Some(EchoOff { saved })
        }
    }

    #[cfg(not(unix))]
    fn new() -> Option<EchoOff> {
        None
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the settings read in `new`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}

pub(super) fn run(env: &Env, cmd: UserCommand) -> Result<u8> {
    match cmd {
        UserCommand::Add(args) => {
            check_name(&args.name)?;
            let now = env.now()?;
            let mut store = open_store(env)?;
            if db::password_hash(store.db(), &args.name)?.is_some() {
                return Err(Error::bad_input(format!(
                    "account `{}` exists; `loggkoll user password {}` sets a new password",
                    args.name, args.name
                )));
            }
            let role = role(&args.role)?;
            if args.oidc {
                accounts::change(&mut store, &args.name, Change::AddOidc { role }, "cli", now)?;
                eprintln!(
                    "added account `{}` ({}), signing in through the identity provider",
                    args.name,
                    role.as_str()
                );
                return Ok(0);
            }
            let hash = password::hash(&read_password()?)?;
            accounts::change(
                &mut store,
                &args.name,
                Change::Add { hash: &hash, role },
                "cli",
                now,
            )?;
            eprintln!("added account `{}` ({})", args.name, role.as_str());
            Ok(0)
        }
        UserCommand::Role(args) => {
            let now = env.now()?;
            let role = role(&args.role)?;
            let mut store = open_store(env)?;
            accounts::change(&mut store, &args.name, Change::Role(role), "cli", now)?;
            eprintln!("account `{}` is now {}", args.name, role.as_str());
            Ok(0)
        }
        UserCommand::Password(args) => {
            let now = env.now()?;
            let mut store = open_store(env)?;
            if db::password_hash(store.db(), &args.name)?.is_none() {
                return Err(Error::bad_input(format!("no account `{}`", args.name)));
            }
            let hash = password::hash(&read_password()?)?;
            accounts::change(
                &mut store,
                &args.name,
                Change::Password { hash: &hash },
                "cli",
                now,
            )?;
            eprintln!("new password for `{}`; its sessions have ended", args.name);
            Ok(0)
        }
        UserCommand::ResetSecondFactor(args) => {
            let now = env.now()?;
            let mut store = open_store(env)?;
            accounts::change(
                &mut store,
                &args.name,
                Change::ResetSecondFactor,
                "cli",
                now,
            )?;
            eprintln!(
                "`{}` has no second factor now and enrols a new one at the next login; its sessions have ended",
                args.name
            );
            Ok(0)
        }
        UserCommand::List(args) => {
            let store = open_store(env)?;
            let users = db::users(store.db())?;
            if args.json {
                let text = serde_json::to_string_pretty(&users)
                    .map_err(|e| Error::runtime(e.to_string()))?;
                println!("{text}");
            } else {
                println!(
                    "{:<24} {:<8} {:<9} {:<22} {:<22}",
                    "ACCOUNT", "ROLE", "SIGN-IN", "CREATED", "LAST LOGIN"
                );
                for u in users {
                    println!(
                        "{:<24} {:<8} {:<9} {:<22} {:<22}",
                        u.name,
                        u.role.as_str(),
                        u.sign_in,
                        super::local_time(&u.created_at, env.config.timezone),
                        u.last_login_at.as_deref().map_or_else(
                            || "-".to_string(),
                            |t| super::local_time(t, env.config.timezone)
                        )
                    );
                }
            }
            Ok(0)
        }
        UserCommand::Remove(args) => {
            let now = env.now()?;
            let mut store = open_store(env)?;
            accounts::change(&mut store, &args.name, Change::Remove, "cli", now)?;
            eprintln!("removed account `{}` and its sessions", args.name);
            Ok(0)
        }
    }
}
