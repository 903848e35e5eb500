//! The OpenID providers the tests start: `tests/oidc/provider.mjs` (node-oidc-provider,
//! OpenID Certified) and `tests/oidc/mischief.mjs` (a provider that misbehaves on purpose), run
//! with Node.js from `tests/oidc/node_modules` (`npm ci --prefix tests/oidc`). Without Node.js or
//! the packages a test says so and passes, unless `LOGGKOLL_REQUIRE_OIDC=1` (as in CI).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const CLIENT_ID: &str = "loggkoll";
pub const CLIENT_SECRET: &str = "a test client secret";

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether the providers can run; says why not when they cannot (and fails under
/// `LOGGKOLL_REQUIRE_OIDC=1`).
pub fn available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let packages = folder()
        .join("node_modules/oidc-provider/package.json")
        .is_file();
    if node && packages {
        return true;
    }
    let notice = if node {
        "tests/oidc/node_modules is missing (npm ci --prefix tests/oidc)"
    } else {
        "Node.js is not installed (apt-get install -y nodejs npm)"
    };
    if std::env::var("LOGGKOLL_REQUIRE_OIDC").as_deref() == Ok("1") {
        panic!("LOGGKOLL_REQUIRE_OIDC=1 but {notice}");
    }
    eprintln!("skipping the OpenID test: {notice}");
    false
}

/// A provider running; stops when dropped (its standard input closes, and it is killed).
pub struct Provider {
    pub issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `script` (`provider.mjs` or `mischief.mjs`) for a loggkoll at `base`.
pub fn start(script: &str, base: &str) -> Provider {
    start_with(script, base, &[])
}

/// As [`start`], with more environment for the script.
pub fn start_with(script: &str, base: &str, env: &[(&str, &str)]) -> Provider {
    let mut child = Command::new("node")
        .arg(folder().join(script))
        .current_dir(folder())
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("REDIRECT_URI", format!("{base}/login/oidc/callback"))
        .env("POST_LOGOUT_REDIRECT_URI", format!("{base}/login"))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("its output"));
    out.read_line(&mut line).expect("the provider's first line");
    // The rest of what it prints is read and let go: a closed pipe would stop it.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let v: serde_json::Value = serde_json::from_str(&line).expect("{\"issuer\": …}");
    Provider {
        issuer: v["issuer"].as_str().expect("an issuer").to_string(),
        child,
    }
}

/// `[web.oidc]` for `issuer`, with the test groups mapped to the roles.
pub fn config(issuer: &str) -> loggkoll::config::OidcConfig {
    loggkoll::config::OidcConfig {
        issuer: issuer.to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        scopes: vec![
            "openid".into(),
            "profile".into(),
            "email".into(),
            "groups".into(),
        ],
        roles_claim: None,
        admin: vec!["loggkoll-admin".into()],
        quality: vec!["loggkoll-kvalitet".into()],
        reader: vec!["loggkoll-lasare".into()],
        name_claim: "preferred_username".into(),
        required_acr: Vec::new(),
        provision: true,
        local_login: true,
        button: "Logga in med kommunens konto".into(),
    }
}
