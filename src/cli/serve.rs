//! `loggkoll serve [--listen ADDR]`: the scheduler and the web server together, on tokio. Stops
//! cleanly on SIGTERM or SIGINT (exit 0) after the work in progress.

use super::Env;
use super::ops::open_engine;
use crate::clock::{Clock, FixedClock, SystemClock};
use crate::notify::Transport;
use crate::web::{self, App};
use crate::{Error, Result};
use clap::Args;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

pub(super) fn run(env: &Env, args: ServeArgs) -> Result<u8> {
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        Error::usage(format!(
            "--listen: `{}` is not an address and port such as 127.0.0.1:8080",
            args.listen
        ))
    })?;
    let transport = Transport::from_url(&env.config.mail.url).map_err(|e| e.context("mail.url"))?;
    // `--now` fixes the server's clock (demos on old data); otherwise the real clock.
    let clock: Arc<dyn Clock> = match env.global.now {
        Some(_) => Arc::new(FixedClock::new(env.now()?)),
        None => Arc::new(SystemClock),
    };
    if let Some(o) = &env.config.oidc
        && !o.admin.is_empty()
        && o.required_acr.is_empty()
    {
        eprintln!(
            "note: administrators who sign in through the identity provider have the second factor the provider asks for: require MFA there (Conditional Access, an authentication flow), or set [web.oidc] required_acr"
        );
    }
    let engine = open_engine(env, clock.now())?;
    let mut app = App::new(engine, clock)?;
    if env.global.now.is_some() {
        app.wall = Arc::new(SystemClock);
    }
    if !env.global.routines_embedded {
        app.routines_dir = Some(env.global.routines.clone());
    }
    app.templates_editable = !env.global.templates_embedded;
    let app = Arc::new(app);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::runtime(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().unwrap_or(addr);
        eprintln!(
            "serving http://{local} (links in emails start with {}); a tick every minute, emails via {}",
            env.config.base_url,
            transport.describe()
        );
        web::serve(listener, app, Some(transport), shutdown_signal()).await
    });
    // An email left with a slow mail server (see `web::server::SENDER_GRACE`) is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    served?;
    eprintln!("stopped");
    Ok(0)
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
