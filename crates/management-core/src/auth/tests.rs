use super::*;
use crate::permission::Permission;
use crate::ports::*;
use crate::throttle::ThrottlePolicy;
use crate::user::UserCredentials;
use chrono::DateTime;
use mockall::predicate::eq;

fn user(active: bool) -> User {
    let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    User {
        id: 7,
        email: "ceo@demo.uz".into(),
        name: "Demo CEO".into(),
        first_name: "Demo".into(),
        last_name: "CEO".into(),
        role: "ceo".into(),
        is_active: active,
        created_at: t,
        updated_at: t,
    }
}

fn config() -> AuthConfig {
    AuthConfig {
        access_ttl: Duration::minutes(15),
        refresh_ttl: Duration::days(7),
        remember_refresh_ttl: Duration::days(30),
        throttle: ThrottlePolicy {
            max_per_account: 5,
            max_per_ip: 20,
            window: Duration::minutes(15),
            max_delay: Duration::seconds(60),
        },
        refresh_reuse_grace: Duration::seconds(30),
        registration_enabled: true,
    }
}

struct Mocks {
    users: MockUserRepository,
    roles: MockRoleRepository,
    sessions: MockSessionRepository,
    attempts: MockLoginAttemptRepository,
    hasher: MockPasswordHasher,
    tokens: MockTokenCodec,
}

impl Mocks {
    fn new() -> Self {
        let mut tokens = MockTokenCodec::new();
        tokens.expect_random_id().returning(|| "rid".into());
        tokens.expect_new_refresh_token().returning(|| "refresh-1".into());
        tokens.expect_hash_refresh_token().returning(|t| format!("h({t})"));
        tokens.expect_encode().returning(|c| Ok(format!("jwt:{}", c.sub)));
        Mocks {
            users: MockUserRepository::new(),
            roles: MockRoleRepository::new(),
            sessions: MockSessionRepository::new(),
            attempts: MockLoginAttemptRepository::new(),
            hasher: MockPasswordHasher::new(),
            tokens,
        }
    }

    fn service(self) -> AuthService {
        AuthService::new(
            AuthPorts {
                users: Arc::new(self.users),
                roles: Arc::new(self.roles),
                sessions: Arc::new(self.sessions),
                attempts: Arc::new(self.attempts),
                hasher: Arc::new(self.hasher),
                tokens: Arc::new(self.tokens),
            },
            config(),
        )
    }
}

fn login_request(password: &str) -> LoginRequest {
    LoginRequest {
        email: " CEO@demo.uz ".into(),
        password: password.into(),
        client_ip: "10.0.0.1".into(),
        remember: false,
    }
}

#[tokio::test]
async fn login_with_the_right_password_issues_a_stored_pair() {
    let mut m = Mocks::new();
    m.attempts.expect_failures_since().returning(|_, _| Ok(Failures::default()));
    m.attempts.expect_clear().with(eq("account:ceo@demo.uz|ip:10.0.0.1")).times(1).returning(|_| Ok(()));
    m.attempts.expect_clear().with(eq("account:ceo@demo.uz")).times(1).returning(|_| Ok(()));
    m.sessions.expect_known_address().returning(|_, _, _| Ok(true));
    m.users
        .expect_find_credentials()
        .with(eq("ceo@demo.uz"))
        .returning(|_| Ok(Some(UserCredentials { user: user(true), password_hash: "H".into() })));
    m.hasher.expect_verify().with(eq("secret123"), eq("H")).returning(|_, _| Ok(true));
    m.sessions
        .expect_open()
        .withf(|user, family, ip, first| {
            *user == 7 && family == "rid" && ip == "10.0.0.1" && first.token_hash == "h(refresh-1)"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let (u, tokens) = m.service().login(login_request("secret123")).await.unwrap();
    assert_eq!(u.id, 7);
    assert_eq!(tokens.access_token, "jwt:7");
    assert_eq!(tokens.refresh_token, "refresh-1");
    assert_eq!(tokens.access_expires_in, 900);
    assert_eq!(tokens.refresh_expires_in, 7 * 86400);
}

#[tokio::test]
async fn wrong_password_and_inactive_user_are_the_same_refusal_and_count_as_failures() {
    for (active, password_ok) in [(true, false), (false, true)] {
        let mut m = Mocks::new();
        m.attempts.expect_failures_since().returning(|_, _| Ok(Failures::default()));
        m.attempts.expect_record_failure().times(3).returning(|_, _| Ok(()));
        m.sessions.expect_known_address().returning(|_, _, _| Ok(false));
        m.users
            .expect_find_credentials()
            .returning(move |_| Ok(Some(UserCredentials { user: user(active), password_hash: "H".into() })));
        m.hasher.expect_verify().returning(move |_, _| Ok(password_ok));
        let account = user(active).id;
        m.sessions
            .expect_sign_in_failed()
            .withf(move |id, _, _| *id == Some(account))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let err = m.service().login(login_request("x")).await.unwrap_err();
        assert_eq!(err, ManagementError::Unauthorized("Invalid credentials".into()));
    }
}

#[tokio::test]
async fn unknown_email_still_pays_for_a_hash() {
    let mut m = Mocks::new();
    m.attempts.expect_failures_since().returning(|_, _| Ok(Failures::default()));
    m.attempts.expect_record_failure().times(3).returning(|_, _| Ok(()));
    m.users.expect_find_credentials().returning(|_| Ok(None));
    m.hasher.expect_hash().times(1).returning(|_| Ok("H".into()));
    m.sessions.expect_sign_in_failed().withf(|id, _, _| id.is_none()).times(1).returning(|_, _, _| Ok(()));
    assert!(matches!(m.service().login(login_request("x")).await, Err(ManagementError::Unauthorized(_))));
}

fn record(used: bool) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: 1,
        user_id: 7,
        family_id: "fam".into(),
        expires_at: Utc::now() + Duration::days(1),
        used_at: used.then(Utc::now),
        revoked_at: None,
    }
}

#[tokio::test]
async fn refresh_rotates_within_the_session() {
    let mut m = Mocks::new();
    m.sessions.expect_find_refresh().with(eq("h(old)")).returning(|_| Ok(Some(record(false))));
    m.users.expect_find_by_id().with(eq(7)).returning(|_| Ok(Some(user(true))));
    m.sessions
        .expect_rotate()
        .withf(|id, next, _, grace| *id == 1 && next.token_hash == "h(refresh-1)" && grace.is_some())
        .times(1)
        .returning(|_, _, _, _| Ok(Rotation::Rotated));
    let (_, tokens) = m.service().refresh("old").await.unwrap();
    assert_eq!(tokens.refresh_token, "refresh-1");
}

#[tokio::test]
async fn reuse_after_the_grace_is_refused_as_reuse() {
    let mut m = Mocks::new();
    m.sessions.expect_find_refresh().returning(|_| Ok(Some(record(true))));
    m.users.expect_find_by_id().returning(|_| Ok(Some(user(true))));
    m.sessions.expect_rotate().times(1).returning(|_, _, _, _| Ok(Rotation::ReuseDetected));
    let err = m.service().refresh("old").await.unwrap_err();
    assert!(matches!(err, ManagementError::Unauthorized(m) if m.contains("reuse")));
}

#[tokio::test]
async fn a_zero_grace_means_strict_single_use() {
    let mut m = Mocks::new();
    m.sessions.expect_find_refresh().returning(|_| Ok(Some(record(true))));
    m.users.expect_find_by_id().returning(|_| Ok(Some(user(true))));
    m.sessions
        .expect_rotate()
        .withf(|_, _, _, grace| grace.is_none())
        .returning(|_, _, _, _| Ok(Rotation::ReuseDetected));
    let mut svc = m.service();
    svc.config.refresh_reuse_grace = Duration::zero();
    assert!(svc.refresh("old").await.is_err());
}

#[tokio::test]
async fn a_revoked_or_expired_session_stores_nothing() {
    for revoked in [true, false] {
        let mut m = Mocks::new();
        m.sessions.expect_find_refresh().returning(move |_| {
            let mut r = record(false);
            if revoked {
                r.revoked_at = Some(Utc::now());
            } else {
                r.expires_at = Utc::now() - Duration::seconds(1);
            }
            Ok(Some(r))
        });
        m.sessions.expect_rotate().never();
        let err = m.service().refresh("old").await.unwrap_err();
        assert_eq!(err, ManagementError::Unauthorized("Invalid or expired refresh token".into()));
    }
}

fn claims() -> AccessClaims {
    AccessClaims { sub: "7".into(), jti: "j1".into(), role: "ceo".into(), sid: "fam".into(), iat: 0, exp: 10 }
}

#[tokio::test]
async fn authenticate_loads_permissions_of_the_stored_role() {
    let mut m = Mocks::new();
    m.tokens.expect_decode().returning(|_| Ok(claims()));
    m.sessions.expect_is_revoked().with(eq("j1"), eq("fam")).returning(|_, _| Ok(false));
    m.users.expect_find_by_id().returning(|_| Ok(Some(user(true))));
    m.roles.expect_permissions_of().with(eq("ceo")).returning(|_| Ok(vec![Permission::UsersManage]));
    let p = m.service().authenticate("t").await.unwrap();
    assert!(p.can(Permission::UsersManage));
    assert!(!p.can(Permission::CatalogManage));
}

#[tokio::test]
async fn authenticate_refuses_revoked_expired_and_inactive() {
    let mut m = Mocks::new();
    m.tokens.expect_decode().returning(|_| Ok(claims()));
    m.sessions.expect_is_revoked().returning(|_, _| Ok(true));
    assert_eq!(
        m.service().authenticate("t").await.unwrap_err(),
        ManagementError::Unauthorized("Token has been revoked".into())
    );

    let mut m = Mocks::new();
    m.tokens.expect_decode().returning(|_| Err(TokenError::Expired));
    assert_eq!(
        m.service().authenticate("t").await.unwrap_err(),
        ManagementError::Unauthorized("Token has expired".into())
    );

    let mut m = Mocks::new();
    m.tokens.expect_decode().returning(|_| Ok(claims()));
    m.sessions.expect_is_revoked().returning(|_, _| Ok(false));
    m.users.expect_find_by_id().returning(|_| Ok(Some(user(false))));
    assert!(matches!(m.service().authenticate("t").await, Err(ManagementError::Unauthorized(_))));
}

#[tokio::test]
async fn registration_forces_the_default_role_and_can_be_switched_off() {
    let mut m = Mocks::new();
    m.roles.expect_find_by_name().with(eq("pending")).returning(|_| {
        let t = Utc::now();
        Ok(Some(crate::role::Role {
            id: 9,
            name: "pending".into(),
            display_name: "Pending approval".into(),
            description: None,
            is_active: true,
            is_system: true,
            created_at: t,
            updated_at: t,
        }))
    });
    m.hasher.expect_hash().returning(|_| Ok("H".into()));
    m.users.expect_insert().withf(|d| d.role == "pending" && d.email == "new@demo.uz").returning(|d| {
        let mut u = user(true);
        u.role = d.role;
        Ok(u)
    });
    let new_user = NewUser {
        email: "New@demo.uz".into(),
        password: "Samarkand-Blue-77".into(),
        name: Some("New User".into()),
        role: Some("ceo".into()),
        ..NewUser::default()
    };
    assert_eq!(m.service().register(new_user.clone()).await.unwrap().role, "pending");

    let mut closed = Mocks::new();
    closed.users.expect_insert().never();
    let mut svc = closed.service();
    svc.config.registration_enabled = false;
    assert!(matches!(svc.register(new_user).await, Err(ManagementError::Forbidden(_))));
}
