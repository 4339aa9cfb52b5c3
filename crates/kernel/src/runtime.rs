//! Values an operator may change while the server runs (system settings), read by the
//! adapters and use cases that honour them.

/// Current overrides of configured values, by setting key (`voice.budget_ms`, ...).
pub trait Overrides: Send + Sync {
    /// The integer stored under `key`, if an operator set one.
    fn int(&self, key: &str) -> Option<i64>;
}

/// No overrides: every value is the configured one.
pub struct NoOverrides;

impl Overrides for NoOverrides {
    fn int(&self, _key: &str) -> Option<i64> {
        None
    }
}
