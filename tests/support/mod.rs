//! A small builder for running the real `loggkoll` binary in tests, in the manner of just's
//! `Test::new().args(..).run()`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub struct Test {
    dir: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Test {
    /// Runs in the project root, so `routines/` and `templates/` are the shipped ones.
    pub fn new() -> Test {
        Test::in_dir(&root())
    }

    pub fn in_dir(dir: &Path) -> Test {
        Test {
            dir: dir.to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn run(self) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loggkoll"));
        cmd.args(&self.args).current_dir(&self.dir);
        for key in [
            "LOGGKOLL_DB",
            "LOGGKOLL_BASE_URL",
            "LOGGKOLL_TIMEZONE",
            "LOGGKOLL_MAIL_URL",
        ] {
            cmd.env_remove(key);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("the loggkoll binary runs"))
    }
}

/// Compares `actual` with the file `expected`; with `BLESS=1` in the environment, writes it.
pub fn expect_file(expected: &Path, actual: &str) {
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(expected, actual).expect("write expected file");
        return;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_else(|_| {
        panic!(
            "missing {}; run with BLESS=1 to create it from:\n{actual}",
            expected.display()
        )
    });
    if want != actual {
        panic!(
            "{} differs.\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        );
    }
}
