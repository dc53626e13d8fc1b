//! The threads that run the synchronous service functions: plain OS threads, outside the
//! async runtime, because the PostgreSQL client (`postgres`) runs its own runtime inside
//! each call and may not be called from a thread of another (tokio's blocking pool counts).

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of worker threads.
#[derive(Debug)]
pub struct Pool {
    jobs: Mutex<Sender<Job>>,
}

impl Pool {
    /// `threads` workers.
    pub fn new(threads: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("canopy-ds-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if spawned.is_err() {
                tracing::error!("a worker thread did not start");
            }
        }
        Self {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `f` on a worker and waits for it; `None` if the pool is gone or `f` panicked.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        rx.await.ok()
    }
}
