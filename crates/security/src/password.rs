//! argon2id password hashing on a bounded pool.
//!
//! Each hash needs its cost in memory (19 MiB by default). Hashing on tokio's blocking pool
//! (up to 512 threads, each allocating afresh) let a burst of sign-ins grow the process by
//! gigabytes that the allocator never gave back. Here at most `concurrency` hashes run at once,
//! each in one of `concurrency` memory areas allocated once and reused; the others wait in line
//! up to `queue_timeout`, and past it are refused as unavailable (503 with `Retry-After`).

use argon2::password_hash::phc::{Ident, Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use management_core::ManagementError;
use management_core::ports::PasswordHasher;
use rand::RngCore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    /// OWASP's recommended minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        HashCost { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

/// How many hashes may run at once and how long the others wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPool {
    /// Hashes running at once (each holds its memory cost); at least 1.
    pub concurrency: usize,
    /// How long a hash waits for its turn before it is refused.
    pub queue_timeout: Duration,
}

impl Default for HashPool {
    /// One hash per core, ten seconds in line.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashPool { concurrency: cores, queue_timeout: Duration::from_secs(10) }
    }
}

/// Memory areas unused this long are given back (a burst's memory does not outlive it).
const IDLE_AREA: Duration = Duration::from_secs(15);
/// The largest memory cost a stored hash may ask of a verification (KiB): 256 MiB.
const MAX_VERIFY_MEMORY_KIB: u32 = 256 * 1024;
const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

/// Memory areas not in use, each with when it was last used.
type FreeAreas = Mutex<Vec<(Vec<Block>, Instant)>>;

/// Hashes with argon2id into PHC strings; verifies any argon2 PHC string.
#[derive(Clone)]
pub struct Argon2Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// Memory areas of finished hashes with when they were last used, reused by the next ones.
    areas: Arc<FreeAreas>,
    queue_timeout: Duration,
    /// Whether the task giving idle areas back runs.
    reaping: Arc<AtomicBool>,
}

fn internal(e: impl std::fmt::Display) -> ManagementError {
    ManagementError::Internal(format!("password hashing: {e}"))
}

impl Argon2Hasher {
    /// A hasher with the given cost and the default pool; `Err` when the parameters are out of
    /// argon2's range.
    pub fn new(cost: HashCost) -> Result<Self, String> {
        Self::with_pool(cost, HashPool::default())
    }

    /// A hasher with the given cost and pool.
    pub fn with_pool(cost: HashCost, pool: HashPool) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(OUTPUT_LEN))
            .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        let concurrency = pool.concurrency.max(1);
        Ok(Argon2Hasher {
            params,
            slots: Arc::new(Semaphore::new(concurrency)),
            areas: Arc::new(Mutex::new(Vec::with_capacity(concurrency))),
            queue_timeout: pool.queue_timeout,
            reaping: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Runs `work` on the blocking pool with a memory area, once a slot is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, ManagementError> + Send + 'static,
    ) -> Result<T, ManagementError> {
        let permit = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ManagementError::Unavailable("Too many sign-ins at once; try again in a few seconds.".into()))?
            .map_err(internal)?;
        if !self.reaping.swap(true, Ordering::Relaxed) {
            tokio::spawn(give_back_idle_areas(Arc::downgrade(&self.areas)));
        }
        let areas = self.areas.clone();
        let mut area = areas.lock().map_err(internal)?.pop().map(|(area, _)| area).unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            let result = work(&mut area);
            if let Ok(mut free) = areas.lock() {
                free.push((area, Instant::now()));
            }
            drop(permit);
            result
        })
        .await
        .map_err(internal)?
    }
}

/// Drops the memory areas unused for [`IDLE_AREA`], until the hasher is gone.
async fn give_back_idle_areas(areas: Weak<FreeAreas>) {
    loop {
        tokio::time::sleep(IDLE_AREA / 3).await;
        let Some(areas) = areas.upgrade() else { return };
        let idle: Vec<_> = match areas.lock() {
            Ok(mut free) => {
                let (idle, busy) = free.drain(..).partition(|(_, used)| used.elapsed() >= IDLE_AREA);
                *free = busy;
                idle
            }
            Err(_) => return,
        };
        drop(idle);
    }
}

/// `area` grown to `blocks` blocks (kept at that size for the next hashes).
fn sized(area: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if area.len() < blocks {
        area.resize(blocks, Block::default());
    }
    &mut area[..blocks]
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, ManagementError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run(move |area| {
            let mut salt = [0u8; SALT_LEN];
            rand::rng().fill_bytes(&mut salt);
            let mut out = [0u8; OUTPUT_LEN];
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            argon2
                .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, sized(area, params.block_count()))
                .map_err(internal)?;
            let phc = PasswordHash {
                algorithm: Ident::from(Algorithm::Argon2id),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(internal)?,
                salt: Some(Salt::new(&salt).map_err(internal)?),
                hash: Some(Output::new(&out).map_err(internal)?),
            };
            Ok(phc.to_string())
        })
        .await
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, ManagementError> {
        let parsed = PasswordHash::new(hash).map_err(internal)?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(internal)?;
        let version = parsed.version.map(Version::try_from).transpose().map_err(internal)?.unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(internal)?;
        if params.m_cost() > MAX_VERIFY_MEMORY_KIB {
            return Err(internal("the stored hash asks for more memory than allowed"));
        }
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(internal("the stored hash has no salt or output"));
        };
        let password = password.to_owned();
        self.run(move |area| {
            let mut out = vec![0u8; expected.len()];
            let argon2 = Argon2::new(algorithm, version, params.clone());
            argon2
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    salt.as_ref(),
                    &mut out,
                    sized(area, params.block_count()),
                )
                .map_err(internal)?;
            // `Output` compares in constant time.
            Ok(Output::new(&out).map_err(internal)? == expected)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;

    fn small() -> HashCost {
        HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 }
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let hasher = Argon2Hasher::new(small()).unwrap();
        let a = hasher.hash("correct horse").await.unwrap();
        let b = hasher.hash("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(hasher.verify("correct horse", &a).await.unwrap());
        assert!(!hasher.verify("wrong", &a).await.unwrap());
        assert!(hasher.verify("x", "not a hash").await.is_err());
    }

    #[tokio::test]
    async fn verifies_hashes_made_by_the_reference_implementation_at_another_cost() {
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(2048, 2, 1, None).unwrap())
            .hash_password(b"Samarqand-Registan-1404")
            .unwrap()
            .to_string();
        let hasher = Argon2Hasher::new(small()).unwrap();
        assert!(hasher.verify("Samarqand-Registan-1404", &reference).await.unwrap());
        assert!(!hasher.verify("Samarqand-Registan-1405", &reference).await.unwrap());
        let ours = hasher.hash("Buxoro-Ark-2026").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        use argon2::password_hash::PasswordVerifier as _;
        assert!(Argon2::default().verify_password(b"Buxoro-Ark-2026", &parsed).is_ok());
    }

    #[tokio::test]
    async fn memory_areas_are_reused_not_multiplied() {
        let hasher =
            Argon2Hasher::with_pool(small(), HashPool { concurrency: 2, queue_timeout: Duration::from_secs(30) })
                .unwrap();
        let jobs: Vec<_> = (0..12)
            .map(|i| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash(&format!("password {i}")).await })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        let areas = hasher.areas.lock().unwrap();
        assert!((1..=2).contains(&areas.len()), "{} areas for a pool of 2", areas.len());
        assert!(areas.iter().all(|(a, _)| a.len() == 1024));
    }

    #[tokio::test]
    async fn a_hash_waiting_past_the_deadline_is_refused_as_unavailable() {
        let hasher = Argon2Hasher::with_pool(
            HashCost { memory_kib: 8 * 1024, iterations: 3, parallelism: 1 },
            HashPool { concurrency: 1, queue_timeout: Duration::from_millis(1) },
        )
        .unwrap();
        let busy: Vec<_> = (0..4)
            .map(|_| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash("correct horse").await })
            })
            .collect();
        let mut refused = 0;
        for job in busy {
            match job.await.unwrap() {
                Ok(_) => {}
                Err(ManagementError::Unavailable(_)) => refused += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        assert!(refused >= 1, "with one slot and a 1 ms line, some hashes are refused");
    }
}
