//! A map of values that go stale: each entry has an age limit given when it is read, and an
//! invalidation wins over a load that started before it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Entries past this count are pruned (stale ones first, then all) before a new one goes in.
const MAX_ENTRIES: usize = 100_000;

/// Cached values with the moment each was loaded.
pub struct Fresh<K, V> {
    inner: RwLock<Inner<K, V>>,
    counted: Counted,
}

/// The cache's hits, misses and invalidations (`crm_cache_*_total{cache}`).
struct Counted {
    hits: metrics::Counter,
    misses: metrics::Counter,
    invalidations: metrics::Counter,
}

struct Inner<K, V> {
    entries: HashMap<K, (V, Instant)>,
    /// Bumped by every invalidation, so a load that raced one is not stored.
    generation: u64,
}

impl<K: Eq + Hash, V: Clone> Fresh<K, V> {
    /// An empty cache, counted in the metrics as `name`.
    pub fn named(name: &'static str) -> Self {
        Fresh {
            inner: RwLock::new(Inner { entries: HashMap::new(), generation: 0 }),
            counted: Counted {
                hits: metrics::counter!("crm_cache_hits_total", "cache" => name),
                misses: metrics::counter!("crm_cache_misses_total", "cache" => name),
                invalidations: metrics::counter!("crm_cache_invalidations_total", "cache" => name),
            },
        }
    }

    /// The value of `key` if it was loaded less than `max_age` ago.
    pub fn get(&self, key: &K, max_age: Duration) -> Option<V> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let found = inner.entries.get(key).filter(|(_, at)| at.elapsed() < max_age).map(|(v, _)| v.clone());
        if found.is_some() {
            self.counted.hits.increment(1)
        } else {
            self.counted.misses.increment(1)
        }
        found
    }

    /// The generation to pass to [`Fresh::put`] for a load starting now.
    pub fn generation(&self) -> u64 {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).generation
    }

    /// Stores a value loaded since `generation`, unless something was invalidated meanwhile.
    pub fn put(&self, key: K, value: V, generation: u64, max_age: Duration) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.retain(|_, (_, at)| at.elapsed() < max_age);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner.entries.insert(key, (value, Instant::now()));
    }

    /// The value of `key`, loaded by `load` (and kept) when it is missing or too old.
    pub async fn get_or_load<E, F, Fut>(&self, key: K, max_age: Duration, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.get(&key, max_age) {
            return Ok(value);
        }
        let generation = self.generation();
        let value = load().await?;
        self.put(key, value.clone(), generation, max_age);
        Ok(value)
    }

    /// Drops the entries `stale` picks.
    pub fn remove_where(&self, stale: impl Fn(&K, &V) -> bool) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        self.counted.invalidations.increment(1);
        inner.generation += 1;
        inner.entries.retain(|k, (v, _)| !stale(k, v));
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.remove_where(|_, _| true);
    }

    /// How many entries are held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).entries.len()
    }

    /// Whether nothing is held.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGE: Duration = Duration::from_secs(60);

    #[test]
    fn a_value_is_served_until_invalidated_or_too_old() {
        let fresh: Fresh<i64, &str> = Fresh::named("test");
        fresh.put(1, "a", fresh.generation(), AGE);
        assert_eq!(fresh.get(&1, AGE), Some("a"));
        assert_eq!(fresh.get(&1, Duration::ZERO), None, "older than the age limit");
        fresh.remove_where(|k, _| *k == 1);
        assert_eq!(fresh.get(&1, AGE), None);
    }

    #[test]
    fn a_load_that_raced_an_invalidation_is_not_stored() {
        let fresh: Fresh<i64, &str> = Fresh::named("test");
        let before = fresh.generation();
        fresh.remove_where(|_, _| false);
        fresh.put(1, "stale", before, AGE);
        assert!(fresh.is_empty());
        fresh.put(1, "current", fresh.generation(), AGE);
        assert_eq!(fresh.len(), 1);
    }
}
