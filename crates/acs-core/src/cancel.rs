//! Cooperative cancellation. A [`Cancel`] is a shared flag, with an optional deadline, that
//! long engine work checks between small steps (a file in a grep, a file in an index build,
//! a task in a plan), so that a Ctrl-C, a timeout or a spent budget stops it within a
//! fraction of a second. Work that sees it returns [`Error::Cancelled`]; nothing partial is
//! kept (a cancelled index build leaves the index unbuilt).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A cancellation token: cheap to clone, all clones share one flag.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    /// [`RUNNING`], or why it stopped: the first reason set wins, so the error names it
    /// however late it is read.
    state: Arc<AtomicU8>,
    deadline: Option<Instant>,
}

const RUNNING: u8 = 0;
const BY_CALLER: u8 = 1;
const BY_DEADLINE: u8 = 2;

impl Cancel {
    /// A token that is cancelled only by [`Cancel::cancel`].
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// A token that also counts as cancelled from `deadline` on.
    pub fn with_deadline(deadline: Instant) -> Cancel {
        Cancel {
            state: Arc::default(),
            deadline: Some(deadline),
        }
    }

    /// The same flag with a deadline (the earlier one if it already had one).
    pub fn until(&self, deadline: Instant) -> Cancel {
        Cancel {
            state: self.state.clone(),
            deadline: Some(self.deadline.map_or(deadline, |d| d.min(deadline))),
        }
    }

    /// Ask every holder of this token to stop.
    pub fn cancel(&self) {
        self.stop(BY_CALLER);
    }

    fn stop(&self, why: u8) {
        let _ = self
            .state
            .compare_exchange(RUNNING, why, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called or the deadline passed.
    pub fn is_cancelled(&self) -> bool {
        if self.state.load(Ordering::Relaxed) != RUNNING {
            return true;
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => {
                self.stop(BY_DEADLINE);
                true
            }
            _ => false,
        }
    }

    /// `Err(Error::Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    /// The error that cancelled work returns.
    pub fn error(&self) -> Error {
        self.is_cancelled(); // records a passed deadline as the reason, if none is yet
        let why = match self.state.load(Ordering::Relaxed) {
            BY_DEADLINE => "deadline passed",
            _ => "cancelled by the caller",
        };
        Error::Cancelled(why.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn clones_share_the_flag() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(b.check().is_ok());
        a.cancel();
        assert_eq!(b.check().unwrap_err().kind(), "cancelled");
    }

    #[test]
    fn a_deadline_cancels() {
        // Far enough that no pause of a busy machine reaches it.
        let later = Cancel::with_deadline(Instant::now() + Duration::from_secs(3600));
        assert!(!later.is_cancelled());
        let c = Cancel::with_deadline(Instant::now() + Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert!(c.is_cancelled());
        assert!(c.error().to_string().contains("deadline"));
    }

    #[test]
    fn the_first_reason_is_the_one_reported() {
        let c = Cancel::with_deadline(Instant::now() + Duration::from_millis(10));
        c.cancel();
        std::thread::sleep(Duration::from_millis(20));
        assert!(c.error().to_string().contains("caller"), "{}", c.error());
    }
}
