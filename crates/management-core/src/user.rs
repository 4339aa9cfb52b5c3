//! Staff users: the people who sign in to the back office.

use crate::error::{ManagementError, Result};
use crate::password_policy::check_password;
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, normalize_email, push_error};

/// A staff user as every surface shows it (never with the password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user with the stored password hash, for sign-in only.
#[derive(Debug, Clone, PartialEq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// What a caller gives to create a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<String>,
}

/// A validated user ready to store, with the password already hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub is_active: bool,
}

/// A partial change of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    pub email: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    /// The caller's current password, needed to change their own password or e-mail.
    pub current_password: Option<String>,
}

impl UserPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        UserPatch { current_password: None, ..self.clone() } == UserPatch::default()
    }
}

/// A validated change ready to store (password hashed, e-mail normalised).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

const MAX_NAME_LEN: usize = 150;

/// Trims a name part and checks its length.
pub(crate) fn clean_name(value: Option<&str>, field: &str, errors: &mut FieldErrors) -> Option<String> {
    let value = value?.trim().to_string();
    if value.chars().count() > MAX_NAME_LEN {
        push_error(errors, field, format!("Must be at most {MAX_NAME_LEN} characters."));
    }
    Some(value)
}

/// The validated, normalised fields of a new user, before hashing.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanNewUser {
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Option<String>,
}

impl NewUser {
    /// Normalises and validates; the display name defaults to first and last name, and
    /// first and last name default to the parts of the display name.
    pub fn validate(&self) -> Result<CleanNewUser> {
        let mut errors = FieldErrors::new();
        let email = normalize_email(&self.email).unwrap_or_else(|m| {
            push_error(&mut errors, "email", m);
            String::new()
        });
        check_password(&self.password, &email, &mut errors, "password");
        let name = clean_name(self.name.as_deref(), "name", &mut errors).unwrap_or_default();
        let first = clean_name(self.first_name.as_deref(), "first_name", &mut errors);
        let last = clean_name(self.last_name.as_deref(), "last_name", &mut errors);
        let (first_name, last_name) = match (first, last) {
            (None, None) => split_name(&name),
            (first, last) => (first.unwrap_or_default(), last.unwrap_or_default()),
        };
        let name = if name.is_empty() { join_name(&first_name, &last_name) } else { name };
        if name.is_empty() {
            push_error(&mut errors, "name", "A name (or first_name and last_name) is required.");
        }
        if let Some(err) = ManagementError::from_fields(errors) {
            return Err(err);
        }
        let role = self.role.as_deref().map(|r| r.trim().to_lowercase());
        Ok(CleanNewUser { email, name, first_name, last_name, role })
    }
}

/// Splits a display name into first name and the rest.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, rest)) => (first.to_string(), rest.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

/// Joins first and last name into a display name.
pub fn join_name(first: &str, last: &str) -> String {
    format!("{} {}", first.trim(), last.trim()).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(email: &str, password: &str, name: Option<&str>) -> NewUser {
        NewUser { email: email.into(), password: password.into(), name: name.map(Into::into), ..NewUser::default() }
    }

    #[test]
    fn names_are_derived_both_ways() {
        let clean = new_user(" A@B.uz ", "Samarkand-Blue-77", Some("Aziz Karimov")).validate().unwrap();
        assert_eq!(clean.email, "a@b.uz");
        assert_eq!((clean.first_name.as_str(), clean.last_name.as_str()), ("Aziz", "Karimov"));
        let mut other = new_user("a@b.uz", "Samarkand-Blue-77", None);
        other.first_name = Some("Jane".into());
        other.last_name = Some("Smith".into());
        assert_eq!(other.validate().unwrap().name, "Jane Smith");
    }

    #[test]
    fn invalid_input_names_every_field() {
        let err = new_user("nope", "short", None).validate().unwrap_err();
        match err {
            ManagementError::Validation { fields, .. } => {
                assert!(fields.contains_key("email"));
                assert!(fields.contains_key("password"));
                assert!(fields.contains_key("name"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
