//! Slots for heavy blocking work (password hashes, photo decodes): at most a
//! fixed number run at once on the blocking pool, and the rest wait their
//! turn without holding a thread. A flood then queues instead of taking
//! every core, or every megabyte, from the rest of the process.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Why work given to [`Slots::run`] did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error("the slots are closed")]
    Closed,
    #[error("the blocking work did not finish: {0}")]
    Blocking(#[from] actix_web::error::BlockingError),
}

/// A fixed number of slots, shared by every caller of one kind of work.
pub struct Slots {
    semaphore: Arc<Semaphore>,
    count: usize,
}

impl Slots {
    /// `count` slots (at least one).
    pub fn new(count: usize) -> Self {
        let count = count.max(1);
        Self {
            semaphore: Arc::new(Semaphore::new(count)),
            count,
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Runs `work` on the blocking pool once a slot is free. The slot goes
    /// with the work, so a caller dropped meanwhile (a client that left, a
    /// job cancelled) frees it only when the work is done, never while it
    /// still runs.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SlotError> {
        let slot = self
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SlotError::Closed)?;
        Ok(actix_web::web::block(move || {
            let _slot = slot;
            work()
        })
        .await?)
    }
}

/// The cores this process may use, at least one.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[actix_web::test]
    async fn no_more_run_at_once_than_there_are_slots() {
        let slots = Slots::new(2);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let calls = (0..8).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            slots.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(30));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        let done = futures_util::future::join_all(calls).await;
        assert!(done.iter().all(Result::is_ok));
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} at once with 2 slots");
    }
}
