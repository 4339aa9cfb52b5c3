//! Configuration: the profiles of `config/` compiled into the binary (`default.toml`, then
//! `<APP_ENV>.toml`), then the same files from `CONFIG_DIR` (else `./config`) when they exist,
//! then environment variables named like the keys (`PORT`, `DATABASE_URL`, `JWT_SECRET`, ...).

use chrono::Duration;
use persistence::DatabaseKind;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The profiles, compiled in so the binary runs the same from any directory.
const EMBEDDED: [(&str, &str); 4] = [
    ("default", include_str!("../../../config/default.toml")),
    ("development", include_str!("../../../config/development.toml")),
    ("production", include_str!("../../../config/production.toml")),
    ("test", include_str!("../../../config/test.toml")),
];

/// Keys whose values `crm-server config` and the logs never show.
const SECRET_KEYS: [&str; 8] = [
    "jwt_secret",
    "refresh_token_secret",
    "admin_password",
    "twilio_api_key_secret",
    "twilio_auth_token",
    "data_encryption_key",
    "llm_api_key",
    "metrics_token",
];

/// Secrets that production refuses.
const DEFAULT_SECRETS: [&str; 2] = ["dev-only-jwt-secret-change-me", "dev-only-refresh-secret-change-me"];

/// The raw keys as written in the files and the environment.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct RawSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub database_url: String,
    pub database_max_connections: u32,
    pub database_acquire_timeout: String,
    pub auth_cache_ttl_secs: u64,
    pub auth_cache_unsynced_ttl_ms: u64,
    pub redis_url: String,
    pub redis_key_prefix: String,
    pub jwt_secret: String,
    pub jwt_expires_in: String,
    pub refresh_token_secret: String,
    pub refresh_token_expires_in: String,
    pub refresh_token_remember_expires_in: String,
    pub refresh_reuse_grace_secs: u32,
    pub registration_enabled: bool,
    pub login_max_failures_per_account: u64,
    pub login_max_failures_per_ip: u64,
    pub login_failure_window: String,
    pub login_max_delay: String,
    pub password_hash_memory_kib: u32,
    pub password_hash_iterations: u32,
    pub password_hash_concurrency: usize,
    pub password_hash_queue_timeout: String,
    pub admin_email: String,
    pub admin_password: String,
    pub admin_name: String,
    pub cors_origin: String,
    pub rate_limit_anonymous_per_hour: u32,
    pub rate_limit_authenticated_per_hour: u32,
    pub rate_limit_admin_per_hour: u32,
    pub trust_forwarded_for: bool,
    pub hsts: bool,
    pub json_body_limit: usize,
    pub twilio_account_sid: String,
    pub twilio_api_key_sid: String,
    pub twilio_api_key_secret: String,
    pub twilio_twiml_app_sid: String,
    pub twilio_token_ttl: String,
    pub twilio_auth_token: String,
    pub twilio_from_number: String,
    pub twilio_voice_url: String,
    pub twilio_api_base: String,
    pub public_base_url: String,
    pub upload_max_bytes: usize,
    pub import_max_bytes: usize,
    pub import_max_rows: u64,
    pub audio_max_bytes: usize,
    pub audio_link_ttl_secs: u64,
    pub webhook_allow_private_targets: bool,
    pub data_encryption_key: String,
    pub webhook_timeout_secs: u64,
    pub webhook_retry_delays: String,
    pub llm_base_url: String,
    pub llm_api_key: String,
    pub llm_model: String,
    pub llm_connect_timeout_secs: u64,
    pub llm_timeout_secs: u64,
    pub llm_retries: u32,
    pub llm_retry_backoff_ms: u64,
    pub llm_max_tokens: u32,
    pub voice_budget_ms: u64,
    pub ws_ping_secs: u64,
    pub ws_idle_timeout_secs: u64,
    pub shutdown_drain_secs: u64,
    pub metrics_enabled: bool,
    pub metrics_token: String,
    pub metrics_addr: String,
    pub log_level: String,
    pub log_format: String,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `development`, `production` or `test`.
    pub env: String,
    pub raw: RawSettings,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub remember_refresh_ttl: Duration,
    pub login_failure_window: Duration,
    pub login_max_delay: Duration,
    pub twilio_token_ttl: Duration,
    pub database_acquire_timeout: Duration,
    pub password_hash_queue_timeout: Duration,
    /// Waits between webhook delivery attempts.
    pub webhook_retry_delays: Vec<std::time::Duration>,
    /// Where the values came from, in layering order (`embedded default.toml`, a file path,
    /// `environment`).
    pub sources: Vec<String>,
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct SettingsError(pub String);

/// The profile name: `APP_ENV`, else `NODE_ENV`, else `development`.
pub fn app_env() -> String {
    std::env::var("APP_ENV")
        .or_else(|_| std::env::var("NODE_ENV"))
        .map(|v| v.trim().to_lowercase())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "development".into())
}

/// Where the `config/` directory is: `CONFIG_DIR`, else `./config`.
fn config_dir() -> PathBuf {
    std::env::var("CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("config"))
}

impl Settings {
    /// Loads the profile from [`app_env`], with the environment on top.
    pub fn load() -> Result<Settings, SettingsError> {
        Settings::load_with(&app_env(), &config_dir(), true, &[])
    }

    /// Loads `env`'s profile from `dir`, then (optionally) environment variables, then
    /// `overrides` (`key`, `value`) pairs.
    pub fn load_with(
        env: &str,
        dir: &Path,
        use_environment: bool,
        overrides: &[(&str, &str)],
    ) -> Result<Settings, SettingsError> {
        let mut builder = config::Config::builder();
        let mut sources = Vec::new();
        for name in ["default", env] {
            if let Some((_, text)) = EMBEDDED.iter().find(|(profile, _)| *profile == name) {
                builder = builder.add_source(config::File::from_str(text, config::FileFormat::Toml));
                sources.push(format!("embedded {name}.toml"));
            }
        }
        for name in ["default", env] {
            let path = dir.join(format!("{name}.toml"));
            if path.is_file() {
                builder = builder.add_source(config::File::from(path.clone()));
                sources.push(path.display().to_string());
            }
        }
        let mut explicit_registration = false;
        if use_environment {
            builder = builder.add_source(config::Environment::default().try_parsing(false));
            sources.push("environment".into());
            explicit_registration =
                std::env::var("REGISTRATION_ENABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
        }
        for (key, value) in overrides {
            builder = builder.set_override(*key, *value).map_err(|e| SettingsError(e.to_string()))?;
            explicit_registration |= *key == "registration_enabled" && value.trim().eq_ignore_ascii_case("true");
        }
        let raw: RawSettings =
            builder.build().and_then(|c| c.try_deserialize()).map_err(|e| SettingsError(e.to_string()))?;
        if env == "production" && raw.registration_enabled && !explicit_registration {
            return Err(SettingsError(
                "registration_enabled is on from a configuration file: production opens self-registration only \
                 with an explicit REGISTRATION_ENABLED=true in the environment"
                    .into(),
            ));
        }
        let mut settings = Settings::validate(env, raw)?;
        settings.sources = sources;
        Ok(settings)
    }

    /// The effective configuration as `KEY = value` lines, secrets and passwords in URLs
    /// hidden.
    pub fn redacted_lines(&self) -> Vec<String> {
        let value = serde_json::to_value(&self.raw).unwrap_or_default();
        let mut lines: Vec<String> = value
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, v)| {
                let shown = match v {
                    serde_json::Value::String(s) if SECRET_KEYS.contains(&key.as_str()) && !s.is_empty() => {
                        "\"[redacted]\"".to_string()
                    }
                    serde_json::Value::String(s) if key.ends_with("_url") => format!("{:?}", redact(s)),
                    other => other.to_string(),
                };
                format!("{} = {shown}", key.to_uppercase())
            })
            .collect();
        lines.sort();
        lines
    }

    fn validate(env: &str, raw: RawSettings) -> Result<Settings, SettingsError> {
        if DatabaseKind::of_url(&raw.database_url).is_none() {
            return Err(SettingsError(format!(
                "DATABASE_URL '{}' has an unknown scheme: use sqlite://… or postgres://…",
                redact(&raw.database_url)
            )));
        }
        let access_ttl = duration("JWT_EXPIRES_IN", &raw.jwt_expires_in)?;
        let refresh_ttl = duration("REFRESH_TOKEN_EXPIRES_IN", &raw.refresh_token_expires_in)?;
        let remember_refresh_ttl =
            duration("REFRESH_TOKEN_REMEMBER_EXPIRES_IN", &raw.refresh_token_remember_expires_in)?;
        let login_failure_window = duration("LOGIN_FAILURE_WINDOW", &raw.login_failure_window)?;
        let login_max_delay = duration("LOGIN_MAX_DELAY", &raw.login_max_delay)?;
        let twilio_token_ttl = duration("TWILIO_TOKEN_TTL", &raw.twilio_token_ttl)?;
        let database_acquire_timeout = duration("DATABASE_ACQUIRE_TIMEOUT", &raw.database_acquire_timeout)?;
        let password_hash_queue_timeout = duration("PASSWORD_HASH_QUEUE_TIMEOUT", &raw.password_hash_queue_timeout)?;
        if !matches!(raw.log_format.as_str(), "pretty" | "json") {
            return Err(SettingsError(format!("LOG_FORMAT must be 'pretty' or 'json', not '{}'", raw.log_format)));
        }
        if raw.upload_max_bytes == 0
            || raw.import_max_bytes == 0
            || raw.import_max_rows == 0
            || raw.audio_max_bytes == 0
            || raw.audio_link_ttl_secs == 0
        {
            return Err(SettingsError(
                "UPLOAD_MAX_BYTES, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, AUDIO_MAX_BYTES and AUDIO_LINK_TTL_SECS must be at least 1".into(),
            ));
        }
        if raw.llm_timeout_secs == 0 || raw.llm_connect_timeout_secs == 0 || raw.voice_budget_ms == 0 {
            return Err(SettingsError(
                "LLM_TIMEOUT_SECS, LLM_CONNECT_TIMEOUT_SECS and VOICE_BUDGET_MS must be at least 1".into(),
            ));
        }
        if raw.ws_ping_secs == 0 || raw.ws_idle_timeout_secs <= raw.ws_ping_secs {
            return Err(SettingsError(
                "WS_PING_SECS must be at least 1 and WS_IDLE_TIMEOUT_SECS longer than it".into(),
            ));
        }
        if raw.llm_retries > 10 || raw.llm_max_tokens == 0 {
            return Err(SettingsError("LLM_RETRIES must be at most 10 and LLM_MAX_TOKENS at least 1".into()));
        }
        for (key, url) in [
            ("PUBLIC_BASE_URL", &raw.public_base_url),
            ("TWILIO_API_BASE", &raw.twilio_api_base),
            ("LLM_BASE_URL", &raw.llm_base_url),
        ] {
            if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
                return Err(SettingsError(format!("{key} must be an http(s) URL, not '{url}'")));
            }
        }
        if !(raw.redis_url.is_empty()
            || raw.redis_url.starts_with("redis://")
            || raw.redis_url.starts_with("rediss://"))
        {
            return Err(SettingsError(format!("REDIS_URL must be a redis:// URL, not '{}'", redact(&raw.redis_url))));
        }
        let webhook_retry_delays = retry_delays(&raw.webhook_retry_delays)?;
        if !raw.data_encryption_key.trim().is_empty() {
            security::AesSecretBox::from_key(&raw.data_encryption_key)
                .map_err(|e| SettingsError(format!("DATA_ENCRYPTION_KEY: {e} (use `openssl rand -base64 32`)")))?;
        }
        if raw.webhook_timeout_secs == 0 || raw.webhook_timeout_secs > 300 {
            return Err(SettingsError("WEBHOOK_TIMEOUT_SECS must be from 1 to 300".into()));
        }
        if raw.database_max_connections == 0 {
            return Err(SettingsError("DATABASE_MAX_CONNECTIONS must be at least 1".into()));
        }
        if env == "production" && raw.webhook_allow_private_targets {
            return Err(SettingsError(
                "WEBHOOK_ALLOW_PRIVATE_TARGETS lets webhooks reach internal addresses; it is refused in production"
                    .into(),
            ));
        }
        if env == "production" && raw.cors_origin.split(',').any(|o| o.trim() == "*") {
            return Err(SettingsError(
                "CORS_ORIGIN='*' lets every web site call the API from its users' browsers; name the frontends' \
                 origins in production"
                    .into(),
            ));
        }
        if env == "production" {
            for (key, value) in [("JWT_SECRET", &raw.jwt_secret), ("REFRESH_TOKEN_SECRET", &raw.refresh_token_secret)] {
                if value.trim().is_empty() || DEFAULT_SECRETS.contains(&value.as_str()) {
                    return Err(SettingsError(format!("{key} must be set to a secret of your own in production")));
                }
                if value.len() < 32 {
                    return Err(SettingsError(format!("{key} must be at least 32 characters in production")));
                }
            }
        }
        Ok(Settings {
            env: env.to_string(),
            raw,
            access_ttl,
            refresh_ttl,
            remember_refresh_ttl,
            login_failure_window,
            login_max_delay,
            twilio_token_ttl,
            database_acquire_timeout,
            password_hash_queue_timeout,
            webhook_retry_delays,
            sources: Vec::new(),
        })
    }

    /// Allowed CORS origins from `CORS_ORIGIN`.
    pub fn cors_origins(&self) -> Vec<String> {
        self.raw.cors_origin.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    }
}

/// Hides the password of a database URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Parses `WEBHOOK_RETRY_DELAYS`: seconds, comma-separated (at most 20, each at most a week).
fn retry_delays(raw: &str) -> Result<Vec<std::time::Duration>, SettingsError> {
    let bad =
        || SettingsError(format!("WEBHOOK_RETRY_DELAYS '{raw}' must be seconds, comma-separated, e.g. 60,300,1800"));
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    let delays: Vec<u64> =
        raw.split(',').map(|p| p.trim().parse::<u64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    if delays.len() > 20 || delays.iter().any(|d| *d == 0 || *d > 604_800) {
        return Err(bad());
    }
    Ok(delays.into_iter().map(std::time::Duration::from_secs).collect())
}

/// Parses `30s`, `15m`, `24h`, `7d`, `2w` or plain seconds; the error names `key`.
pub fn duration(key: &str, value: &str) -> Result<Duration, SettingsError> {
    let v = value.trim();
    let bad = || SettingsError(format!("{key} '{value}' is not a duration: use e.g. 30s, 15m, 24h, 7d"));
    let (number, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, "s"),
    };
    let n: i64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" | "sec" | "secs" => n,
        "m" | "min" | "mins" => n * 60,
        "h" | "hr" | "hrs" => n * 3600,
        "d" | "day" | "days" => n * 86_400,
        "w" => n * 604_800,
        _ => return Err(bad()),
    };
    if secs <= 0 {
        return Err(bad());
    }
    Ok(Duration::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &str, overrides: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::load_with(env, Path::new("/nonexistent"), false, overrides)
    }

    #[test]
    fn durations() {
        assert_eq!(duration("K", "24h").unwrap(), Duration::hours(24));
        assert_eq!(duration("K", "15m").unwrap(), Duration::minutes(15));
        assert_eq!(duration("K", "7d").unwrap(), Duration::days(7));
        assert_eq!(duration("K", "90").unwrap(), Duration::seconds(90));
        let err = duration("JWT_EXPIRES_IN", "soon").unwrap_err();
        assert!(err.to_string().contains("JWT_EXPIRES_IN"));
        assert!(duration("K", "0h").is_err());
    }

    #[test]
    fn defaults_load_and_bad_values_name_their_key() {
        let s = load("development", &[]).unwrap();
        assert_eq!(s.raw.port, 3001);
        assert_eq!(s.access_ttl, Duration::hours(24));
        let err = load("development", &[("jwt_expires_in", "forever")]).unwrap_err();
        assert!(err.to_string().contains("JWT_EXPIRES_IN"), "{err}");
        let err = load("development", &[("database_url", "mysql://x")]).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn production_refuses_default_secrets() {
        let err = load("production", &[]).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET"), "{err}");
        let strong = "x".repeat(40);
        assert!(load("production", &[("jwt_secret", &strong), ("refresh_token_secret", &strong)]).is_ok());
        let private = [
            ("jwt_secret", strong.as_str()),
            ("refresh_token_secret", &strong),
            ("webhook_allow_private_targets", "true"),
        ];
        assert!(load("production", &private).unwrap_err().to_string().contains("WEBHOOK_ALLOW_PRIVATE_TARGETS"));
        let err = load("development", &[("webhook_retry_delays", "1,soon")]).unwrap_err();
        assert!(err.to_string().contains("WEBHOOK_RETRY_DELAYS"), "{err}");
    }

    #[test]
    fn the_production_profile_is_compiled_in() {
        let strong = "x".repeat(40);
        let s = load("production", &[("jwt_secret", &strong), ("refresh_token_secret", &strong)]).unwrap();
        assert!(!s.raw.registration_enabled && s.raw.hsts);
        assert_eq!((s.raw.host.as_str(), s.raw.log_format.as_str()), ("0.0.0.0", "json"));
        assert_eq!(s.sources, ["embedded default.toml", "embedded production.toml"]);
    }

    #[test]
    fn production_refuses_unsafe_settings_naming_them() {
        let strong = "x".repeat(40);
        let with = |extra: (&'static str, &'static str)| {
            load("production", &[("jwt_secret", &strong), ("refresh_token_secret", &strong), extra])
        };
        let err = with(("cors_origin", "https://app.example.com, *")).unwrap_err();
        assert!(err.to_string().contains("CORS_ORIGIN"), "{err}");
        assert!(with(("cors_origin", "https://app.example.com")).is_ok());
        // Opened by a file: refused; opened on purpose: allowed.
        let dir = std::env::temp_dir().join(format!("crm-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("production.toml"), "registration_enabled = true\n").unwrap();
        let secrets = [("jwt_secret", strong.as_str()), ("refresh_token_secret", &strong)];
        let err = Settings::load_with("production", &dir, false, &secrets).unwrap_err();
        assert!(err.to_string().contains("REGISTRATION_ENABLED"), "{err}");
        let open = [secrets[0], secrets[1], ("registration_enabled", "true")];
        let s = Settings::load_with("production", &dir, false, &open).unwrap();
        assert!(s.sources.last().unwrap().ends_with("production.toml") && s.raw.registration_enabled);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_printed_configuration_hides_secrets() {
        let lines = load(
            "development",
            &[("jwt_secret", "top-secret-value"), ("database_url", "postgres://crm:pw@db:5432/crm")],
        )
        .unwrap()
        .redacted_lines();
        let text = lines.join("\n");
        assert!(text.contains("JWT_SECRET = \"[redacted]\""), "{text}");
        assert!(text.contains("DATABASE_URL = \"postgres://crm:***@db:5432/crm\""), "{text}");
        assert!(text.contains("PORT = 3001"), "{text}");
        assert!(!text.contains("top-secret-value") && !text.contains(":pw@"), "{text}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("sqlite://data/crm.db"), "sqlite://data/crm.db");
    }
}
