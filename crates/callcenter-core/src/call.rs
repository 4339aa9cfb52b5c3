//! Calls: inbound and outbound voice calls with their outcome, transcript and AI notes.

use crate::chat::Role;
use crate::error::{CallcenterError, Result};
use crate::responder::Analysis;
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, normalize_phone, push_error};

/// Where a call stands. `Processing` covers queued, ringing and in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    Processing,
    Completed,
    Missed,
    Failed,
}

impl CallStatus {
    pub const ALL: [CallStatus; 4] =
        [CallStatus::Processing, CallStatus::Completed, CallStatus::Missed, CallStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Processing => "processing",
            CallStatus::Completed => "completed",
            CallStatus::Missed => "missed",
            CallStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<CallStatus> {
        CallStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the call is over (no later status may replace it).
    pub fn is_final(self) -> bool {
        self != CallStatus::Processing
    }

    /// A telephony provider's call status (`queued`, `ringing`, `in-progress`, `completed`,
    /// `busy`, `no-answer`, `canceled`, `failed`) in our terms.
    pub fn from_provider(s: &str) -> Option<CallStatus> {
        match s {
            "queued" | "initiated" | "ringing" | "in-progress" | "answered" => Some(CallStatus::Processing),
            "completed" => Some(CallStatus::Completed),
            "busy" | "no-answer" | "canceled" => Some(CallStatus::Missed),
            "failed" => Some(CallStatus::Failed),
            _ => None,
        }
    }
}

/// `inbound` or `outbound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// How the caller felt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sentiment {
    Positive,
    #[default]
    Neutral,
    Negative,
}

impl Sentiment {
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }

    /// Unknown values read as neutral.
    pub fn parse(s: &str) -> Sentiment {
        match s {
            "positive" => Sentiment::Positive,
            "negative" => Sentiment::Negative,
            _ => Sentiment::Neutral,
        }
    }
}

/// A call. Ids are opaque strings with the `call_` prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: String,
    /// The caller (`u_…`) on the other end.
    pub caller_id: String,
    /// The other end's number, E.164.
    pub number: String,
    pub direction: Direction,
    pub status: CallStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_sec: Option<i64>,
    pub operator_name: Option<String>,
    pub recording_url: Option<String>,
    pub transcript: String,
    pub ai_summary: String,
    pub sentiment: Sentiment,
    pub tags: Vec<String>,
    pub topic: Option<String>,
    /// Whether the caller was handed over to a human.
    pub escalated: bool,
    /// The assistant session of an AI call (transcript chunks must name it).
    pub session_id: Option<String>,
}

/// What a call list is narrowed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    /// Case-insensitive substring of number, caller name, topic, summary, tags or operator.
    pub query: Option<String>,
    pub status: Option<CallStatus>,
    /// Exact E.164 number.
    pub number: Option<String>,
}

/// A call record about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCall {
    pub caller_id: String,
    pub number: String,
    pub direction: Direction,
    pub operator_name: Option<String>,
    /// The voice model and its settings, for an AI call.
    pub model: Option<String>,
    pub prompt: Option<String>,
    pub options: Option<VoiceOptions>,
    /// Whether the assistant takes part (the record gets a new `session_` id).
    pub ai_session: bool,
}

/// Voice settings of an AI call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoiceOptions {
    /// Background noise on (1) or off (0).
    pub noise: i64,
    pub noise_gain: f64,
    pub speed: f64,
}

/// A request to place an outbound AI voice call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoipCallInput {
    pub model: Option<String>,
    pub target_number: Option<String>,
    pub prompt: Option<String>,
    pub noise: Option<i64>,
    pub noise_gain: Option<f64>,
    pub speed: Option<f64>,
}

/// A validated outbound AI call.
#[derive(Debug, Clone, PartialEq)]
pub struct VoipCall {
    pub model: String,
    /// E.164.
    pub target_number: String,
    pub prompt: Option<String>,
    pub options: VoiceOptions,
}

impl VoipCallInput {
    /// `model` and `targetNumber` are required; the number must be a phone number; the voice
    /// settings default to noise 1, gain 0.15, speed 1.0 and are bounded.
    pub fn validate(&self) -> Result<VoipCall> {
        let mut errors = FieldErrors::new();
        let model = match self.model.as_deref().map(str::trim) {
            None | Some("") => {
                push_error(&mut errors, "model", "model is required.");
                None
            }
            Some(m) if m.chars().count() > 100 => {
                push_error(&mut errors, "model", "model must be at most 100 characters.");
                None
            }
            Some(m) => Some(m.to_string()),
        };
        let target_number = match self.target_number.as_deref().map(str::trim) {
            None | Some("") => {
                push_error(&mut errors, "targetNumber", "targetNumber is required.");
                None
            }
            Some(n) => normalize_phone(n).map_err(|m| push_error(&mut errors, "targetNumber", m)).ok(),
        };
        let prompt = self.prompt.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
        if prompt.as_ref().is_some_and(|p| p.chars().count() > 10_000) {
            push_error(&mut errors, "prompt", "prompt must be at most 10000 characters.");
        }
        let noise = self.noise.unwrap_or(1);
        if !(0..=1).contains(&noise) {
            push_error(&mut errors, "noise", "noise must be 0 or 1.");
        }
        let noise_gain = self.noise_gain.unwrap_or(0.15);
        if !(0.0..=1.0).contains(&noise_gain) {
            push_error(&mut errors, "noiseGain", "noiseGain must be between 0 and 1.");
        }
        let speed = self.speed.unwrap_or(1.0);
        if !(0.5..=2.0).contains(&speed) {
            push_error(&mut errors, "speed", "speed must be between 0.5 and 2.0.");
        }
        CallcenterError::check(errors)?;
        Ok(VoipCall {
            model: model.unwrap_or_default(),
            target_number: target_number.unwrap_or_default(),
            prompt,
            options: VoiceOptions { noise, noise_gain, speed },
        })
    }
}

/// A status report from the telephony provider about one call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderReport {
    /// Our call id (from the callback URL), when known.
    pub call_id: Option<String>,
    /// The provider's id of the call.
    pub provider_sid: Option<String>,
    /// The provider's status word (see [`CallStatus::from_provider`]).
    pub status: Option<String>,
    pub duration_sec: Option<i64>,
    pub recording_url: Option<String>,
}

/// A validated change of a call's state from a provider report.
#[derive(Debug, Clone, PartialEq)]
pub struct CallProgress {
    pub provider_sid: Option<String>,
    pub status: Option<CallStatus>,
    /// Whether the call was answered with this report (`in-progress`).
    pub answered: bool,
    pub duration_sec: Option<i64>,
    pub recording_url: Option<String>,
    pub at: DateTime<Utc>,
    /// Summary, sentiment, tags and topic, stored when the call becomes final.
    pub analysis: Option<Analysis>,
}

impl ProviderReport {
    /// Validates the report; unknown statuses and negative durations are refused.
    pub fn progress(&self, at: DateTime<Utc>) -> Result<CallProgress> {
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                CallStatus::from_provider(s)
                    .ok_or_else(|| CallcenterError::field("CallStatus", format!("Unknown call status '{s}'.")))?,
            ),
        };
        if self.duration_sec.is_some_and(|d| d < 0) {
            return Err(CallcenterError::field("CallDuration", "CallDuration cannot be negative."));
        }
        let recording_url =
            self.recording_url.clone().filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        Ok(CallProgress {
            provider_sid: self.provider_sid.clone().filter(|s| !s.is_empty()),
            status,
            answered: self.status.as_deref() == Some("in-progress"),
            duration_sec: self.duration_sec,
            recording_url,
            at,
            analysis: None,
        })
    }
}

/// The turns of a transcript written as `Speaker: text` lines: callers (`User`, `Caller`,
/// `Mijoz`, `Foydalanuvchi`) are `user`, the assistant and operators `ai`; other lines
/// continue the previous turn (or are `system` at the start).
pub fn transcript_turns(transcript: &str) -> Vec<(Role, String)> {
    let mut turns: Vec<(Role, String)> = Vec::new();
    for line in transcript.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let speaker = line.split_once(':').and_then(|(who, text)| {
            let role = match who.trim().to_lowercase().as_str() {
                "user" | "caller" | "customer" | "mijoz" | "foydalanuvchi" => Role::User,
                "ai" | "assistant" | "bot" | "operator" | "agent" => Role::Ai,
                _ => return None,
            };
            Some((role, text.trim().to_string()))
        });
        match (speaker, turns.last_mut()) {
            (Some(turn), _) => turns.push(turn),
            (None, Some((_, text))) => {
                text.push('\n');
                text.push_str(line);
            }
            (None, None) => turns.push((Role::System, line.to_string())),
        }
    }
    turns
}

/// The description of the CRM activity a finished call leaves on its customer.
pub fn activity_description(call: &Call) -> String {
    let direction = match call.direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    };
    let mut text = format!("{direction} call with {} ({})", call.number, call.status.as_str());
    if let Some(d) = call.duration_sec {
        text.push_str(&format!(", {}m {:02}s", d / 60, d % 60));
    }
    if !call.ai_summary.is_empty() {
        text.push_str(": ");
        text.extend(call.ai_summary.chars().take(2000));
    }
    text
}

/// `all`, empty or absent mean any status; otherwise one of [`CallStatus`].
pub fn call_status_filter(status: Option<&str>) -> Result<Option<CallStatus>> {
    match status.map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some(s) => CallStatus::parse(s).map(Some).ok_or_else(|| {
            CallcenterError::field(
                "status",
                format!("status must be processing, completed, missed, failed or all, not '{s}'."),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voip_calls_need_a_model_and_a_real_number() {
        let ok = VoipCallInput {
            model: Some("gpt-voice".into()),
            target_number: Some("90 123 45 67".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.target_number, "+998901234567");
        assert_eq!(ok.options, VoiceOptions { noise: 1, noise_gain: 0.15, speed: 1.0 });
        let Err(CallcenterError::Validation { fields, .. }) =
            VoipCallInput { target_number: Some("12".into()), speed: Some(9.0), ..Default::default() }.validate()
        else {
            panic!("expected a validation error")
        };
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["model", "speed", "targetNumber"]);
    }

    #[test]
    fn transcripts_split_into_turns() {
        let turns =
            transcript_turns("Operator: Salom, qanday yordam?\nUser: Grantlar haqida\nva imtihonlar\n\nAI: Albatta");
        assert_eq!(
            turns,
            [
                (Role::Ai, "Salom, qanday yordam?".to_string()),
                (Role::User, "Grantlar haqida\nva imtihonlar".to_string()),
                (Role::Ai, "Albatta".to_string())
            ]
        );
        assert_eq!(transcript_turns("no speaker"), [(Role::System, "no speaker".to_string())]);
    }

    #[test]
    fn provider_statuses_map_onto_ours() {
        assert_eq!(CallStatus::from_provider("ringing"), Some(CallStatus::Processing));
        assert_eq!(CallStatus::from_provider("no-answer"), Some(CallStatus::Missed));
        assert_eq!(CallStatus::from_provider("busy"), Some(CallStatus::Missed));
        assert_eq!(CallStatus::from_provider("failed"), Some(CallStatus::Failed));
        assert_eq!(CallStatus::from_provider("weird"), None);
        let report = ProviderReport { status: Some("weird".into()), ..Default::default() };
        assert!(report.progress(Utc::now()).is_err());
        let report = ProviderReport {
            status: Some("in-progress".into()),
            recording_url: Some("javascript:alert(1)".into()),
            ..Default::default()
        };
        let p = report.progress(Utc::now()).unwrap();
        assert!(p.answered && p.recording_url.is_none());
    }
}
