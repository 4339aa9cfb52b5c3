//! Integrations over sea-orm: secret values sealed before they are stored and masked when read;
//! the active Twilio and model integrations kept in memory (refreshed every second) for the call
//! center and the assistant.

use crate::entity::integrations;
use crate::error::db;
use crate::repo::listing::{self, Listing, live};
use crate::repo::{begin_write, journal};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::integrations::{
    Integration, IntegrationChanges, IntegrationDraft, IntegrationSecrets, Integrations, SecretBox, check_config,
    is_masked, is_secret_key, masked,
};
use crm_core::records::Store;
use crm_core::{CrmError, Result};
use kernel::{ListQuery, Page};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A configuration sealed, the same in clear, and whether anything is sealed.
type Sealed = (Map<String, Value>, Map<String, Value>, bool);

/// An active integration: its id, when it last changed, its configuration in clear.
pub type Active = (i64, DateTime<Utc>, Map<String, Value>);

/// [`Store`] of integrations over `integrations`.
#[derive(Clone)]
pub struct SqlIntegrations {
    db: DatabaseConnection,
    sealing: Arc<dyn SecretBox>,
}

impl SqlIntegrations {
    pub fn new(db: DatabaseConnection, sealing: Arc<dyn SecretBox>) -> Self {
        SqlIntegrations { db, sealing }
    }

    /// `config` as answers show it: secrets masked (their last four characters).
    fn shown(&self, config: &str) -> Value {
        let map: Map<String, Value> = serde_json::from_str(config).unwrap_or_default();
        Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let shown = match (&v, is_secret_key(&k)) {
                        (Value::String(sealed), true) => {
                            Value::String(self.sealing.open(sealed).map_or_else(|_| "••••".into(), |s| masked(&s)))
                        }
                        _ => v,
                    };
                    (k, shown)
                })
                .collect(),
        )
    }

    fn to_integration(&self, m: integrations::Model) -> Integration {
        Integration {
            id: m.id,
            config: self.shown(&m.config),
            name: m.name,
            integration_type: m.integration_type,
            is_active: m.is_active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }

    /// Seals the secrets of `config` (a masked value keeps the stored one from `old`); answers
    /// the sealed configuration, the clear one (to check), and whether anything is sealed.
    fn seal(&self, config: Map<String, Value>, old: Option<&Map<String, Value>>) -> Result<Sealed> {
        let (mut sealed, mut clear, mut any) = (Map::new(), Map::new(), false);
        for (key, value) in config {
            match (&value, is_secret_key(&key)) {
                (Value::String(s), true) if is_masked(s) => {
                    let kept = old.and_then(|o| o.get(&key)).and_then(Value::as_str).ok_or_else(|| {
                        CrmError::field(
                            &format!("config.{key}"),
                            "Send the secret itself: there is no stored one to keep.",
                        )
                    })?;
                    clear.insert(key.clone(), Value::String(self.sealing.open(kept)?));
                    sealed.insert(key, Value::String(kept.to_string()));
                    any = true;
                }
                (Value::String(s), true) if !s.is_empty() => {
                    sealed.insert(key.clone(), Value::String(self.sealing.seal(s)?));
                    clear.insert(key, value);
                    any = true;
                }
                _ => {
                    sealed.insert(key.clone(), value.clone());
                    clear.insert(key, value);
                }
            }
        }
        Ok((sealed, clear, any))
    }

    /// The sealed configuration with its secrets opened.
    fn open(&self, config: &str) -> Result<Map<String, Value>> {
        let map: Map<String, Value> = serde_json::from_str(config).unwrap_or_default();
        map.into_iter()
            .map(|(k, v)| match (&v, is_secret_key(&k)) {
                (Value::String(sealed), true) => Ok((k, Value::String(self.sealing.open(sealed)?))),
                _ => Ok((k, v)),
            })
            .collect()
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("integration_type", "integration_type"),
        ("is_active", "is_active"),
        ("name", "name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["name"],
};

#[async_trait]
impl journal::Journaled for integrations::Entity {
    const KIND: &'static str = "integration";
    /// Secrets never reach the trail: every secret value is `[redacted]` there.
    async fn shown<C: ConnectionTrait>(_conn: &C, rows: Vec<integrations::Model>) -> Result<Vec<Value>> {
        Ok(rows
            .into_iter()
            .map(|m| {
                let config: Value = serde_json::from_str(&m.config).unwrap_or_default();
                serde_json::json!({"id": m.id, "name": m.name, "integration_type": m.integration_type,
                                   "config": journal::redacted(&config), "is_active": m.is_active})
            })
            .collect())
    }
    fn id_of(row: &integrations::Model) -> i64 {
        row.id
    }
}

#[async_trait]
impl Store<Integrations> for SqlIntegrations {
    async fn list(&self, query: &ListQuery) -> Result<Page<Integration>> {
        let select = integrations::Entity::find().filter(live::<integrations::Entity>());
        Ok(listing::page(&self.db, select, &LISTING, query, None).await?.map(|m| self.to_integration(m)))
    }

    async fn get(&self, id: i64) -> Result<Option<Integration>> {
        Ok(listing::live_row::<integrations::Entity, _>(&self.db, id).await?.map(|m| self.to_integration(m)))
    }

    async fn insert(&self, d: IntegrationDraft) -> Result<Integration> {
        let (sealed, _, secrets) = self.seal(d.config, None)?;
        let txn = begin_write(&self.db).await.map_err(db)?;
        let now = Utc::now();
        let stored = integrations::ActiveModel {
            name: Set(d.name),
            integration_type: Set(d.integration_type),
            config: Set(Value::Object(sealed).to_string()),
            has_secrets: Set(secrets),
            is_active: Set(d.is_active),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db)?;
        journal::write::<integrations::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.to_integration(stored))
    }

    async fn update(&self, id: i64, c: IntegrationChanges) -> Result<Option<Integration>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<integrations::Entity, _>(&txn, id).await? else {
            return Ok(None);
        };
        let kind = c.integration_type.clone().unwrap_or_else(|| current.integration_type.clone());
        let old: Map<String, Value> = serde_json::from_str(&current.config).unwrap_or_default();
        let (sealed, clear, secrets) = match c.config {
            Some(config) => self.seal(config, Some(&old))?,
            None => {
                let clear = self.open(&current.config)?;
                (old.clone(), clear, current.has_secrets)
            }
        };
        check_config(&kind, &clear)?;
        let before = current.clone();
        let mut model: integrations::ActiveModel = current.into();
        if let Some(v) = c.name {
            model.name = Set(v);
        }
        model.integration_type = Set(kind);
        model.config = Set(Value::Object(sealed).to_string());
        model.has_secrets = Set(secrets);
        if let Some(v) = c.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<integrations::Entity, _>(&txn, "updated", Some(before), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(self.to_integration(stored)))
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<integrations::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Integration>> {
        if listing::restore_journaled::<integrations::Entity>(&self.db, id, false).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}

#[async_trait]
impl IntegrationSecrets for SqlIntegrations {
    async fn revealed(&self, id: i64) -> Result<Option<(String, Map<String, Value>)>> {
        let Some(row) = listing::live_row::<integrations::Entity, _>(&self.db, id).await? else { return Ok(None) };
        Ok(Some((row.integration_type, self.open(&row.config)?)))
    }
}

/// Whether sealed secrets are stored (production then refuses to start without their key).
pub async fn sealed_data_exists(db: &DatabaseConnection) -> std::result::Result<bool, sea_orm::DbErr> {
    Ok(integrations::Entity::find().filter(integrations::Column::HasSecrets.eq(true)).count(db).await? > 0)
}

/// The active integration of each type (the most recently changed), configurations in clear,
/// re-read every `refresh`: what the call center and the assistant use instead of the
/// environment's settings while one is active.
pub struct ActiveIntegrations {
    current: RwLock<HashMap<String, Active>>,
}

impl ActiveIntegrations {
    pub fn new() -> Arc<ActiveIntegrations> {
        Arc::new(ActiveIntegrations { current: RwLock::new(HashMap::new()) })
    }

    /// The active integration of `kind`: its id, when it last changed, and its configuration.
    pub fn get(&self, kind: &str) -> Option<Active> {
        self.current.read().ok()?.get(kind).cloned()
    }

    async fn reload(&self, store: &SqlIntegrations) {
        let rows = integrations::Entity::find()
            .filter(live::<integrations::Entity>())
            .filter(integrations::Column::IsActive.eq(true))
            .filter(integrations::Column::IntegrationType.is_in(["twilio", "llm"]))
            .order_by_asc(integrations::Column::UpdatedAt)
            .all(&store.db)
            .await;
        let Ok(rows) = rows else { return };
        let mut current = HashMap::new();
        for row in rows {
            match store.open(&row.config) {
                Ok(config) => {
                    current.insert(row.integration_type.clone(), (row.id, row.updated_at, config));
                }
                Err(e) => tracing::warn!(integration = row.id, error = %e, "integration secrets cannot be opened"),
            }
        }
        if let Ok(mut slot) = self.current.write() {
            *slot = current;
        }
    }

    /// Loads now, then every `refresh` while this lives.
    pub async fn watch(self: &Arc<Self>, store: SqlIntegrations, refresh: Duration) {
        crate::db::background(self.reload(&store)).await;
        let weak = Arc::downgrade(self);
        tokio::spawn(crate::db::background(async move {
            loop {
                tokio::time::sleep(refresh).await;
                let Some(active) = weak.upgrade() else { return };
                active.reload(&store).await;
            }
        }));
    }
}
