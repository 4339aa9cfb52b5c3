//! The knowledge base: questions with answers (Q&A) and the topics calls are filed under.

use crate::error::{CallcenterError, Result};
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, push_error};

/// A question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Qa {
    pub id: i64,
    pub title: String,
    pub answer: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Fields of a Q&A entry; on update, absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QaInput {
    pub title: Option<String>,
    pub answer: Option<String>,
}

/// A topic calls and chats are filed under.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: i64,
    pub name: String,
}

const MAX_TITLE: usize = 500;
const MAX_ANSWER: usize = 20_000;
const MAX_TOPIC: usize = 100;

fn text(value: Option<&str>, field: &str, max: usize, required: bool, errors: &mut FieldErrors) -> Option<String> {
    match value.map(str::trim) {
        None if required => {
            push_error(errors, field, format!("{field} is required."));
            None
        }
        None => None,
        Some("") => {
            push_error(errors, field, format!("{field} cannot be empty."));
            None
        }
        Some(v) if v.chars().count() > max => {
            push_error(errors, field, format!("{field} must be at most {max} characters."));
            None
        }
        Some(v) => Some(v.to_string()),
    }
}

impl QaInput {
    /// Both fields required, trimmed, bounded.
    pub fn validate_new(&self) -> Result<(String, String)> {
        let mut errors = FieldErrors::new();
        let title = text(self.title.as_deref(), "title", MAX_TITLE, true, &mut errors);
        let answer = text(self.answer.as_deref(), "answer", MAX_ANSWER, true, &mut errors);
        CallcenterError::check(errors)?;
        Ok((title.unwrap_or_default(), answer.unwrap_or_default()))
    }

    /// The given fields, trimmed and bounded; at least one.
    pub fn validate_change(&self) -> Result<QaInput> {
        let mut errors = FieldErrors::new();
        let title = text(self.title.as_deref(), "title", MAX_TITLE, false, &mut errors);
        let answer = text(self.answer.as_deref(), "answer", MAX_ANSWER, false, &mut errors);
        if self.title.is_none() && self.answer.is_none() {
            push_error(&mut errors, "title", "Give title or answer to change.");
        }
        CallcenterError::check(errors)?;
        Ok(QaInput { title, answer })
    }
}

/// A topic name: trimmed, inner spaces collapsed, 1 to 100 characters.
pub fn topic_name(raw: Option<&str>) -> Result<String> {
    let name = raw.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
    let mut errors = FieldErrors::new();
    if name.is_empty() {
        push_error(&mut errors, "name", "name is required.");
    } else if name.chars().count() > MAX_TOPIC {
        push_error(&mut errors, "name", format!("name must be at most {MAX_TOPIC} characters."));
    }
    CallcenterError::check(errors)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qa_validation() {
        let ok = QaInput { title: Some(" Grant? ".into()), answer: Some("Yes.".into()) }.validate_new().unwrap();
        assert_eq!(ok, ("Grant?".into(), "Yes.".into()));
        let CallcenterError::Validation { fields, .. } = QaInput::default().validate_new().unwrap_err() else {
            panic!()
        };
        assert!(fields.contains_key("title") && fields.contains_key("answer"));
        assert!(QaInput::default().validate_change().is_err());
        assert!(QaInput { title: Some(" ".into()), answer: None }.validate_change().is_err());
    }

    #[test]
    fn topic_names_are_tidied() {
        assert_eq!(topic_name(Some("  Ta'lim   dasturlari ")).unwrap(), "Ta'lim dasturlari");
        assert!(topic_name(Some("   ")).is_err());
        assert!(topic_name(None).is_err());
    }
}
