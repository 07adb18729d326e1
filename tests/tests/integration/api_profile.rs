//! Issue 15 §3 "an agent edits their own profile (name, avatar); admins keep the rest", through
//! the real server: `updateMyProfile` acts on the caller only, `Worker.avatarUrl` is read back
//! from the aggregate (`me`, `worker`) and from the `workers` read model (`workers`).

use serde_json::{json, Value};
use tests::backup::eventually;
use tests::graphql::{bootstrap_admin, gql, register_worker};
use tests::TestApp;

const UPDATE_MY_PROFILE: &str = "mutation($input: UpdateMyProfileInput!, $v: Int) {
  updateMyProfile(input: $input, expectedVersion: $v) { id version name avatarUrl role email }
}";

const AVATAR: &str = "https://cdn.example.com/avatars/ada.png";

#[tokio::test]
async fn an_agent_changes_their_own_name_and_avatar_and_every_read_shows_them() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "ada@profile.test", "AGENT", None).await;
    let me = gql(
        &app,
        Some(&agent.access_token),
        "{ me { version avatarUrl } }",
        json!({}),
    )
    .await;
    assert_eq!(me.data("me")["avatarUrl"], Value::Null);
    let version = me.data("me")["version"].as_i64().expect("version");

    let answer = gql(
        &app,
        Some(&agent.access_token),
        UPDATE_MY_PROFILE,
        json!({"input": {"name": "Ada Lovelace", "avatarUrl": AVATAR}, "v": version}),
    )
    .await;
    let updated = answer.data("updateMyProfile");
    assert_eq!(updated["id"], agent.worker_id.as_str());
    assert_eq!(updated["name"], "Ada Lovelace");
    assert_eq!(updated["avatarUrl"], AVATAR);
    assert_eq!(updated["role"], "AGENT");
    assert_eq!(updated["email"], "ada@profile.test");

    let me = gql(
        &app,
        Some(&agent.access_token),
        "{ me { name avatarUrl } }",
        json!({}),
    )
    .await;
    assert_eq!(me.data("me")["name"], "Ada Lovelace");
    assert_eq!(me.data("me")["avatarUrl"], AVATAR);
    let worker = gql(
        &app,
        Some(&admin.access_token),
        "query($id: ID!) { worker(id: $id) { name avatarUrl } }",
        json!({"id": agent.worker_id}),
    )
    .await;
    assert_eq!(worker.data("worker")["name"], "Ada Lovelace");
    assert_eq!(worker.data("worker")["avatarUrl"], AVATAR);
    let list_shows = |avatar: Value| {
        let app = &app;
        let token = admin.access_token.clone();
        let id = agent.worker_id.clone();
        move || {
            let token = token.clone();
            let id = id.clone();
            let avatar = avatar.clone();
            async move {
                let answer = gql(
                    app,
                    Some(&token),
                    "{ workers(search: \"ada@profile\") { edges { node { id name avatarUrl } } } }",
                    json!({}),
                )
                .await;
                answer.data("workers")["edges"]
                    .as_array()
                    .is_some_and(|edges| {
                        edges.iter().any(|edge| {
                            edge["node"]["id"] == id.as_str()
                                && edge["node"]["name"] == "Ada Lovelace"
                                && edge["node"]["avatarUrl"] == avatar
                        })
                    })
            }
        }
    };
    eventually(
        10,
        "the workers read model shows the avatar",
        list_shows(json!(AVATAR)),
    )
    .await;

    // null clears the avatar; an absent field leaves it (the name stays).
    let cleared = gql(
        &app,
        Some(&agent.access_token),
        UPDATE_MY_PROFILE,
        json!({"input": {"avatarUrl": null}}),
    )
    .await;
    assert_eq!(cleared.data("updateMyProfile")["avatarUrl"], Value::Null);
    assert_eq!(cleared.data("updateMyProfile")["name"], "Ada Lovelace");
    eventually(
        10,
        "the workers read model clears the avatar",
        list_shows(Value::Null),
    )
    .await;
}

#[tokio::test]
async fn an_agent_cannot_change_another_worker_nor_their_own_role_and_a_bad_avatar_is_refused() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "bob@profile.test", "AGENT", None).await;
    let other = register_worker(&app, &admin, "eve@profile.test", "AGENT", None).await;

    // Another worker's profile (and the admin-only fields of one's own) stay with updateWorker.
    for id in [&other.worker_id, &agent.worker_id] {
        let answer = gql(
            &app,
            Some(&agent.access_token),
            "mutation($id: ID!) { updateWorker(id: $id, input: {name: \"Hijacked\"}) { id } }",
            json!({"id": id}),
        )
        .await;
        assert_eq!(answer.code(), Some("FORBIDDEN"), "{}", answer.body);
    }
    // updateMyProfile has no role (nor email, endpoint, id): the request is refused as a whole.
    for input in [
        json!({"name": "Bob", "role": "ADMIN"}),
        json!({"email": "root@profile.test"}),
    ] {
        let answer = gql(
            &app,
            Some(&agent.access_token),
            "mutation($input: UpdateMyProfileInput!) { updateMyProfile(input: $input) { role } }",
            json!({"input": input}),
        )
        .await;
        assert!(answer.body["errors"].is_array(), "{}", answer.body);
        assert_eq!(answer.body["data"], Value::Null, "{}", answer.body);
    }

    for (bad, field) in [
        ("http://cdn.example.com/a.png", "avatarUrl"),
        ("javascript:alert(1)", "avatarUrl"),
        ("", "avatarUrl"),
    ] {
        let answer = gql(
            &app,
            Some(&agent.access_token),
            UPDATE_MY_PROFILE,
            json!({"input": {"name": "Bob Builder", "avatarUrl": bad}}),
        )
        .await;
        assert_eq!(answer.code(), Some("VALIDATION"), "{}", answer.body);
        assert_eq!(answer.body["errors"][0]["extensions"]["field"], field);
    }
    let long = format!("https://cdn.example.com/{}", "a".repeat(2000));
    let answer = gql(
        &app,
        Some(&agent.access_token),
        UPDATE_MY_PROFILE,
        json!({"input": {"avatarUrl": long}}),
    )
    .await;
    assert_eq!(answer.code(), Some("VALIDATION"), "{}", answer.body);
    assert_eq!(answer.body["errors"][0]["extensions"]["field"], "avatarUrl");

    // Nothing of the above changed anything: both workers as registered, the agent still an agent.
    for (session, name) in [(&agent, "bob"), (&other, "eve")] {
        let worker = gql(
            &app,
            Some(&admin.access_token),
            "query($id: ID!) { worker(id: $id) { name role avatarUrl } }",
            json!({"id": session.worker_id}),
        )
        .await;
        let worker = worker.data("worker");
        assert_eq!(worker["name"], name);
        assert_eq!(worker["role"], "AGENT");
        assert_eq!(worker["avatarUrl"], Value::Null);
    }
    let unauthenticated = gql(
        &app,
        None,
        UPDATE_MY_PROFILE,
        json!({"input": {"name": "Nobody"}}),
    )
    .await;
    assert_eq!(unauthenticated.code(), Some("UNAUTHENTICATED"));
}
