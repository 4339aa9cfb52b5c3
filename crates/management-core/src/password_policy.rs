//! What a new password must be: at least 10 characters, not one of the 10,000 most common
//! passwords, and not built on the user's e-mail name. The same rule on registration, user
//! creation and every password change.

use kernel::{FieldErrors, push_error};
use std::collections::HashSet;
use std::sync::LazyLock;

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest accepted password (argon2 input stays bounded).
pub const MAX_PASSWORD_LEN: usize = 128;

/// The bundled list, lower-case, most common first (`data/common-passwords.txt`).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt").lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
});

/// Whether `password` is one of the most common passwords (compared case-insensitively).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.trim().to_lowercase().as_str())
}

/// Checks a new password for the user with `email`, adding messages under `field`.
pub fn check_password(password: &str, email: &str, errors: &mut FieldErrors, field: &str) {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        push_error(errors, field, format!("This password is too short: use at least {MIN_PASSWORD_LEN} characters."));
        return;
    }
    if len > MAX_PASSWORD_LEN {
        push_error(errors, field, format!("Password must be at most {MAX_PASSWORD_LEN} characters."));
        return;
    }
    if is_common(password) {
        push_error(errors, field, "This password is too common: choose one that is harder to guess.");
        return;
    }
    let local = email.trim().split('@').next().unwrap_or_default().to_lowercase();
    if local.chars().count() >= 3 && password.to_lowercase().contains(&local) {
        push_error(errors, field, "The password must not contain the name of your e-mail address.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(password: &str, email: &str) -> bool {
        let mut errors = FieldErrors::new();
        check_password(password, email, &mut errors, "password");
        !errors.is_empty()
    }

    #[test]
    fn weak_passwords_are_refused() {
        for weak in ["password", "12345678", "short", "password123", "PASSWORD1234", "qwertyuiop", "1234567890"] {
            assert!(refused(weak, "aziz@demo.uz"), "{weak} should be refused");
        }
        assert!(refused("aziz.karimov-2026", "Aziz.Karimov@demo.uz"), "built on the e-mail name");
        assert!(refused(&"x".repeat(129), "a@b.uz"));
        assert!(!refused("Tashkent-Sunrise-2026", "aziz@demo.uz"));
        assert!(!refused("correct horse battery", "ab@demo.uz"), "a two-letter e-mail name is not checked");
        assert!(COMMON.len() >= 9_900);
    }
}
