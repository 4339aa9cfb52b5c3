//! An OpenAI-compatible chat-completions client (`POST {base}/chat/completions`: OpenAI,
//! vLLM, llama.cpp server, Ollama) behind the call-center [`LanguageModel`] port.
//!
//! Connect and total timeouts; retries with exponential backoff on connection errors,
//! timeouts, 429 and 5xx, never once a streamed answer has started; SSE streaming
//! (`data: {…}` chunks, `data: [DONE]`, usage chunks with empty or null `choices`); and an
//! optional per-call budget after which the caller gets the offline answer instead.

use async_trait::async_trait;
use callcenter_core::chat::Role;
use callcenter_core::ports::{DeltaSink, LanguageModel, Prompt};
use callcenter_core::{CallcenterError, Result};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

/// Where the model is and how long to wait for it.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmSettings {
    /// Up to the version segment, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub connect_timeout: Duration,
    /// For one whole request, reading the answer included.
    pub timeout: Duration,
    /// Further attempts after a retryable failure.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    pub max_tokens: u32,
}

/// [`LanguageModel`] over an OpenAI-compatible HTTP API.
pub struct OpenAiCompatible {
    http: reqwest::Client,
    settings: LlmSettings,
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    message: String,
    retryable: bool,
}

fn unavailable(message: impl Into<String>) -> CallcenterError {
    CallcenterError::Unavailable(message.into())
}

impl OpenAiCompatible {
    pub fn new(settings: LlmSettings) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| CallcenterError::Internal(format!("LLM HTTP client: {e}")))?;
        Ok(OpenAiCompatible { http, settings })
    }

    fn body(&self, prompt: &Prompt, stream: bool) -> Value {
        let mut messages = vec![json!({ "role": "system", "content": prompt.system })];
        messages.extend(prompt.messages.iter().map(|(role, text)| {
            let role = match role {
                Role::User => "user",
                Role::Ai => "assistant",
                Role::System => "system",
            };
            json!({ "role": role, "content": text })
        }));
        json!({
            "model": self.settings.model,
            "messages": messages,
            "stream": stream,
            "max_tokens": self.settings.max_tokens,
            "temperature": 0.3,
        })
    }

    /// One request, up to a response with a success status.
    async fn send(&self, body: &Value) -> std::result::Result<reqwest::Response, Failure> {
        let url = format!("{}/chat/completions", self.settings.base_url.trim_end_matches('/'));
        let mut request = self.http.post(url).json(body);
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| Failure {
            message: format!("the model server did not answer: {e}"),
            retryable: e.is_connect() || e.is_timeout() || e.is_request(),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let detail = response.text().await.unwrap_or_default();
        Err(Failure {
            message: format!("the model server answered {status}: {}", detail.chars().take(300).collect::<String>()),
            retryable: status.as_u16() == 429 || status.is_server_error(),
        })
    }

    /// Sends with retries and backoff.
    async fn send_with_retries(&self, body: &Value) -> Result<reqwest::Response> {
        let mut attempt = 0;
        loop {
            match self.send(body).await {
                Ok(response) => return Ok(response),
                Err(f) if f.retryable && attempt < self.settings.retries => {
                    tracing::warn!(attempt, error = %f.message, "LLM request failed, retrying");
                    tokio::time::sleep(self.settings.backoff * 2u32.pow(attempt)).await;
                    attempt += 1;
                }
                Err(f) => return Err(unavailable(f.message)),
            }
        }
    }

    async fn run(&self, prompt: Prompt, deltas: Option<DeltaSink>) -> Result<String> {
        let body = self.body(&prompt, deltas.is_some());
        let response = self.send_with_retries(&body).await?;
        match deltas {
            None => {
                let answer: Value =
                    response.json().await.map_err(|e| unavailable(format!("unreadable model answer: {e}")))?;
                answer["choices"][0]["message"]["content"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| unavailable("the model answer has no choices[0].message.content"))
            }
            Some(mut sink) => {
                let mut events = response.bytes_stream().eventsource();
                let mut text = String::new();
                while let Some(event) = events.next().await {
                    let event = event.map_err(|e| unavailable(format!("the model stream broke off: {e}")))?;
                    if event.data.trim() == "[DONE]" {
                        break;
                    }
                    let chunk: Value = serde_json::from_str(&event.data)
                        .map_err(|e| unavailable(format!("unreadable model stream chunk: {e}")))?;
                    // Usage chunks carry empty or null choices.
                    if let Some(piece) = chunk["choices"][0]["delta"]["content"].as_str().filter(|p| !p.is_empty()) {
                        text.push_str(piece);
                        sink(piece.to_string());
                    }
                }
                Ok(text)
            }
        }
    }
}

#[async_trait]
impl LanguageModel for OpenAiCompatible {
    async fn complete(&self, prompt: Prompt, deltas: Option<DeltaSink>) -> Result<String> {
        let started = std::time::Instant::now();
        let outcome = match prompt.budget {
            Some(budget) => tokio::time::timeout(budget, self.run(prompt, deltas))
                .await
                .unwrap_or_else(|_| Err(unavailable(format!("the model did not answer within {budget:?}")))),
            None => self.run(prompt, deltas).await,
        };
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "LLM answer failed; the offline assistant answers instead");
        }
        let result = if outcome.is_ok() { "ok" } else { "error" };
        metrics::histogram!("crm_assistant_model_duration_seconds", "outcome" => result)
            .record(started.elapsed().as_secs_f64());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use wiremock::matchers::{body_partial_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn settings(base: &str) -> LlmSettings {
        LlmSettings {
            base_url: format!("{base}/v1"),
            api_key: Some("sk-test".into()),
            model: "test-model".into(),
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_millis(10),
            max_tokens: 200,
        }
    }

    fn prompt(budget: Option<Duration>) -> Prompt {
        Prompt {
            system: "Be brief.".into(),
            messages: vec![(Role::Ai, "Salom!".into()), (Role::User, "Grant haqida".into())],
            budget,
        }
    }

    fn answer(text: &str) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_body_json(json!({ "choices": [{ "index": 0, "message": { "role": "assistant", "content": text } }] }))
    }

    #[tokio::test]
    async fn sends_the_conversation_and_reads_the_answer() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(header("authorization", "Bearer sk-test"))
            .and(body_partial_json(json!({
                "model": "test-model",
                "stream": false,
                "messages": [
                    { "role": "system", "content": "Be brief." },
                    { "role": "assistant", "content": "Salom!" },
                    { "role": "user", "content": "Grant haqida" }
                ]
            })))
            .respond_with(answer("Grant uchun ariza kerak."))
            .expect(1)
            .mount(&server)
            .await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        assert_eq!(llm.complete(prompt(None), None).await.unwrap(), "Grant uchun ariza kerak.");
    }

    #[tokio::test]
    async fn streams_pieces_and_skips_usage_chunks() {
        let server = MockServer::start().await;
        let sse = concat!(
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Grant \"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"uchun ariza.\"}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n",
            "data: {\"choices\":null,\"usage\":{\"total_tokens\":9}}\n\n",
            "data: [DONE]\n\n"
        );
        Mock::given(method("POST"))
            .and(body_partial_json(json!({ "stream": true })))
            .respond_with(
                ResponseTemplate::new(200).insert_header("content-type", "text/event-stream").set_body_string(sse),
            )
            .mount(&server)
            .await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        let pieces = Arc::new(Mutex::new(Vec::new()));
        let seen = pieces.clone();
        let text = llm.complete(prompt(None), Some(Box::new(move |p| seen.lock().unwrap().push(p)))).await.unwrap();
        assert_eq!(text, "Grant uchun ariza.");
        assert_eq!(*pieces.lock().unwrap(), ["Grant ", "uchun ariza."]);
    }

    #[tokio::test]
    async fn retries_server_errors_and_rate_limits_then_succeeds() {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(429)).up_to_n_times(1).mount(&server).await;
        Mock::given(method("POST")).respond_with(answer("ok")).mount(&server).await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        assert_eq!(llm.complete(prompt(None), None).await.unwrap(), "ok");
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_retries_and_does_not_retry_client_errors() {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        let err = llm.complete(prompt(None), None).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Unavailable(m) if m.contains("500")));
        assert_eq!(server.received_requests().await.unwrap().len(), 3, "one try and two retries");

        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        assert!(llm.complete(prompt(None), None).await.is_err());
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_slow_model_misses_its_budget() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(answer("late").set_delay(Duration::from_millis(800)))
            .mount(&server)
            .await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        let started = std::time::Instant::now();
        let err = llm.complete(prompt(Some(Duration::from_millis(100))), None).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Unavailable(m) if m.contains("within")));
        assert!(started.elapsed() < Duration::from_millis(700));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let mut s = settings("http://127.0.0.1:9");
        s.retries = 1;
        let llm = OpenAiCompatible::new(s).unwrap();
        assert!(matches!(llm.complete(prompt(None), None).await, Err(CallcenterError::Unavailable(_))));
    }

    /// Against a real OpenAI-compatible server (see docs/assistant.md):
    /// `LLM_TEST_BASE_URL=http://127.0.0.1:8089/v1 cargo test -p llm -- --ignored`.
    #[tokio::test]
    #[ignore = "needs a model server in LLM_TEST_BASE_URL"]
    async fn a_real_model_server_answers_whole_and_streamed() {
        let base = std::env::var("LLM_TEST_BASE_URL").expect("LLM_TEST_BASE_URL");
        let mut s = settings("");
        s.base_url = base;
        s.max_tokens = 30;
        let llm = OpenAiCompatible::new(s).unwrap();
        let whole = llm.complete(prompt(None), None).await.unwrap();
        assert!(!whole.trim().is_empty());
        let pieces = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = pieces.clone();
        let streamed = llm.complete(prompt(None), Some(Box::new(move |p| seen.lock().unwrap().push(p)))).await.unwrap();
        let pieces = pieces.lock().unwrap();
        assert!(pieces.len() > 1, "streamed in pieces: {pieces:?}");
        assert_eq!(pieces.concat(), streamed);
    }

    #[tokio::test]
    async fn a_stream_that_breaks_is_not_retried() {
        let server = MockServer::start().await;
        let sse = "data: {\"choices\":[{\"delta\":{\"content\":\"Gra\"}}]}\n\ndata: {not json}\n\n";
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).insert_header("content-type", "text/event-stream").set_body_string(sse),
            )
            .mount(&server)
            .await;
        let llm = OpenAiCompatible::new(settings(&server.uri())).unwrap();
        let err = llm.complete(prompt(None), Some(Box::new(|_| {}))).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Unavailable(m) if m.contains("chunk")));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}
