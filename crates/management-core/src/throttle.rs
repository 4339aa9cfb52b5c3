//! Throttling of failed sign-ins per account and per client address.

use crate::error::{ManagementError, Result};
use crate::ports::LoginAttemptRepository;
use chrono::{DateTime, Duration, Utc};

/// How many failures are tolerated in a sliding window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottlePolicy {
    pub max_per_account: u64,
    pub max_per_ip: u64,
    pub window: Duration,
}

/// Storage key for an account's failures.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// Storage key for a client address's failures.
pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

impl ThrottlePolicy {
    /// Refuses with [`ManagementError::Throttled`] while a key is over its limit. The window
    /// slides: the oldest failure leaving it frees the key, so nobody can lock an account forever.
    pub async fn check(
        &self,
        attempts: &dyn LoginAttemptRepository,
        email: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let since = now - self.window;
        for (key, max) in [(account_key(email), self.max_per_account), (ip_key(ip), self.max_per_ip)] {
            let (count, oldest) = attempts.failures_since(&key, since).await?;
            if count >= max {
                let free_at = oldest.unwrap_or(now) + self.window;
                let retry_after_secs = (free_at - now).num_seconds().max(1) as u64;
                return Err(ManagementError::Throttled { retry_after_secs });
            }
        }
        Ok(())
    }

    /// Records a failure against both keys.
    pub async fn record_failure(
        &self,
        attempts: &dyn LoginAttemptRepository,
        email: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        attempts.record_failure(&account_key(email), now).await?;
        attempts.record_failure(&ip_key(ip), now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockLoginAttemptRepository;
    use mockall::predicate::eq;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy { max_per_account: 3, max_per_ip: 10, window: Duration::minutes(15) }
    }

    #[tokio::test]
    async fn over_the_account_limit_is_throttled_until_the_oldest_failure_leaves_the_window() {
        let now = Utc::now();
        let mut repo = MockLoginAttemptRepository::new();
        repo.expect_failures_since()
            .with(eq("account:a@b.uz".to_string()), eq(now - Duration::minutes(15)))
            .returning(move |_, _| Ok((3, Some(now - Duration::minutes(10)))));
        let err = policy().check(&repo, "a@b.uz", "1.2.3.4", now).await.unwrap_err();
        assert_eq!(err, ManagementError::Throttled { retry_after_secs: 300 });
    }

    #[tokio::test]
    async fn under_the_limits_passes() {
        let mut repo = MockLoginAttemptRepository::new();
        repo.expect_failures_since().times(2).returning(|_, _| Ok((2, None)));
        assert!(policy().check(&repo, "a@b.uz", "1.2.3.4", Utc::now()).await.is_ok());
    }
}
