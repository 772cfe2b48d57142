//! A capacity budget shared by a transfer's concurrent requests: after
//! spending `units`, a request waits until the budget's rate allows them.
//! DynamoDB reports what a request consumed (`ReturnConsumedCapacity`);
//! where an endpoint does not, the caller's estimate is used.

use std::time::Duration;

use tokio::{sync::Mutex, time::Instant};

pub struct Budget {
    per_second: Option<f64>,
    /// When the units spent so far are paid off.
    paid_until: Mutex<Instant>,
}

/// When `units` more are paid off at `rate` per second, the earlier ones
/// being paid off at `paid_until`. Idle time is not saved up: a pause does
/// not buy a burst afterwards.
fn paid_off(paid_until: Instant, now: Instant, units: f64, rate: f64) -> Instant {
    paid_until.max(now) + Duration::from_secs_f64(units.max(0.0) / rate)
}

impl Budget {
    /// `None`: no limit.
    pub fn new(per_second: Option<u32>) -> Self {
        Self {
            per_second: per_second.map(f64::from),
            paid_until: Mutex::new(Instant::now()),
        }
    }

    /// Spends `units` and waits until the rate has paid for them.
    pub async fn spend(&self, units: f64) {
        let Some(rate) = self.per_second else {
            return;
        };
        let until = {
            let mut paid = self.paid_until.lock().await;
            *paid = paid_off(*paid, Instant::now(), units, rate);
            *paid
        };
        tokio::time::sleep_until(until).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_paid_off_at_the_rate_and_idle_time_is_not_saved_up() {
        let start = Instant::now();
        let ms = |n: u64| Duration::from_millis(n);
        let after_five = paid_off(start, start, 5.0, 10.0);
        assert_eq!(after_five - start, ms(500));
        // Spent again before the first is paid off: queued behind it.
        let after_ten_more = paid_off(after_five, start + ms(100), 10.0, 10.0);
        assert_eq!(after_ten_more - start, ms(1500));
        // Ten idle seconds later: one unit costs its 100 ms, no less.
        let idle = start + Duration::from_secs(12);
        assert_eq!(paid_off(after_ten_more, idle, 1.0, 10.0) - idle, ms(100));
        assert_eq!(paid_off(idle, idle, -3.0, 10.0), idle, "nothing to pay");
    }

    #[test]
    fn without_a_rate_spending_never_waits() {
        use futures_util::FutureExt;
        let spent = Budget::new(None).spend(1e12).now_or_never();
        assert!(spent.is_some(), "done at the first poll");
    }
}
