//! Outgoing webhooks: subscriptions (a record kind of the REST surface, `integrations.manage`)
//! and their delivery. Every event is written to an outbox in the transaction of the change
//! that caused it, with a delivery per subscribed webhook; [`Deliverer`] claims due deliveries
//! (each by one replica), sends them through a [`WebhookSender`], and records what happened:
//! success, a retry after the next delay of the schedule, or dead once the schedule is spent.

use crate::error::{CrmError, Result};
use crate::fields::{Fields, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Page, PageRequest};
use management_core::{Permission, Principal};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The events a webhook may subscribe to.
pub const EVENTS: [&str; 27] = [
    "account.created",
    "account.updated",
    "account.deleted",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "lead.created",
    "lead.updated",
    "lead.deleted",
    "lead.converted",
    "deal.created",
    "deal.updated",
    "deal.deleted",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "task.created",
    "task.updated",
    "task.deleted",
    "event.created",
    "event.updated",
    "event.deleted",
    "customer.assigned",
    "call.completed",
    "chat.closed",
    "ping",
    "*",
];

/// Whether `pattern` is an event, `<kind>.*` of a known kind, or `*`.
pub fn known_pattern(pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(kind) => EVENTS.iter().any(|e| e.split('.').next() == Some(kind) && *e != "*"),
        None => EVENTS.contains(&pattern),
    }
}

/// A webhook's secret: shown whole only in the answer that created it.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub value: String,
    pub reveal: bool,
}

impl Secret {
    /// What an answer shows: the whole secret once, then its last four characters.
    pub fn shown(&self) -> String {
        if self.reveal {
            return self.value.clone();
        }
        let tail: String = self.value.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("••••{tail}")
    }
}

/// A webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    pub secret: Secret,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt (none when it got no answer).
    pub last_status: Option<i32>,
    /// Dead deliveries in a row (20 deactivate the webhook).
    pub failure_count: i64,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookInput {
    pub name: Sent<String>,
    pub url: Sent<String>,
    pub events: Sent<Vec<String>>,
    pub is_active: Sent<bool>,
    pub secret: Sent<String>,
}

/// A checked new webhook (the store draws a secret when none is given).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDraft {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    pub secret: Option<String>,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookChanges {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub is_active: Option<bool>,
    pub secret: Option<String>,
}

const MAX_NAME: usize = 200;
const MAX_URL: usize = 2000;

fn check_url(f: &mut Fields, url: &str) {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.chars().any(char::is_whitespace) => {}
        _ => f.error("url", "Enter an http(s) URL, e.g. https://hooks.example.com/crm."),
    }
}

fn check_events(f: &mut Fields, events: &Sent<Vec<String>>, required: bool) -> Option<Vec<String>> {
    let events = f.present("events", events.clone(), required)?;
    let mut unknown: Vec<&str> = events.iter().map(|e| e.trim()).filter(|e| !known_pattern(e)).collect();
    unknown.dedup();
    if events.is_empty() {
        f.error("events", "Subscribe to at least one event (`*` for all).");
    } else if !unknown.is_empty() {
        f.error(
            "events",
            format!(
                "Unknown events: {}. Use events like account.created, a kind like deal.*, or *.",
                unknown.join(", ")
            ),
        );
    }
    let mut events: Vec<String> = events.into_iter().map(|e| e.trim().to_string()).collect();
    events.sort();
    events.dedup();
    Some(events)
}

fn check_secret(f: &mut Fields, secret: &Sent<String>) -> Option<String> {
    let secret = secret.clone().flatten()?;
    if secret.len() < 16 || secret.len() > 200 {
        f.error("secret", "A secret has 16 to 200 characters (leave it out to have one drawn).");
    }
    Some(secret)
}

/// The webhook record kind.
pub struct Webhooks;

impl Resource for Webhooks {
    type Record = Webhook;
    type Input = WebhookInput;
    type Draft = WebhookDraft;
    type Changes = WebhookChanges;
    const NAME: &'static str = "Webhook";
    const LIST: ListSpec = ListSpec {
        filters: &[FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" }],
        ordering: &["name", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, url",
    };
    const READ: Permission = Permission::IntegrationsManage;
    const WRITE: Permission = Permission::IntegrationsManage;
    const DELETE: Permission = Permission::IntegrationsManage;

    fn draft(input: WebhookInput, _owner: i64) -> Result<WebhookDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, MAX_NAME, true).unwrap_or_default();
        let url = f.required_text("url", &input.url, MAX_URL, true).unwrap_or_default();
        if !url.is_empty() {
            check_url(&mut f, &url);
        }
        let events = check_events(&mut f, &input.events, true).unwrap_or_default();
        let secret = check_secret(&mut f, &input.secret);
        f.finish()?;
        Ok(WebhookDraft { name, url, events, is_active, secret })
    }

    fn changes(input: WebhookInput, replace: bool) -> Result<WebhookChanges> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false);
        let name = f.required_text("name", &input.name, MAX_NAME, replace);
        let url = f.required_text("url", &input.url, MAX_URL, replace);
        if let Some(url) = &url {
            check_url(&mut f, url);
        }
        let events = check_events(&mut f, &input.events, replace);
        let secret = check_secret(&mut f, &input.secret);
        f.finish()?;
        Ok(WebhookChanges { name, url, events, is_active, secret })
    }
}

// ---- Delivery ----

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    /// Being sent by a replica (until its lease runs out).
    Sending,
    Retrying,
    Succeeded,
    /// Every attempt failed, or the receiver said it is gone (410).
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> DeliveryStatus {
        match raw {
            "sending" => DeliveryStatus::Sending,
            "retrying" => DeliveryStatus::Retrying,
            "succeeded" => DeliveryStatus::Succeeded,
            "dead" => DeliveryStatus::Dead,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// A delivery as its webhook's history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub event: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub response_code: Option<i32>,
    pub response_ms: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A claimed delivery, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    /// The event's data (JSON text).
    pub data: String,
    pub event_created_at: DateTime<Utc>,
    /// Attempts made, this one included.
    pub attempts: u32,
}

impl Due {
    /// The stable id receivers deduplicate by (`X-Webhook-Id`, the payload's `id`).
    pub fn delivery_id(&self) -> String {
        format!("whd_{}", self.id)
    }

    /// The body: `{id, event, created_at, data}`.
    pub fn body(&self) -> String {
        let data: Value = serde_json::from_str(&self.data).unwrap_or(Value::Null);
        serde_json::json!({
            "id": self.delivery_id(),
            "event": self.event,
            "created_at": self.event_created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string()
    }
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why it failed without an answer (timeout, refused address, ...).
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// What to record of an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Succeeded,
    /// Try again at the given time.
    Retry(DateTime<Utc>),
    /// No more attempts; `deactivate` when the receiver said it is gone.
    Dead {
        deactivate: bool,
    },
}

/// Sends one delivery over HTTP.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn send(&self, due: &Due, body: &str) -> Attempt;
}

/// The outbox's deliveries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Claims up to `limit` due deliveries for `lease` (no other replica takes them meanwhile):
    /// pending or retrying ones whose time has come, or ones whose sender's lease ran out,
    /// each only when no earlier delivery of the same record to the same webhook is still
    /// undelivered (events of one record arrive in order). Counts the attempt.
    async fn claim(&self, limit: usize, now: DateTime<Utc>, lease: Duration) -> Result<Vec<Due>>;
    /// Records the outcomes of a round's attempts, `(delivery, attempt, verdict)`, in one
    /// transaction (and, for each webhook, its last status, its dead deliveries in a row, and its
    /// deactivation after 20 of them or when a verdict says so).
    async fn record(&self, outcomes: Vec<(i64, Attempt, Verdict)>, at: DateTime<Utc>) -> Result<()>;
}

/// How deliveries are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Waits between attempts: one attempt, then one more after each delay.
    pub delays: Vec<Duration>,
    /// Up to this share of a delay is added at random, so failed receivers are not hit in step.
    pub jitter: f64,
}

impl RetryPolicy {
    /// What to record after attempt `attempts` (1-based) got `attempt`; `random` in `[0, 1)`.
    pub fn verdict(&self, attempts: u32, attempt: &Attempt, now: DateTime<Utc>, random: f64) -> Verdict {
        match attempt.status {
            Some(code) if (200..300).contains(&code) => return Verdict::Succeeded,
            Some(410) => return Verdict::Dead { deactivate: true },
            _ => {}
        }
        match self.delays.get(attempts.saturating_sub(1) as usize) {
            Some(delay) => {
                let wait = delay.mul_f64(1.0 + self.jitter * random.clamp(0.0, 1.0));
                Verdict::Retry(now + chrono::Duration::from_std(wait).unwrap_or_default())
            }
            None => Verdict::Dead { deactivate: false },
        }
    }
}

/// Drains the outbox: claims due deliveries, sends them concurrently, records the outcomes.
pub struct Deliverer {
    queue: Arc<dyn DeliveryQueue>,
    sender: Arc<dyn WebhookSender>,
    policy: RetryPolicy,
    /// How long a claimed delivery is this replica's before another may take it over.
    pub lease: Duration,
    /// Deliveries claimed per round.
    pub batch: usize,
}

impl Deliverer {
    pub fn new(
        queue: Arc<dyn DeliveryQueue>,
        sender: Arc<dyn WebhookSender>,
        policy: RetryPolicy,
        lease: Duration,
    ) -> Self {
        Deliverer { queue, sender, policy, lease, batch: 64 }
    }

    /// One round: answers how many deliveries it attempted.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<usize> {
        let due = self.queue.claim(self.batch, now, self.lease).await?;
        let n = due.len();
        let attempts = due.into_iter().map(|d| async move {
            let body = d.body();
            let attempt = self.sender.send(&d, &body).await;
            let verdict = self.policy.verdict(d.attempts, &attempt, Utc::now(), rand_unit(d.id, d.attempts));
            (d.id, attempt, verdict)
        });
        let outcomes = futures_util::future::join_all(attempts).await;
        if !outcomes.is_empty() {
            self.queue.record(outcomes, Utc::now()).await?;
        }
        Ok(n)
    }
}

/// A number in `[0, 1)` spread over deliveries and attempts (jitter without a random source).
fn rand_unit(id: i64, attempt: u32) -> f64 {
    let mut x =
        (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(attempt).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    (x % 10_000) as f64 / 10_000.0
}

/// A webhook's deliveries, the manual redelivery and the ping.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// The webhook's deliveries, newest first; `None` when there is no such live webhook.
    async fn deliveries(&self, webhook_id: i64, page: PageRequest) -> Result<Option<Page<Delivery>>>;
    /// Queues the event of delivery `delivery_id` again (a new delivery, now); `None` when the
    /// webhook or the delivery does not exist.
    async fn redeliver(&self, webhook_id: i64, delivery_id: i64) -> Result<Option<Delivery>>;
    /// Queues a `ping` event to the webhook alone; `None` when there is no such live webhook.
    async fn ping(&self, webhook_id: i64) -> Result<Option<Delivery>>;
}

/// The delivery history use cases (`integrations.manage`).
pub struct Deliveries {
    log: Arc<dyn DeliveryLog>,
}

impl Deliveries {
    pub fn new(log: Arc<dyn DeliveryLog>) -> Self {
        Deliveries { log }
    }

    fn missing(id: i64) -> CrmError {
        CrmError::NotFound(format!("Webhook {id} not found."))
    }

    pub async fn list(&self, by: &Principal, webhook: i64, page: PageRequest) -> Result<Page<Delivery>> {
        by.require(Permission::IntegrationsManage)?;
        self.log.deliveries(webhook, page).await?.ok_or_else(|| Self::missing(webhook))
    }

    pub async fn redeliver(&self, by: &Principal, webhook: i64, delivery: i64) -> Result<Delivery> {
        by.require(Permission::IntegrationsManage)?;
        self.log
            .redeliver(webhook, delivery)
            .await?
            .ok_or_else(|| CrmError::NotFound(format!("Delivery {delivery} of webhook {webhook} not found.")))
    }

    pub async fn ping(&self, by: &Principal, webhook: i64) -> Result<Delivery> {
        by.require(Permission::IntegrationsManage)?;
        self.log.ping(webhook).await?.ok_or_else(|| Self::missing(webhook))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy { delays: vec![Duration::from_secs(60), Duration::from_secs(300)], jitter: 0.1 }
    }

    fn answered(code: u16) -> Attempt {
        Attempt { status: Some(code), error: None, elapsed: Duration::from_millis(5) }
    }

    #[test]
    fn failures_back_off_then_die_and_a_410_deactivates() {
        let now = Utc::now();
        let p = policy();
        assert_eq!(p.verdict(1, &answered(204), now, 0.5), Verdict::Succeeded);
        let Verdict::Retry(at) = p.verdict(1, &answered(500), now, 0.5) else { panic!() };
        let waited = (at - now).num_seconds();
        assert!((60..=66).contains(&waited), "60 s plus up to 10% jitter: {waited}");
        let Verdict::Retry(at) =
            p.verdict(2, &Attempt { status: None, error: Some("timeout".into()), elapsed: Duration::ZERO }, now, 0.0)
        else {
            panic!()
        };
        assert_eq!((at - now).num_seconds(), 300);
        assert_eq!(p.verdict(3, &answered(503), now, 0.9), Verdict::Dead { deactivate: false });
        assert_eq!(p.verdict(1, &answered(410), now, 0.0), Verdict::Dead { deactivate: true });
    }

    fn due(id: i64) -> Due {
        Due {
            id,
            webhook_id: 1,
            url: "https://hooks.example.com".into(),
            secret: "s".repeat(20),
            event: "account.created".into(),
            data: r#"{"id":5}"#.into(),
            event_created_at: Utc::now(),
            attempts: 1,
        }
    }

    #[tokio::test]
    async fn a_round_sends_every_claimed_delivery_and_records_each_outcome() {
        let mut queue = MockDeliveryQueue::new();
        queue.expect_claim().times(1).returning(|_, _, _| Ok(vec![due(1), due(2)]));
        queue
            .expect_record()
            .withf(|outcomes, _| {
                outcomes.len() == 2
                    && outcomes.iter().any(|(id, _, v)| *id == 1 && *v == Verdict::Succeeded)
                    && outcomes.iter().any(|(id, _, v)| *id == 2 && matches!(v, Verdict::Retry(_)))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let mut sender = MockWebhookSender::new();
        sender.expect_send().returning(|d, body| {
            let parsed: Value = serde_json::from_str(body).unwrap();
            assert_eq!(parsed["id"], Value::String(d.delivery_id()));
            assert_eq!(parsed["data"]["id"], 5);
            answered(if d.id == 1 { 200 } else { 500 })
        });
        let deliverer = Deliverer::new(Arc::new(queue), Arc::new(sender), policy(), Duration::from_secs(30));
        assert_eq!(deliverer.run_once(Utc::now()).await.unwrap(), 2);
    }

    #[test]
    fn subscriptions_name_known_events() {
        assert!(known_pattern("deal.*") && known_pattern("*") && known_pattern("lead.converted"));
        assert!(!known_pattern("deal.exploded") && !known_pattern("nothing.*"));
        let input = WebhookInput {
            name: Some(Some("CRM sync".into())),
            url: Some(Some("ftp://x".into())),
            events: Some(Some(vec!["deal.exploded".into()])),
            ..Default::default()
        };
        let CrmError::Validation { fields, .. } = Webhooks::draft(input, 1).unwrap_err() else { panic!() };
        assert!(fields.contains_key("url") && fields.contains_key("events"));
        let secret = Secret { value: "whsec_0123456789abcdef".into(), reveal: false };
        assert_eq!(secret.shown(), "••••cdef");
    }
}
