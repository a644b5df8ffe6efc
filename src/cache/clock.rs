//! The cache's time. Every freshness decision takes `now` as a value; the
//! one place that reads it is [`Clock::now`], so that tests can move time
//! forward instead of sleeping past a `max-age`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `Instant::now()` plus an offset that only [`Clock::advance`] changes
/// (zero in production: one relaxed atomic load per reading).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_nanos: Arc<AtomicU64>,
}

impl Clock {
    pub fn now(&self) -> Instant {
        Instant::now() + Duration::from_nanos(self.offset_nanos.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::from_secs(60));
        assert!(other.now().duration_since(before) >= Duration::from_secs(60));
    }
}
