//! Twilio Voice access tokens: HS256 JWTs signed with an API key secret, carrying a voice grant.

use callcenter_core::ports::VoiceTokenIssuer;
use callcenter_core::{CallcenterError, Result, VoiceToken};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;

/// The Twilio keys a Voice token needs (each from its own setting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
    pub twiml_app_sid: String,
}

impl TwilioCredentials {
    /// The settings still missing, by their environment names.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("TWILIO_ACCOUNT_SID", &self.account_sid),
            ("TWILIO_API_KEY_SID", &self.api_key_sid),
            ("TWILIO_API_KEY_SECRET", &self.api_key_secret),
            ("TWILIO_TWIML_APP_SID", &self.twiml_app_sid),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect()
    }
}

/// Issues Voice tokens, or refuses with `Unavailable` naming the missing settings.
pub struct TwilioVoiceTokens {
    credentials: TwilioCredentials,
    ttl_secs: i64,
}

impl TwilioVoiceTokens {
    pub fn new(credentials: TwilioCredentials, ttl_secs: i64) -> Self {
        TwilioVoiceTokens { credentials, ttl_secs: ttl_secs.clamp(60, 86_400) }
    }
}

#[derive(Serialize)]
struct Incoming {
    allow: bool,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    application_sid: &'a str,
}

#[derive(Serialize)]
struct VoiceGrant<'a> {
    incoming: Incoming,
    outgoing: Outgoing<'a>,
}

#[derive(Serialize)]
struct Grants<'a> {
    identity: &'a str,
    voice: VoiceGrant<'a>,
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: String,
    iss: &'a str,
    sub: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    grants: Grants<'a>,
}

impl VoiceTokenIssuer for TwilioVoiceTokens {
    fn issue(&self, identity: &str) -> Result<VoiceToken> {
        let missing = self.credentials.missing();
        if !missing.is_empty() {
            return Err(CallcenterError::Unavailable(format!("Twilio is not configured: set {}.", missing.join(", "))));
        }
        let c = &self.credentials;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            jti: format!("{}-{now}", c.api_key_sid),
            iss: &c.api_key_sid,
            sub: &c.account_sid,
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            grants: Grants {
                identity,
                voice: VoiceGrant {
                    incoming: Incoming { allow: true },
                    outgoing: Outgoing { application_sid: &c.twiml_app_sid },
                },
            },
        };
        let mut header = Header::new(Algorithm::HS256);
        header.cty = Some("twilio-fpa;v=1".into());
        let token = encode(&header, &claims, &EncodingKey::from_secret(c.api_key_secret.as_bytes()))
            .map_err(|e| CallcenterError::Internal(format!("signing the Twilio token: {e}")))?;
        Ok(VoiceToken { token, expires_in: self.ttl_secs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    fn credentials() -> TwilioCredentials {
        TwilioCredentials {
            account_sid: "ACxxxxxxxx".into(),
            api_key_sid: "SKyyyyyyyy".into(),
            api_key_secret: "secret".into(),
            twiml_app_sid: "APzzzzzzzz".into(),
        }
    }

    #[test]
    fn tokens_carry_the_voice_grant_signed_with_the_key_secret() {
        let issued = TwilioVoiceTokens::new(credentials(), 3600).issue("demo_operator_7").unwrap();
        assert_eq!(issued.expires_in, 3600);
        let header = decode_header(&issued.token).unwrap();
        assert_eq!(header.cty.as_deref(), Some("twilio-fpa;v=1"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        let claims: serde_json::Value =
            decode(&issued.token, &DecodingKey::from_secret(b"secret"), &validation).unwrap().claims;
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["jti"], serde_json::json!(format!("SKyyyyyyyy-{iat}")));
        assert_eq!(claims["iss"], "SKyyyyyyyy");
        assert_eq!(claims["sub"], "ACxxxxxxxx");
        assert_eq!(claims["exp"].as_i64().unwrap() - iat, 3600);
        assert_eq!(claims["grants"]["identity"], "demo_operator_7");
        assert_eq!(claims["grants"]["voice"]["incoming"]["allow"], true);
        assert_eq!(claims["grants"]["voice"]["outgoing"]["application_sid"], "APzzzzzzzz");
    }

    #[test]
    fn missing_settings_are_named() {
        let partial = TwilioCredentials { account_sid: "AC1".into(), ..Default::default() };
        let err = TwilioVoiceTokens::new(partial, 3600).issue("x").unwrap_err();
        let CallcenterError::Unavailable(message) = err else { panic!() };
        assert!(
            message.contains("TWILIO_API_KEY_SID")
                && message.contains("TWILIO_TWIML_APP_SID")
                && !message.contains("TWILIO_ACCOUNT_SID")
        );
    }
}
