//! Sessions over gRPC against an embedded store, and the items they leave
//! in `curity-sessions` (the Kotlin plugin's layout).

use crate::support::{self, Answer, Refused};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::status::detail,
    proto::{
        DeleteSessionRequest, GetSessionRequest, InsertSessionRequest, Session,
        UpdateSessionExpirationRequest, UpdateSessionRequest,
        session_service_client::SessionServiceClient,
    },
};
use support::app::{RawItem, TestApp};
use tonic::Code;

fn session(id: &str, data: &str, expires_at: i64) -> Session {
    Session {
        id: id.into(),
        data: data.into(),
        expires_at,
    }
}

async fn raw_item(app: &TestApp, id: &str) -> Option<RawItem> {
    app.raw_get("curity-sessions", &[("id", id)]).await
}

#[tokio::test]
async fn insert_then_get_returns_the_session_and_stores_the_plugin_layout() {
    let mut app = TestApp::start().await;
    let mut c = SessionServiceClient::new(app.channel.clone());
    c.insert_session(InsertSessionRequest {
        session: Some(session("s1", "opaque-state", 1_900_000_000)),
    })
    .await
    .expect("insert");
    let got = support::read::session(&mut c, "s1").await.expect("present");
    assert_eq!(got, session("s1", "opaque-state", 1_900_000_000));

    let item = raw_item(&app, "s1").await.expect("stored");
    assert_eq!(item.len(), 4, "{item:?}");
    assert_eq!(item["id"], AttributeValue::S("s1".into()));
    assert_eq!(
        item["sessionData"],
        AttributeValue::S("opaque-state".into())
    );
    assert_eq!(item["expiresAt"], AttributeValue::N("1900000000".into()));
    // Default sessions retain duration: one day past expiry.
    assert_eq!(item["deletableAt"], AttributeValue::N("1900086400".into()));
    app.shutdown().await;
}

#[tokio::test]
async fn second_insert_of_an_id_is_already_exists_and_keeps_the_first() {
    let mut app = TestApp::start().await;
    let mut c = SessionServiceClient::new(app.channel.clone());
    c.insert_session(InsertSessionRequest {
        session: Some(session("dup", "first", 10)),
    })
    .await
    .expect("insert");
    let err = c
        .insert_session(InsertSessionRequest {
            session: Some(session("dup", "second", 20)),
        })
        .await
        .refused(Code::AlreadyExists, "duplicate");
    assert_eq!(detail(&err).expect("detail").field, "session.id");
    let got = support::read::session(&mut c, "dup")
        .await
        .expect("present");
    assert_eq!(got.data, "first");
    app.shutdown().await;
}

#[tokio::test]
async fn plugin_written_session_is_read_through_grpc() {
    let mut app = TestApp::start().await;
    app.raw_put(
        "curity-sessions",
        support::app::item_from([
            ("id", AttributeValue::S("from-kotlin".into())),
            ("sessionData", AttributeValue::S("{\"a\":1}".into())),
            ("expiresAt", AttributeValue::N("1700000000".into())),
            ("deletableAt", AttributeValue::N("1700086400".into())),
        ]),
    )
    .await;
    let mut c = SessionServiceClient::new(app.channel.clone());
    let got = support::read::session(&mut c, "from-kotlin")
        .await
        .expect("present");
    assert_eq!(got, session("from-kotlin", "{\"a\":1}", 1_700_000_000));
    app.shutdown().await;
}

#[tokio::test]
async fn update_replaces_or_creates_and_expiration_update_skips_missing() {
    let mut app = TestApp::start_with(|c| c.dynamodb.ttl.sessions_retain_seconds = 100).await;
    let mut c = SessionServiceClient::new(app.channel.clone());
    c.update_session(UpdateSessionRequest {
        session: Some(session("u", "v1", 1_000)),
    })
    .await
    .expect("upsert creates");
    c.update_session(UpdateSessionRequest {
        session: Some(session("u", "v2", 2_000)),
    })
    .await
    .expect("upsert replaces");
    let updated = c
        .update_session_expiration(UpdateSessionExpirationRequest {
            id: "u".into(),
            expires_at: 3_000,
        })
        .await
        .answer("expiration")
        .updated;
    assert!(updated);
    let item = raw_item(&app, "u").await.expect("stored");
    assert_eq!(item["sessionData"], AttributeValue::S("v2".into()));
    assert_eq!(item["expiresAt"], AttributeValue::N("3000".into()));
    assert_eq!(item["deletableAt"], AttributeValue::N("3100".into()));

    let missing = c
        .update_session_expiration(UpdateSessionExpirationRequest {
            id: "nope".into(),
            expires_at: 3_000,
        })
        .await
        .answer("expiration on missing")
        .updated;
    assert!(!missing);
    assert!(raw_item(&app, "nope").await.is_none(), "nothing written");
    app.shutdown().await;
}

#[tokio::test]
async fn delete_removes_and_get_of_missing_is_empty() {
    let mut app = TestApp::start().await;
    let mut c = SessionServiceClient::new(app.channel.clone());
    c.insert_session(InsertSessionRequest {
        session: Some(session("d", "x", 1)),
    })
    .await
    .expect("insert");
    c.delete_session(DeleteSessionRequest { id: "d".into() })
        .await
        .expect("delete");
    let got = c
        .get_session(GetSessionRequest { id: "d".into() })
        .await
        .answer("get");
    assert!(got.session.is_none());
    // Deleting what is not there is not an error (as with the plugin).
    c.delete_session(DeleteSessionRequest { id: "d".into() })
        .await
        .expect("delete again");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_invalid_argument_naming_the_field_and_writes_nothing() {
    let mut app = TestApp::start().await;
    let mut c = SessionServiceClient::new(app.channel.clone());
    let cases = [
        (session("", "x", 1), "session.id"),
        (session(&"k".repeat(2049), "x", 1), "session.id"),
        (session("neg", "x", -5), "session.expires_at"),
    ];
    for (s, field) in cases {
        let err = c
            .insert_session(InsertSessionRequest { session: Some(s) })
            .await
            .expect_err("invalid");
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert_eq!(detail(&err).expect("detail").field, field);
        assert!(err.message().contains(field), "{}", err.message());
    }
    let err = c
        .insert_session(InsertSessionRequest { session: None })
        .await
        .expect_err("missing session");
    assert_eq!(detail(&err).expect("detail").field, "session");
    assert!(raw_item(&app, "neg").await.is_none());
    app.shutdown().await;
}
