//! Staff accounts: created from the command line or by admins, logged in with expiring tokens.

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use vedetta::auth::Role;
use vedetta::clock::ManualClock;

use crate::support::child::users_cli;
use crate::support::{PASSWORD, TestApp, assert_valid};

async fn login(app: &TestApp, name: &str, password: &str) -> (u16, Value) {
    let body = json!({ "name": name, "password": password });
    assert_valid("login", &body);
    let response = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_account_made_on_the_command_line_logs_in_with_an_argon2id_hash_stored() {
    let app = TestApp::spawn().await;
    let dir = app.data_dir.path();

    let (added, out) = users_cli(
        dir,
        &["add", "marta", "--role", "approver"],
        "a long enough passphrase\n",
    );
    let (short, refusal) = users_cli(dir, &["add", "tino", "--role", "viewer"], "short\n");
    let (status, session) = login(&app, "marta", "a long enough passphrase").await;

    assert!(added, "{out}");
    assert!(!short && refusal.contains("at least 12"), "{refusal}");
    assert_eq!(status, 200, "{session}");
    assert_valid("login", &session);
    assert_eq!(
        session["user"],
        json!({ "name": "marta", "role": "approver" })
    );
    assert_eq!(
        app.count_rows(
            "SELECT count(*) FROM users WHERE name = 'marta' AND password_hash LIKE '$argon2id$%'"
        ),
        1
    );
    assert_eq!(
        app.count_rows("SELECT count(*) FROM sessions WHERE length(token_hash) = 32"),
        1,
        "only the token's hash is stored"
    );
    let (listed, list) = users_cli(dir, &["list"], "");
    assert!(
        listed && list.contains("marta\tapprover\tenabled"),
        "{list}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_tries_are_throttled() {
    let app = TestApp::spawn().await;
    app.token_for("olga", Role::Operator).await;

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(login(&app, "olga", "not the password").await.0);
    }
    let (unknown, error) = login(&app, "nobody-at-all", "whatever it is").await;

    assert_eq!(statuses[0], 401);
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_valid("error", &error);
    assert!(unknown == 401 || unknown == 429);
}

#[tokio::test]
async fn a_token_stops_working_when_it_expires_or_its_session_ends() {
    let clock = ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap());
    let app = TestApp::spawn_with_clock(clock.clone(), |_| {}).await;
    let morning = app.token_for("olga", Role::Operator).await;
    let evening = app.token_for("olga", Role::Operator).await;

    let (before, me) = app.get_json_as("/api/v1/auth/me", Some(&morning)).await;
    let (logged_out, _) = app
        .send_json(Method::POST, "/api/v1/auth/logout", &evening, &Value::Null)
        .await;
    let (after_logout, _) = app.get_json_as("/api/v1/auth/me", Some(&evening)).await;
    clock.advance(Duration::hours(13));
    let (after_expiry, error) = app.get_json_as("/api/v1/auth/me", Some(&morning)).await;

    assert_eq!((before, me["name"].as_str()), (200, Some("olga")));
    assert_eq!((logged_out, after_logout), (204, 401));
    assert_eq!(
        (after_expiry, error["error"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn admins_manage_accounts_and_a_disabled_account_is_locked_out_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.token_for("adele", Role::Admin).await;
    let new_user = json!({ "name": "nino", "role": "viewer", "password": PASSWORD });

    let (created, user) = app
        .send_json(Method::POST, "/api/v1/users", &admin, &new_user)
        .await;
    let (duplicate, _) = app
        .send_json(Method::POST, "/api/v1/users", &admin, &new_user)
        .await;
    let (_, session) = login(&app, "nino", PASSWORD).await;
    let token = session["token"].as_str().unwrap().to_owned();
    let (promoted, promotion) = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/nino",
            &admin,
            &json!({ "role": "operator" }),
        )
        .await;
    let (disabled, _) = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/nino",
            &admin,
            &json!({ "disabled": true }),
        )
        .await;
    let (locked_out, _) = app.get_json_as("/api/v1/auth/me", Some(&token)).await;
    let (last_admin, refusal) = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/adele",
            &admin,
            &json!({ "role": "viewer" }),
        )
        .await;
    let (_, list) = app.get_json_as("/api/v1/users", Some(&admin)).await;

    assert_eq!(
        (created, duplicate, promoted, disabled, locked_out),
        (201, 409, 200, 200, 401)
    );
    assert_valid("users", &user);
    assert_valid("users", &list);
    assert_eq!(promotion["role"], "operator");
    assert_eq!(
        (last_admin, refusal["error"].as_str()),
        (409, Some("invalid_state"))
    );
    assert!(
        !list.to_string().contains("argon2"),
        "no password hash leaves the hub"
    );
}
