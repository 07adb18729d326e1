//! Attacks on access and refresh tokens, and login throttling.

use base64::Engine as _;
use serde_json::{json, Value};
use tests::graphql::{
    bootstrap_admin, gql, login, register_worker, Session, WsClient, ADMIN_EMAIL, PASSWORD,
};
use tests::TestApp;

const ME: &str = "{ me { id } }";
/// The secret `ServeConfig::for_tests` signs with.
const TEST_SECRET: &[u8] = api::auth::TEST_JWT_SECRET.as_bytes();

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json claims")
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("signs")
}

async fn me_code(app: &TestApp, token: &str) -> Option<String> {
    gql(app, Some(token), ME, json!({}))
        .await
        .code()
        .map(str::to_owned)
}

async fn refresh(app: &TestApp, refresh_token: &str) -> tests::graphql::Answer {
    gql(
        app,
        None,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }",
        json!({"t": refresh_token}),
    )
    .await
}

#[tokio::test]
async fn forged_unsigned_resigned_and_expired_access_tokens_are_rejected() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    assert_eq!(
        me_code(&app, &admin.access_token).await,
        None,
        "the real token works"
    );
    let claims = claims_of(&admin.access_token);

    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none_header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = engine.encode(claims.to_string());
    for unsigned in [
        format!("{none_header}.{body}."),
        format!("{none_header}.{body}"),
    ] {
        assert_eq!(
            me_code(&app, &unsigned).await.as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    let wrong_key = sign(&claims, b"some other secret of the attacker");
    assert_eq!(
        me_code(&app, &wrong_key).await.as_deref(),
        Some("UNAUTHENTICATED")
    );

    let mut escalated = claims.clone();
    escalated["role"] = json!("admin");
    escalated["sub"] = json!(uuid::Uuid::now_v7());
    let tampered = format!(
        "{}.{}.{}",
        admin.access_token.split('.').next().expect("header"),
        engine.encode(escalated.to_string()),
        admin.access_token.split('.').nth(2).expect("signature")
    );
    assert_eq!(
        me_code(&app, &tampered).await.as_deref(),
        Some("UNAUTHENTICATED")
    );

    let mut expired = claims.clone();
    let now = chrono::Utc::now().timestamp();
    expired["iat"] = json!(now - 3600);
    expired["exp"] = json!(now - 60);
    let expired = sign(&expired, TEST_SECRET);
    assert_eq!(
        me_code(&app, &expired).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    let mut fresh = claims.clone();
    fresh["exp"] = json!(now + 600);
    assert_eq!(
        me_code(&app, &sign(&fresh, TEST_SECRET)).await,
        None,
        "only expiry differed"
    );
    assert_eq!(
        me_code(&app, "Bearer garbage").await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let first = refresh(&app, &admin.refresh_token).await;
    let rotated = first.data("refreshSession").clone();
    let new_access = rotated["accessToken"].as_str().expect("token").to_owned();
    let new_refresh = rotated["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(new_refresh, admin.refresh_token);
    assert_eq!(me_code(&app, &new_access).await, None);

    let reused = refresh(&app, &admin.refresh_token).await;
    assert_eq!(reused.code(), Some("UNAUTHENTICATED"));
    // The thief's replay ended the family: the legitimate newer tokens die with it.
    assert_eq!(
        refresh(&app, &new_refresh).await.code(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        me_code(&app, &new_access).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        me_code(&app, &admin.access_token).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    // Another session of the same worker is untouched.
    let other = login(&app, ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(me_code(&app, &other.access_token).await, None);
    assert_eq!(
        refresh(&app, "not-a-token").await.code(),
        Some("UNAUTHENTICATED")
    );
    app.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_and_other_sessions_survive() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let laptop = login(&app, ADMIN_EMAIL, PASSWORD).await;
    let out = gql(
        &app,
        Some(&admin.access_token),
        "mutation { logout }",
        json!({}),
    )
    .await;
    assert_eq!(out.data("logout"), true);
    assert_eq!(
        me_code(&app, &admin.access_token).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        refresh(&app, &admin.refresh_token).await.code(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(me_code(&app, &laptop.access_token).await, None);
    app.stop().await;
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_every_earlier_session() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent: Session = register_worker(&app, &admin, "eve@example.com", "AGENT", None).await;
    let phone = login(&app, "eve@example.com", PASSWORD).await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken } }";
    let wrong = gql(
        &app,
        Some(&agent.access_token),
        change,
        json!({"c": "not the password", "n": "a brand new password"}),
    )
    .await;
    assert_eq!(wrong.code(), Some("WRONG_PASSWORD"));
    let short = gql(
        &app,
        Some(&agent.access_token),
        change,
        json!({"c": PASSWORD, "n": "short"}),
    )
    .await;
    assert_eq!(short.code(), Some("VALIDATION"));
    assert_eq!(
        short.body["errors"][0]["extensions"]["field"],
        "newPassword"
    );

    let changed = gql(
        &app,
        Some(&agent.access_token),
        change,
        json!({"c": PASSWORD, "n": "a brand new password"}),
    )
    .await;
    let new_token = changed.data("changePassword")["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    for old in [&agent.access_token, &phone.access_token] {
        assert_eq!(me_code(&app, old).await.as_deref(), Some("UNAUTHENTICATED"));
    }
    for old in [&agent.refresh_token, &phone.refresh_token] {
        assert_eq!(refresh(&app, old).await.code(), Some("UNAUTHENTICATED"));
    }
    assert_eq!(me_code(&app, &new_token).await, None);
    let old_password = gql(&app, None,
        "mutation { login(email: \"eve@example.com\", password: \"correct horse battery staple\") { accessToken } }",
        json!({})).await;
    assert_eq!(old_password.code(), Some("UNAUTHENTICATED"));
    login(&app, "eve@example.com", "a brand new password").await;
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_never_reveal_whether_the_email_exists() {
    let app = TestApp::spawn_with(|config| {
        config.auth.login_failures_per_account = 3;
        config.auth.login_failures_per_address = 8;
    })
    .await;
    bootstrap_admin(&app).await;
    let attempt = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            gql(app, None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({"e": email, "p": password})).await
        }
    };
    let unknown = attempt("nobody@example.com", "whatever password").await;
    let wrong = attempt(ADMIN_EMAIL, "wrong password!").await;
    assert_eq!(unknown.code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        unknown.body["errors"][0]["message"],
        wrong.body["errors"][0]["message"]
    );
    attempt(ADMIN_EMAIL, "wrong password!").await;
    attempt(ADMIN_EMAIL, "wrong password!").await;
    let blocked = attempt(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(
        blocked.code(),
        Some("RATE_LIMITED"),
        "even the right password waits"
    );
    // Per address: four more failures (other accounts) use up the address's allowance of 8.
    for email in [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ] {
        assert_eq!(
            attempt(email, "wrong password!").await.code(),
            Some("UNAUTHENTICATED")
        );
    }
    let from_address = attempt("third@example.com", "wrong password!").await;
    assert_eq!(
        from_address.code(),
        Some("RATE_LIMITED"),
        "{:?}",
        from_address.body
    );
    app.stop().await;
}

/// Whether `ws` still answers: a `ping` gets its `pong`.
async fn answers_ping(ws: &mut WsClient) -> bool {
    ws.send(json!({"type": "ping"})).await;
    ws.next()
        .await
        .is_some_and(|message| message["type"] == "pong")
}

/// The close frame `ws` receives next, if any.
async fn closed_with(ws: &mut WsClient) -> Option<Value> {
    ws.next()
        .await
        .filter(|message| message["type"] == "close")
        .map(|message| message["code"].clone())
}

#[tokio::test]
async fn an_open_websocket_closes_when_its_credentials_are_revoked_and_only_that_one() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let laptop = login(&app, ADMIN_EMAIL, PASSWORD).await;
    let eve = register_worker(&app, &admin, "eve@example.com", "AGENT", None).await;
    let bob = register_worker(&app, &admin, "bob@example.com", "AGENT", None).await;
    let mut admin_ws = WsClient::connect_as(&app, Some(&admin.access_token)).await;
    let mut laptop_ws = WsClient::connect_as(&app, Some(&laptop.access_token)).await;
    let mut eve_ws = WsClient::connect_as(&app, Some(&eve.access_token)).await;
    let mut bob_ws = WsClient::connect_as(&app, Some(&bob.access_token)).await;
    eve_ws
        .subscribe("state", "subscription { myState { id } }", json!({}))
        .await;

    // Logout: that session's socket closes, the same admin's other session stays.
    let out = gql(
        &app,
        Some(&admin.access_token),
        "mutation { logout }",
        json!({}),
    )
    .await;
    assert_eq!(out.data("logout"), true);
    assert_eq!(closed_with(&mut admin_ws).await, Some(json!(4403)));
    assert!(
        answers_ping(&mut laptop_ws).await,
        "another session is untouched"
    );

    // Deactivation closes the worker's socket, subscription and all.
    let deactivated = gql(
        &app,
        Some(&laptop.access_token),
        "mutation($id: ID!) { deactivateWorker(id: $id) { active } }",
        json!({"id": eve.worker_id}),
    )
    .await;
    assert_eq!(deactivated.data("deactivateWorker")["active"], false);
    let mut closed = None;
    while let Some(message) = eve_ws.next().await {
        if message["type"] == "close" {
            closed = Some(message["code"].clone());
            break;
        }
    }
    assert_eq!(closed, Some(json!(4403)));

    // A role change: the socket closes (its caller's role is stale); a new one gets the new role.
    let promoted = gql(
        &app,
        Some(&laptop.access_token),
        "mutation($id: ID!) { setWorkerRole(id: $id, role: ADMIN) { role } }",
        json!({"id": bob.worker_id}),
    )
    .await;
    assert_eq!(promoted.data("setWorkerRole")["role"], "ADMIN");
    assert_eq!(closed_with(&mut bob_ws).await, Some(json!(4403)));
    let mut again = WsClient::connect_as(&app, Some(&bob.access_token)).await;
    assert!(answers_ping(&mut again).await);
    assert!(answers_ping(&mut laptop_ws).await);
    app.stop().await;
}
