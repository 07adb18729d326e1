//! Group commit: appends that arrive while others are being written are gathered into one
//! statement (one commit, one fsync) by a few writer tasks.

use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::append::{insert_batch, AppendReply, AppendRequest};

/// Writer tasks of the group commit: how many batches may be in flight at once.
const GROUP_COMMIT_WRITERS: usize = 4;
/// The most appends gathered into one statement.
const GROUP_COMMIT_MAX_APPENDS: usize = 256;

pub(crate) fn start_group_commit(
    runtime: &tokio::runtime::Handle,
    pool: PgPool,
) -> mpsc::UnboundedSender<(AppendRequest, AppendReply)> {
    let (sender, receiver) = mpsc::unbounded_channel::<(AppendRequest, AppendReply)>();
    let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
    for _ in 0..GROUP_COMMIT_WRITERS {
        let receiver = receiver.clone();
        let pool = pool.clone();
        runtime.spawn(async move {
            loop {
                // Take what is waiting (at least one), then let another writer gather the next.
                let batch = {
                    let mut receiver = receiver.lock().await;
                    let Some(first) = receiver.recv().await else {
                        return;
                    };
                    let mut batch = vec![first];
                    while batch.len() < GROUP_COMMIT_MAX_APPENDS {
                        match receiver.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    batch
                };
                write_batch(&pool, batch).await;
            }
        });
    }
    sender
}

async fn write_batch(pool: &PgPool, batch: Vec<(AppendRequest, AppendReply)>) {
    let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    if requests.len() > 1 {
        if let Ok(results) = insert_batch(pool, &requests).await {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
            return;
        }
    }
    // One by one: each append gets its own answer (a conflict only where there is one).
    for (request, reply) in requests.iter().zip(replies) {
        let result = insert_batch(pool, std::slice::from_ref(request))
            .await
            .map(|mut results| results.pop().unwrap_or_default());
        let _ = reply.send(result);
    }
}
