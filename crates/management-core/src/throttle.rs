//! Throttling of failed sign-ins, so that nobody can guess a password and nobody can lock
//! a stranger out of their account.
//!
//! - Per address: too many failures from one address (any accounts) block that address.
//! - Per account and address: too many failures for one account from one address block that
//!   pair, and only that pair; the owner elsewhere is not affected.
//! - Per account, everywhere: past the same number of failures from all addresses together,
//!   each further attempt from an address the account has never signed in from must wait a
//!   short, growing delay (at most `max_delay`) after the latest failure. Guessing slows to a
//!   crawl while the owner, from a known address at once or from a new one after the delay,
//!   still gets in with the right password.

use crate::error::{ManagementError, Result};
use crate::ports::{Failures, LoginAttemptRepository};
use chrono::{DateTime, Duration, Utc};

/// How many failures are tolerated in a sliding window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottlePolicy {
    /// Failures per account and address, and per account before the delay starts.
    pub max_per_account: u64,
    /// Failures per address, whatever the accounts.
    pub max_per_ip: u64,
    pub window: Duration,
    /// The longest delay an account-wide run of failures imposes on new addresses.
    pub max_delay: Duration,
}

/// Storage key for an account's failures from anywhere.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// Storage key for an account's failures from one address.
pub fn pair_key(email: &str, ip: &str) -> String {
    format!("account:{email}|ip:{ip}")
}

/// Storage key for a client address's failures.
pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

fn throttled(until: DateTime<Utc>, now: DateTime<Utc>) -> ManagementError {
    ManagementError::Throttled { retry_after_secs: (until - now).num_seconds().max(1) as u64 }
}

impl ThrottlePolicy {
    /// The delay after the latest failure once an account has `count` failures in the window.
    pub fn account_delay(&self, count: u64) -> Duration {
        if count < self.max_per_account {
            return Duration::zero();
        }
        let doublings = (count - self.max_per_account).min(20) as u32;
        Duration::seconds(1i64 << doublings).min(self.max_delay)
    }

    /// Refuses with [`ManagementError::Throttled`] while the address, the account at this
    /// address, or (for an address the account never signed in from) the account's delay
    /// holds. The windows slide: failures age out, so nothing is locked for ever.
    pub async fn check(
        &self,
        attempts: &dyn LoginAttemptRepository,
        email: &str,
        ip: &str,
        known_address: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let since = now - self.window;
        for (key, max) in [(ip_key(ip), self.max_per_ip), (pair_key(email, ip), self.max_per_account)] {
            let Failures { count, oldest, .. } = attempts.failures_since(&key, since).await?;
            if count >= max {
                return Err(throttled(oldest.unwrap_or(now) + self.window, now));
            }
        }
        if !known_address {
            let Failures { count, newest, .. } = attempts.failures_since(&account_key(email), since).await?;
            let until = newest.unwrap_or(now) + self.account_delay(count);
            if until > now {
                return Err(throttled(until, now));
            }
        }
        Ok(())
    }

    /// Records a failure against the address, the account at the address, and the account.
    /// Returns whether this failure locked the pair or the address (worth a log line).
    pub async fn record_failure(
        &self,
        attempts: &dyn LoginAttemptRepository,
        email: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let since = now - self.window;
        let mut locked = false;
        for (key, max) in [(pair_key(email, ip), self.max_per_account), (ip_key(ip), self.max_per_ip)] {
            attempts.record_failure(&key, now).await?;
            locked |= attempts.failures_since(&key, since).await?.count == max;
        }
        attempts.record_failure(&account_key(email), now).await?;
        Ok(locked)
    }

    /// Forgets the account's failures after a successful sign-in.
    pub async fn succeeded(&self, attempts: &dyn LoginAttemptRepository, email: &str, ip: &str) -> Result<()> {
        attempts.clear(&pair_key(email, ip)).await?;
        attempts.clear(&account_key(email)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockLoginAttemptRepository;
    use mockall::predicate::eq;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            max_per_account: 3,
            max_per_ip: 10,
            window: Duration::minutes(15),
            max_delay: Duration::seconds(60),
        }
    }

    fn failures(count: u64, oldest: Option<DateTime<Utc>>, newest: Option<DateTime<Utc>>) -> Failures {
        Failures { count, oldest, newest }
    }

    #[tokio::test]
    async fn the_failing_address_is_locked_for_the_account_until_its_failures_age_out() {
        let now = Utc::now();
        let mut repo = MockLoginAttemptRepository::new();
        repo.expect_failures_since()
            .with(eq("ip:1.2.3.4".to_string()), eq(now - Duration::minutes(15)))
            .returning(|_, _| Ok(failures(3, None, None)));
        repo.expect_failures_since()
            .with(eq("account:a@b.uz|ip:1.2.3.4".to_string()), eq(now - Duration::minutes(15)))
            .returning(move |_, _| Ok(failures(3, Some(now - Duration::minutes(10)), Some(now))));
        let err = policy().check(&repo, "a@b.uz", "1.2.3.4", true, now).await.unwrap_err();
        assert_eq!(err, ManagementError::Throttled { retry_after_secs: 300 });
    }

    #[tokio::test]
    async fn other_addresses_only_wait_a_short_delay_and_known_ones_none() {
        let now = Utc::now();
        let mut repo = MockLoginAttemptRepository::new();
        repo.expect_failures_since()
            .with(eq("ip:5.6.7.8".to_string()), eq(now - Duration::minutes(15)))
            .returning(|_, _| Ok(failures(0, None, None)));
        repo.expect_failures_since()
            .with(eq("account:a@b.uz|ip:5.6.7.8".to_string()), eq(now - Duration::minutes(15)))
            .returning(|_, _| Ok(failures(0, None, None)));
        repo.expect_failures_since()
            .with(eq("account:a@b.uz".to_string()), eq(now - Duration::minutes(15)))
            .times(1)
            .returning(move |_, _| Ok(failures(50, Some(now), Some(now - Duration::seconds(20)))));
        let err = policy().check(&repo, "a@b.uz", "5.6.7.8", false, now).await.unwrap_err();
        assert_eq!(err, ManagementError::Throttled { retry_after_secs: 40 }, "at most a minute after the latest");
        assert!(policy().check(&repo, "a@b.uz", "5.6.7.8", true, now).await.is_ok(), "a known address is not delayed");
    }

    #[test]
    fn the_account_delay_grows_and_is_capped() {
        let p = policy();
        assert_eq!(p.account_delay(2), Duration::zero());
        assert_eq!(p.account_delay(3), Duration::seconds(1));
        assert_eq!(p.account_delay(6), Duration::seconds(8));
        assert_eq!(p.account_delay(1000), Duration::seconds(60));
    }
}
