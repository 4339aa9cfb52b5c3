//! Twilio adapter behind `callcenter-core`'s telephony port: Voice SDK access tokens.

pub mod voice_token;

pub use voice_token::{TwilioCredentials, TwilioVoiceTokens};
