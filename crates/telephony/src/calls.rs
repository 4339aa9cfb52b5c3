//! Twilio Programmable Voice: outbound calls over the REST API and signed status callbacks.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use callcenter_core::call::VoipCall;
use callcenter_core::ports::Telephony;
use callcenter_core::{CallcenterError, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use std::time::Duration;

/// The path Twilio posts call status changes to.
pub const STATUS_CALLBACK_PATH: &str = "/api/voip/twilio/status";

/// What placing calls and verifying callbacks needs (each from its own setting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TwilioVoiceSettings {
    pub account_sid: String,
    /// Signs callbacks; also authenticates REST calls when no API key is set.
    pub auth_token: String,
    /// Authenticate REST calls with this API key when both are set.
    pub api_key_sid: String,
    pub api_key_secret: String,
    /// The caller id calls are placed from (E.164).
    pub from_number: String,
    /// TwiML application that runs the call, unless `voice_url` is set.
    pub twiml_app_sid: String,
    /// A TwiML URL that runs the call (gets `callId`, `model`, `prompt`, `noise`, `noiseGain`, `speed`).
    pub voice_url: String,
    /// Our public base URL (`https://api.example.com`), which Twilio calls back.
    pub public_base_url: String,
    /// The REST API base (`https://api.twilio.com`; a fake server in tests).
    pub api_base: String,
}

impl TwilioVoiceSettings {
    /// The settings still missing to place calls, by their environment names.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing: Vec<&'static str> = [
            ("TWILIO_ACCOUNT_SID", &self.account_sid),
            ("TWILIO_AUTH_TOKEN", &self.auth_token),
            ("TWILIO_FROM_NUMBER", &self.from_number),
            ("PUBLIC_BASE_URL", &self.public_base_url),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect();
        if self.twiml_app_sid.trim().is_empty() && self.voice_url.trim().is_empty() {
            missing.push("TWILIO_TWIML_APP_SID or TWILIO_VOICE_URL");
        }
        missing
    }
}

/// The [`Telephony`] port over Twilio.
pub struct TwilioCalls {
    settings: TwilioVoiceSettings,
    http: reqwest::Client,
}

impl TwilioCalls {
    pub fn new(settings: TwilioVoiceSettings) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        TwilioCalls { settings, http }
    }

    fn base_url(&self) -> &str {
        self.settings.public_base_url.trim_end_matches('/')
    }

    /// The form Twilio's `Calls.json` receives for `call`.
    fn form(&self, call_id: &str, call: &VoipCall) -> Vec<(String, String)> {
        let s = &self.settings;
        let mut form = vec![
            ("To".to_string(), call.target_number.clone()),
            ("From".to_string(), s.from_number.clone()),
            ("StatusCallback".to_string(), format!("{}{STATUS_CALLBACK_PATH}?callId={call_id}", self.base_url())),
            ("StatusCallbackMethod".to_string(), "POST".to_string()),
        ];
        for event in ["initiated", "ringing", "answered", "completed"] {
            form.push(("StatusCallbackEvent".to_string(), event.to_string()));
        }
        if s.voice_url.trim().is_empty() {
            form.push(("ApplicationSid".to_string(), s.twiml_app_sid.clone()));
        } else {
            let mut query = vec![
                ("callId", call_id.to_string()),
                ("model", call.model.clone()),
                ("noise", call.options.noise.to_string()),
                ("noiseGain", call.options.noise_gain.to_string()),
                ("speed", call.options.speed.to_string()),
            ];
            if let Some(prompt) = &call.prompt {
                query.push(("prompt", prompt.clone()));
            }
            let query = serde_urlencoded::to_string(query).unwrap_or_default();
            let separator = if s.voice_url.contains('?') { '&' } else { '?' };
            form.push(("Url".to_string(), format!("{}{separator}{query}", s.voice_url)));
        }
        form
    }
}

/// Twilio's signature of a request: base64 HMAC-SHA1, keyed with the auth token, of the URL
/// followed by every form parameter's name and value, sorted by name.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[async_trait]
impl Telephony for TwilioCalls {
    fn ensure_configured(&self) -> Result<()> {
        let missing = self.settings.missing();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CallcenterError::Unavailable(format!(
                "Telephony is not configured; no call was placed. Set {}.",
                missing.join(", ")
            )))
        }
    }

    async fn place_call(&self, call_id: &str, call: &VoipCall) -> Result<String> {
        self.ensure_configured()?;
        let s = &self.settings;
        let url = format!("{}/2010-04-01/Accounts/{}/Calls.json", s.api_base.trim_end_matches('/'), s.account_sid);
        let (user, password) = if !s.api_key_sid.is_empty() && !s.api_key_secret.is_empty() {
            (&s.api_key_sid, &s.api_key_secret)
        } else {
            (&s.account_sid, &s.auth_token)
        };
        let body = serde_urlencoded::to_string(self.form(call_id, call))
            .map_err(|e| CallcenterError::Internal(format!("encoding the Twilio request: {e}")))?;
        let response = self
            .http
            .post(url)
            .basic_auth(user, Some(password))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| CallcenterError::Unavailable(format!("Twilio could not be reached: {e}")))?;
        let status = response.status();
        let json: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let message = json["message"].as_str().unwrap_or("no reason given");
            tracing::warn!(%status, %message, "Twilio refused a call");
            return Err(CallcenterError::Unavailable(format!("Twilio refused the call ({status}): {message}")));
        }
        json["sid"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CallcenterError::Unavailable("Twilio's answer had no call sid.".into()))
    }

    fn verify_callback(&self, path_and_query: &str, params: &[(String, String)], given: &str) -> Result<()> {
        let s = &self.settings;
        if s.auth_token.trim().is_empty() || s.public_base_url.trim().is_empty() {
            return Err(CallcenterError::Unavailable(
                "Status callbacks cannot be verified: set TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL.".into(),
            ));
        }
        let url = format!("{}{path_and_query}", self.base_url());
        if given.is_empty() || !same(&signature(&s.auth_token, &url, params), given) {
            return Err(CallcenterError::Forbidden("The X-Twilio-Signature does not match this request.".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callcenter_core::call::VoiceOptions;
    use wiremock::matchers::{basic_auth, body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    fn settings(api_base: &str) -> TwilioVoiceSettings {
        TwilioVoiceSettings {
            account_sid: "AC123".into(),
            auth_token: "token123".into(),
            from_number: "+15005550006".into(),
            twiml_app_sid: "AP123".into(),
            public_base_url: "https://crm.example.com/".into(),
            api_base: api_base.into(),
            ..Default::default()
        }
    }

    fn call() -> VoipCall {
        VoipCall {
            model: "voice-1".into(),
            target_number: "+998901234567".into(),
            prompt: Some("Salom".into()),
            options: VoiceOptions { noise: 1, noise_gain: 0.15, speed: 1.0 },
        }
    }

    #[test]
    fn signature_matches_twilios_documented_example() {
        // The example of Twilio's "Webhooks security" page (also what its Python library computes).
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sig = signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    #[test]
    fn callbacks_are_checked_against_our_public_url() {
        let calls = TwilioCalls::new(settings("http://unused"));
        let params = vec![("CallSid".to_string(), "CA1".to_string()), ("CallStatus".to_string(), "completed".into())];
        let path = "/api/voip/twilio/status?callId=call_1";
        let good = signature("token123", &format!("https://crm.example.com{path}"), &params);
        assert!(calls.verify_callback(path, &params, &good).is_ok());
        assert!(matches!(calls.verify_callback(path, &params, "bad"), Err(CallcenterError::Forbidden(_))));
        assert!(matches!(calls.verify_callback(path, &params, ""), Err(CallcenterError::Forbidden(_))));
        let mut tampered = params.clone();
        tampered[1].1 = "failed".into();
        assert!(calls.verify_callback(path, &tampered, &good).is_err());
        let off = TwilioCalls::new(TwilioVoiceSettings::default());
        assert!(matches!(off.verify_callback(path, &params, &good), Err(CallcenterError::Unavailable(_))));
    }

    #[tokio::test]
    async fn places_calls_with_the_documented_form() {
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/2010-04-01/Accounts/AC123/Calls.json"))
            .and(basic_auth("AC123", "token123"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string_contains("To=%2B998901234567"))
            .and(body_string_contains("From=%2B15005550006"))
            .and(body_string_contains("ApplicationSid=AP123"))
            .and(body_string_contains(
                "StatusCallback=https%3A%2F%2Fcrm.example.com%2Fapi%2Fvoip%2Ftwilio%2Fstatus%3FcallId%3Dcall_9",
            ))
            .and(body_string_contains("StatusCallbackEvent=completed"))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "CA42", "status": "queued"})),
            )
            .expect(1)
            .mount(&twilio)
            .await;
        let calls = TwilioCalls::new(settings(&twilio.uri()));
        assert_eq!(calls.place_call("call_9", &call()).await.unwrap(), "CA42");
    }

    #[tokio::test]
    async fn a_voice_url_carries_the_model_settings_and_api_keys_authenticate() {
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .and(basic_auth("SK1", "secret"))
            .respond_with(|req: &Request| {
                let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&req.body).unwrap();
                let url = &form.iter().find(|(k, _)| k == "Url").unwrap().1;
                assert!(url.starts_with("https://voice.example.com/twiml?callId=call_1&model=voice-1"), "{url}");
                assert!(url.contains("prompt=Salom") && url.contains("noiseGain=0.15"));
                assert!(!form.iter().any(|(k, _)| k == "ApplicationSid"));
                ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "CA7"}))
            })
            .expect(1)
            .mount(&twilio)
            .await;
        let mut s = settings(&twilio.uri());
        s.voice_url = "https://voice.example.com/twiml".into();
        s.api_key_sid = "SK1".into();
        s.api_key_secret = "secret".into();
        assert_eq!(TwilioCalls::new(s).place_call("call_1", &call()).await.unwrap(), "CA7");
    }

    #[tokio::test]
    async fn refusals_and_outages_are_reported_not_hidden() {
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"code": 21211, "message": "The 'To' number is not valid."})),
            )
            .mount(&twilio)
            .await;
        let err = TwilioCalls::new(settings(&twilio.uri())).place_call("call_1", &call()).await.unwrap_err();
        assert!(matches!(&err, CallcenterError::Unavailable(m) if m.contains("'To' number is not valid")), "{err:?}");
        let err = TwilioCalls::new(settings("http://127.0.0.1:9")).place_call("call_1", &call()).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Unavailable(_)));
        let mut unset = settings("http://unused");
        unset.from_number.clear();
        let err = TwilioCalls::new(unset).ensure_configured().unwrap_err();
        assert!(matches!(&err, CallcenterError::Unavailable(m) if m.contains("TWILIO_FROM_NUMBER")));
    }
}
