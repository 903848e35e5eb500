//! Answers from the task pages, committed in groups. Every answer is durable before its page
//! says so, and a commit (with `synchronous = FULL`) costs a disk flush; one transaction per
//! answer would let a hundred managers answering at once wait for a hundred flushes in a row.
//! So an answer joins a queue, and whoever next holds the engine takes every answer waiting and
//! records them in one transaction (`Engine::answer_batch`, all or none). Should the group be
//! refused — one of its answers is no longer valid, say a step answered twice from two tabs — its
//! answers are recorded one by one instead, so each gets its own result and nothing is mixed.
//!
//! The work runs on a task of its own, so an answer whose client has gone is still recorded
//! (or refused) like any other; nothing is left in the queue.

use super::App;
use crate::engine::{AnswerRequest, Answered, Engine};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Answers recorded in one transaction at most.
pub(crate) const GROUP: usize = 256;

pub(super) type Waiting = (AnswerRequest, oneshot::Sender<Result<Answered>>);

impl App {
    /// Records `answer` (for exactly its step) and returns what it did, once it is durable.
    pub async fn answer(self: &Arc<Self>, answer: AnswerRequest) -> Result<Answered> {
        let (reply, result) = oneshot::channel();
        self.queue().push((answer, reply));
        let app = self.clone();
        tokio::spawn(async move { app.record_waiting().await });
        result
            .await
            .map_err(|_| Error::runtime("the answer was not recorded: its worker stopped"))?
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the engine, then every answer waiting (up to a group), and records them.
    async fn record_waiting(self: Arc<Self>) {
        let engine = self.engine.clone().lock_owned().await;
        let group: Vec<Waiting> = {
            let mut queue = self.queue();
            let n = queue.len().min(GROUP);
            queue.drain(..n).collect()
        };
        if group.is_empty() {
            return;
        }
        let now = self.clock.now();
        let done = tokio::task::spawn_blocking(move || {
            let mut engine = engine;
            record(&mut engine, group, now);
        })
        .await;
        if let Err(err) = done {
            eprintln!("answers: {err}");
        }
    }
}

/// Records `group` in one transaction, or one by one when the group is refused.
fn record(engine: &mut Engine, group: Vec<Waiting>, now: DateTime<Utc>) {
    let (requests, replies): (Vec<AnswerRequest>, Vec<_>) = group.into_iter().unzip();
    match engine.answer_batch(&requests, now) {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(err) if requests.len() == 1 => {
            for reply in replies {
                let _ = reply.send(Err(err.clone()));
            }
        }
        Err(_) => {
            for (a, reply) in requests.iter().zip(replies) {
                let _ = reply.send(engine.answer(a, now));
            }
        }
    }
}
