//! What the assistant remembers about a caller: the name they gave, notes about them, and a
//! bounded history of one-line summaries of past conversations.

use crate::error::{CallcenterError, Result};
use kernel::{FieldErrors, push_error};

/// A caller's memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiContext {
    pub known_name: Option<String>,
    pub personality_notes: Vec<String>,
    pub conversation_history: Vec<String>,
}

/// Longest name kept.
pub const MAX_NAME: usize = 100;
/// Most notes kept.
pub const MAX_NOTES: usize = 50;
/// Most history lines kept (older ones drop off).
pub const MAX_HISTORY: usize = 100;
/// Longest note or history line.
pub const MAX_LINE: usize = 500;

fn lines(values: Vec<String>, field: &str, max_items: usize, errors: &mut FieldErrors) -> Vec<String> {
    let values: Vec<String> = values.into_iter().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
    if values.len() > max_items {
        push_error(errors, field, format!("{field} may hold at most {max_items} entries."));
    }
    if values.iter().any(|v| v.chars().count() > MAX_LINE) {
        push_error(errors, field, format!("Each entry of {field} must be at most {MAX_LINE} characters."));
    }
    values
}

/// A change to a caller's memory, applied by the repository in one transaction so that
/// concurrent conversations do not lose each other's lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryChange {
    /// A name the caller stated: replaces the known one.
    pub name: Option<String>,
    /// A name the client gave: kept only when none is known.
    pub name_if_unknown: Option<String>,
    /// A history line to add.
    pub line: Option<String>,
}

impl MemoryChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.name_if_unknown.is_none() && self.line.is_none()
    }
}

impl AiContext {
    /// Applies `change` (the history stays bounded).
    pub fn apply(&mut self, change: &MemoryChange) {
        if let Some(name) = &change.name {
            self.known_name = Some(name.clone());
        } else if self.known_name.is_none() {
            self.known_name = change.name_if_unknown.clone();
        }
        if let Some(line) = &change.line {
            self.remember(line.clone());
        }
    }

    /// Trims, drops blank entries, and checks the bounds (field names as the client sends them).
    pub fn validated(self) -> Result<AiContext> {
        let mut errors = FieldErrors::new();
        let known_name = self.known_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if known_name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
            push_error(&mut errors, "knownName", format!("knownName must be at most {MAX_NAME} characters."));
        }
        let personality_notes = lines(self.personality_notes, "personalityNotes", MAX_NOTES, &mut errors);
        let conversation_history = lines(self.conversation_history, "conversationHistory", MAX_HISTORY, &mut errors);
        CallcenterError::check(errors)?;
        Ok(AiContext { known_name, personality_notes, conversation_history })
    }

    /// Adds a history line, forgetting the oldest beyond [`MAX_HISTORY`].
    pub fn remember(&mut self, line: String) {
        self.conversation_history.push(line.chars().take(MAX_LINE).collect());
        let excess = self.conversation_history.len().saturating_sub(MAX_HISTORY);
        self.conversation_history.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_tidied_and_bounded() {
        let ctx = AiContext {
            known_name: Some("  Moychechak ".into()),
            personality_notes: vec![" Grantlarga qiziqadi ".into(), "  ".into()],
            conversation_history: vec![],
        }
        .validated()
        .unwrap();
        assert_eq!(ctx.known_name.as_deref(), Some("Moychechak"));
        assert_eq!(ctx.personality_notes, ["Grantlarga qiziqadi"]);
        let too_many = AiContext { personality_notes: vec!["x".into(); 51], ..Default::default() }.validated();
        assert!(
            matches!(too_many, Err(CallcenterError::Validation { fields, .. }) if fields.contains_key("personalityNotes"))
        );
        let mut ctx = AiContext::default();
        for i in 0..105 {
            ctx.remember(format!("line {i}"));
        }
        assert_eq!(ctx.conversation_history.len(), MAX_HISTORY);
        assert_eq!(ctx.conversation_history[0], "line 5");
    }
}
