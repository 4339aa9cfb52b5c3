//! System settings over sea-orm, and the runtime overrides the server reads from them.

use crate::entity::system_settings;
use crate::error::{conflict_if_unique, db};
use crate::repo::begin_write;
use crate::repo::journal;
use crate::repo::listing::{self, Listing, live};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::records::Store;
use crm_core::settings::{RUNTIME_KEYS, Setting, SettingChanges, SettingDraft, Settings, check_runtime_value};
use kernel::runtime::Overrides;
use kernel::{ListQuery, Page};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// [`Store`] of settings over `system_settings`.
#[derive(Clone)]
pub struct SqlSettings {
    db: DatabaseConnection,
}

impl SqlSettings {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlSettings { db }
    }
}

const LISTING: Listing = Listing {
    columns: &[("is_public", "is_public"), ("key", "key"), ("created_at", "created_at"), ("updated_at", "updated_at")],
    search: &["key", "description"],
};

fn to_setting(m: system_settings::Model) -> Setting {
    Setting {
        id: m.id,
        value: serde_json::from_str(&m.value).unwrap_or(serde_json::Value::Null),
        key: m.key,
        description: m.description,
        is_public: m.is_public,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[async_trait]
impl journal::Journaled for system_settings::Entity {
    const KIND: &'static str = "setting";
    async fn shown<C: ConnectionTrait>(_conn: &C, rows: Vec<system_settings::Model>) -> Result<Vec<serde_json::Value>> {
        Ok(rows
            .into_iter()
            .map(|m| {
                let s = to_setting(m);
                // A setting named like a secret keeps its value out of the trail.
                let value = if journal::is_secret(&s.key) { serde_json::json!("[redacted]") } else { s.value };
                serde_json::json!({"id": s.id, "key": s.key, "value": value, "description": s.description, "is_public": s.is_public})
            })
            .collect())
    }
    fn id_of(row: &system_settings::Model) -> i64 {
        row.id
    }
}

const TAKEN: &str = "A setting with this key already exists.";

/// Refuses a key another live setting has: a 409 naming it.
async fn check_key<C: ConnectionTrait>(conn: &C, key: &str, except: Option<i64>) -> Result<()> {
    let found = listing::duplicates(conn, "system_settings", "setting", "key", "key", key, except).await?;
    listing::refuse_duplicates("key", found)
}

#[async_trait]
impl Store<Settings> for SqlSettings {
    async fn list(&self, query: &ListQuery) -> Result<Page<Setting>> {
        let select = system_settings::Entity::find().filter(live::<system_settings::Entity>());
        Ok(listing::page(&self.db, select, &LISTING, query, None).await?.map(to_setting))
    }

    async fn get(&self, id: i64) -> Result<Option<Setting>> {
        Ok(listing::live_row::<system_settings::Entity, _>(&self.db, id).await?.map(to_setting))
    }

    async fn insert(&self, d: SettingDraft) -> Result<Setting> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_key(&txn, &d.key, None).await?;
        let now = Utc::now();
        let stored = system_settings::ActiveModel {
            key: Set(d.key),
            value: Set(d.value),
            description: Set(d.description),
            is_public: Set(d.is_public),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(conflict_if_unique(TAKEN))?;
        journal::write::<system_settings::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_setting(stored))
    }

    async fn update(&self, id: i64, c: SettingChanges) -> Result<Option<Setting>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<system_settings::Entity, _>(&txn, id).await? else {
            return Ok(None);
        };
        let key = c.key.clone().unwrap_or_else(|| current.key.clone());
        if key != current.key {
            check_key(&txn, &key, Some(id)).await?;
        }
        // The value the setting will have, checked for the key it will have.
        check_runtime_value(&key, c.value.as_deref().unwrap_or(&current.value))?;
        let before = current.clone();
        let mut model: system_settings::ActiveModel = current.into();
        model.key = Set(key);
        if let Some(v) = c.value {
            model.value = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.is_public {
            model.is_public = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(conflict_if_unique(TAKEN))?;
        journal::write::<system_settings::Entity, _>(&txn, "updated", Some(before), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_setting(stored)))
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<system_settings::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Setting>> {
        if listing::restore_journaled::<system_settings::Entity>(&self.db, id, false).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}

/// The runtime keys' stored values, re-read every `refresh` by a background task: a change made
/// on any replica takes effect on every replica within that time, without a restart.
pub struct RuntimeSettings {
    values: RwLock<HashMap<String, i64>>,
}

impl RuntimeSettings {
    /// No overrides until [`RuntimeSettings::watch`] loads them.
    pub fn new() -> Arc<RuntimeSettings> {
        Arc::new(RuntimeSettings { values: RwLock::new(HashMap::new()) })
    }

    /// Loads the values now, then every `refresh` while this lives.
    pub async fn watch(self: &Arc<Self>, db: DatabaseConnection, refresh: Duration) {
        crate::db::background(self.reload(&db)).await;
        let weak = Arc::downgrade(self);
        tokio::spawn(crate::db::background(async move {
            loop {
                tokio::time::sleep(refresh).await;
                let Some(settings) = weak.upgrade() else { return };
                settings.reload(&db).await;
            }
        }));
    }

    async fn reload(&self, db: &DatabaseConnection) {
        let keys: Vec<&str> = RUNTIME_KEYS.iter().map(|k| k.key).collect();
        let found: std::result::Result<Vec<(String, String)>, _> = system_settings::Entity::find()
            .select_only()
            .columns([system_settings::Column::Key, system_settings::Column::Value])
            .filter(system_settings::Column::Key.is_in(keys))
            .filter(system_settings::Column::DeletedAt.is_null())
            .into_tuple()
            .all(db)
            .await;
        match found {
            Ok(rows) => {
                let values = rows.into_iter().filter_map(|(k, v)| Some((k, v.trim().parse::<i64>().ok()?))).collect();
                if let Ok(mut current) = self.values.write() {
                    *current = values;
                }
            }
            // Keep the last values while the database is out of reach.
            Err(e) => tracing::debug!(error = %e, "runtime settings not refreshed"),
        }
    }
}

impl Overrides for RuntimeSettings {
    fn int(&self, key: &str) -> Option<i64> {
        self.values.read().ok()?.get(key).copied()
    }
}
