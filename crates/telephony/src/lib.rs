//! Twilio adapter behind `callcenter-core`'s telephony ports: Voice SDK access tokens,
//! outbound calls over the REST API, and signed status callbacks.

pub mod calls;
pub mod voice_token;

pub use calls::{TwilioCalls, TwilioVoiceSettings};
pub use voice_token::{TwilioCredentials, TwilioVoiceTokens};
