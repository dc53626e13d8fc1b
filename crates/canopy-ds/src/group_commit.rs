//! Group commit for a single-writer database (SQLite): one thread owns the writes; the
//! requests that queued while it ran the last transaction run in the next one, each in a
//! savepoint of its own, and none is answered before that transaction commits.
//!
//! A request that fails is rolled back to its savepoint alone: its answer is its error, and
//! the others of the transaction are unaffected, as if each had had a transaction of its own
//! (they run one after the other, in arrival order). What it buys: one `BEGIN`/`COMMIT` and
//! one write of each changed page per batch instead of per request, which is most of what a
//! small request costs SQLite.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};

use canopy_ds_api::ErrorCode;
use canopy_store::ds::{DsStore, DsTx};

use crate::ApiError;

/// What a request's job hands back: whether it succeeded (else its savepoint is rolled
/// back), and how to answer once the transaction's fate is known.
pub(crate) type Finish = Box<dyn FnOnce(Result<(), ApiError>) + Send>;

/// A request's work in the shared transaction.
pub(crate) type Job = Box<dyn FnOnce(&mut dyn DsTx) -> (bool, Finish) + Send>;

/// The most requests in one transaction (bounds the latency a batch adds to its first).
const MAX_BATCH: usize = 256;

/// The most requests waiting for the writer; further ones are refused as busy.
const QUEUE: usize = 4_096;

/// The writer thread's inbox.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    jobs: SyncSender<Job>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    requests: AtomicU64,
    busy_nanos: AtomicU64,
}

/// What the writer did since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Transactions committed (or attempted).
    pub batches: u64,
    /// Requests run in them.
    pub requests: u64,
    /// Time spent in transactions.
    pub busy: Duration,
}

impl GroupCommit {
    /// Starts the writer thread over `store`.
    ///
    /// # Errors
    /// The thread did not start.
    pub(crate) fn start(store: Arc<dyn DsStore>) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::sync_channel::<Job>(QUEUE);
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("canopy-ds-writer".into())
            .spawn(move || writer(store.as_ref(), &rx, &c))?;
        Ok(Self { jobs, counters })
    }

    /// The counters.
    pub(crate) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
            busy: Duration::from_nanos(self.counters.busy_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Queues `job`.
    ///
    /// # Errors
    /// [`ErrorCode::RateLimited`] if the queue is full (load is shed, not queued without
    /// bound), [`ErrorCode::Internal`] if the writer is gone.
    pub(crate) fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => {
                ApiError::new(ErrorCode::RateLimited, "the server is busy; retry shortly")
            }
            mpsc::TrySendError::Disconnected(_) => internal("the writer is gone"),
        })
    }
}

fn internal(what: &str) -> ApiError {
    tracing::error!("group commit: {what}");
    ApiError::new(ErrorCode::Internal, "the database failed")
}

/// Runs batches until every sender is gone.
fn writer(store: &dyn DsStore, rx: &Receiver<Job>, counters: &Counters) {
    while let Ok(first) = rx.recv() {
        let start = Instant::now();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let n = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        run_batch(store, batch);
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.requests.fetch_add(n, Ordering::Relaxed);
        let spent = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counters.busy_nanos.fetch_add(spent, Ordering::Relaxed);
    }
}

/// One transaction for `batch`, then every answer.
fn run_batch(store: &dyn DsStore, batch: Vec<Job>) {
    let mut tx = match store.begin() {
        Ok(tx) => tx,
        Err(e) => {
            // Each job answers its own error: run none of them.
            tracing::error!("group commit: begin: {e}");
            return;
        }
    };
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut broken = false;
    for job in batch {
        if broken {
            // Dropping the job drops its answer channel: its request fails as internal.
            continue;
        }
        if tx.savepoint().is_err() {
            broken = true;
            continue;
        }
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| job(tx.as_mut())));
        let closed = match &ran {
            Ok((true, _)) => tx.release_savepoint(),
            // A failed or panicked request leaves nothing behind.
            Ok((false, _)) | Err(_) => tx.rollback_to_savepoint(),
        };
        if closed.is_err() {
            broken = true;
        }
        if let Ok((_, finish)) = ran {
            finishes.push(finish);
        }
    }
    let committed = if broken {
        drop(tx);
        Err(internal("a savepoint failed; the batch was rolled back"))
    } else {
        tx.commit().map_err(|e| internal(&format!("commit: {e}")))
    };
    for finish in finishes {
        finish(committed.clone());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::sync::Mutex;

    use canopy_store::ds::SqliteDs;

    use super::*;

    /// A job that registers `user` and then fails or panics as told; records its answer.
    fn job(user: &'static str, fail: bool, panic: bool, answers: &Arc<Mutex<Vec<String>>>) -> Job {
        let answers = Arc::clone(answers);
        Box::new(move |tx: &mut dyn DsTx| {
            let inserted = tx.insert_user(user, 1).unwrap();
            assert!(inserted);
            if panic {
                panic!("a request panicked");
            }
            let finish: Finish = Box::new(move |committed| {
                let answer = match (fail, committed) {
                    (true, _) => "refused",
                    (false, Ok(())) => "committed",
                    (false, Err(_)) => "lost",
                };
                answers.lock().unwrap().push(format!("{user}: {answer}"));
            });
            (!fail, finish)
        })
    }

    #[test]
    fn a_failed_or_panicking_request_leaves_nothing_and_the_others_commit() {
        let store = SqliteDs::in_memory().unwrap();
        let answers = Arc::new(Mutex::new(Vec::new()));
        run_batch(
            &store,
            vec![
                job("a", false, false, &answers),
                job("b", true, false, &answers),
                job("c", false, true, &answers),
                job("d", false, false, &answers),
            ],
        );
        assert_eq!(
            *answers.lock().unwrap(),
            ["a: committed", "b: refused", "d: committed"]
        );
        let mut tx = store.begin().unwrap();
        // Taken names are refused; free ones are not: a and d were kept, b and c undone.
        assert!(!tx.insert_user("a", 2).unwrap());
        assert!(tx.insert_user("b", 2).unwrap());
        assert!(tx.insert_user("c", 2).unwrap());
        assert!(!tx.insert_user("d", 2).unwrap());
    }

    #[test]
    fn the_writer_answers_every_request_once_committed() {
        let store: Arc<dyn DsStore> = Arc::new(SqliteDs::in_memory().unwrap());
        let gc = GroupCommit::start(Arc::clone(&store)).unwrap();
        let answers = Arc::new(Mutex::new(Vec::new()));
        for user in ["u1", "u2", "u3"] {
            gc.submit(job(user, false, false, &answers)).unwrap();
        }
        drop(gc);
        let deadline = Instant::now() + Duration::from_secs(10);
        while answers.lock().unwrap().len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            *answers.lock().unwrap(),
            ["u1: committed", "u2: committed", "u3: committed"]
        );
    }
}
