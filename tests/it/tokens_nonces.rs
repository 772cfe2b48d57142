//! Tokens and nonces over gRPC against an embedded store, and their items
//! in the plugin's layout (both directions).

use crate::support::{self, Answer, Refused};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::{convert::struct_to_json, status::detail},
    proto::{
        ConsumeNonceRequest, CreateTokenRequest, GetNonceRequest, GetTokenByHashRequest,
        GetTokenStatusRequest, NonceStatus, SaveNonceRequest, SetTokenStatusRequest,
        nonce_service_client::NonceServiceClient, token_service_client::TokenServiceClient,
    },
};
use support::{app::TestApp, fixtures::token};
use tonic::Code;

#[tokio::test]
async fn token_round_trips_and_is_stored_in_the_plugin_layout() {
    let mut app = TestApp::start().await;
    let mut c = TokenServiceClient::new(app.channel.clone());
    c.create_token(CreateTokenRequest {
        token: Some(token("h1")),
    })
    .await
    .expect("create");
    let got = support::read::token(&mut c, "h1").await.expect("present");
    assert_eq!(got.audience, ["api-1", "api-2"]);
    assert_eq!(struct_to_json(got.data.clone())["claims"]["a"], 1);
    // What was sent, and the data as JSON text beside the Struct.
    let mut want = token("h1");
    want.data_json = r#"{"claims":{"a":1}}"#.into();
    assert_eq!(got, want);

    let item = app
        .raw_get("curity-tokens", &[("tokenHash", "h1")])
        .await
        .expect("item");
    assert_eq!(
        item["audience"],
        AttributeValue::L(vec![
            AttributeValue::S("api-1".into()),
            AttributeValue::S("api-2".into())
        ])
    );
    assert_eq!(
        item["tokenData"],
        AttributeValue::S(r#"{"claims":{"a":1}}"#.into())
    );
    assert_eq!(item["status"], AttributeValue::S("issued".into()));
    assert_eq!(item["notBefore"], AttributeValue::N("1700000000".into()));
    // Default tokens retain duration: two days past expiry.
    assert_eq!(item["deletableAt"], AttributeValue::N("1700176400".into()));

    let err = c
        .create_token(CreateTokenRequest {
            token: Some(token("h1")),
        })
        .await
        .refused(Code::AlreadyExists, "dup");
    assert_eq!(detail(&err).unwrap().field, "token.token_hash");
    app.shutdown().await;
}

#[tokio::test]
async fn token_status_changes_only_for_known_tokens() {
    let mut app = TestApp::start().await;
    let mut c = TokenServiceClient::new(app.channel.clone());
    c.create_token(CreateTokenRequest {
        token: Some(token("h2")),
    })
    .await
    .expect("create");
    let n = c
        .set_token_status(SetTokenStatusRequest {
            token_hash: "h2".into(),
            status: "revoked".into(),
        })
        .await
        .answer("call")
        .updated;
    assert_eq!(n, 1);
    let s = c
        .get_token_status(GetTokenStatusRequest {
            token_hash: "h2".into(),
        })
        .await
        .answer("call")
        .status;
    assert_eq!(s.as_deref(), Some("revoked"));
    let n = c
        .set_token_status(SetTokenStatusRequest {
            token_hash: "nope".into(),
            status: "revoked".into(),
        })
        .await
        .answer("call")
        .updated;
    assert_eq!(n, 0);
    let missing = c
        .get_token_status(GetTokenStatusRequest {
            token_hash: "nope".into(),
        })
        .await
        .answer("call");
    assert!(missing.status.is_none());
    c.set_token_status(SetTokenStatusRequest {
        token_hash: "h2".into(),
        status: "Revoked!".into(),
    })
    .await
    .refused(Code::InvalidArgument, "bad status");
    app.shutdown().await;
}

#[tokio::test]
async fn plugin_written_token_with_a_single_audience_is_read() {
    let mut app = TestApp::start().await;
    app.raw
        .put_item()
        .table_name("curity-tokens")
        .item("tokenHash", AttributeValue::S("k1".into()))
        .item("delegationsId", AttributeValue::S("d".into()))
        .item("purpose", AttributeValue::S("access_token".into()))
        .item("usage", AttributeValue::S("bearer".into()))
        .item("format", AttributeValue::S("jwt".into()))
        .item("status", AttributeValue::S("issued".into()))
        .item("issuer", AttributeValue::S("iss".into()))
        .item("subject", AttributeValue::S("sub".into()))
        .item(
            "audience",
            AttributeValue::L(vec![AttributeValue::S("only".into())]),
        )
        .item("tokenData", AttributeValue::S("{}".into()))
        .item("created", AttributeValue::N("1".into()))
        .item("expires", AttributeValue::N("2".into()))
        .item("notBefore", AttributeValue::N("1".into()))
        .item("deletableAt", AttributeValue::N("172802".into()))
        .send()
        .await
        .expect("raw put");
    let mut c = TokenServiceClient::new(app.channel.clone());
    let t = support::read::token(&mut c, "k1").await.unwrap();
    assert_eq!(t.audience, ["only"]);
    assert_eq!((t.id, t.scope), (None, None));
    app.shutdown().await;
}

async fn nonce_status(app: &TestApp, nonce: &str) -> AttributeValue {
    app.raw_get("curity-nonces", &[("nonce", nonce)])
        .await
        .expect("item")["nonceStatus"]
        .clone()
}

#[tokio::test]
async fn nonce_is_saved_once_and_consumed_once() {
    let mut app = TestApp::start().await;
    let mut c = NonceServiceClient::new(app.channel.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    c.save_nonce(SaveNonceRequest {
        nonce: "n1".into(),
        value: "v".into(),
        created_at: now,
        ttl_seconds: 300,
    })
    .await
    .expect("save");
    c.save_nonce(SaveNonceRequest {
        nonce: "n1".into(),
        value: "v2".into(),
        created_at: now,
        ttl_seconds: 300,
    })
    .await
    .refused(Code::AlreadyExists, "exists");
    let s = c
        .get_nonce(GetNonceRequest { nonce: "n1".into() })
        .await
        .answer("call")
        .state
        .unwrap();
    assert_eq!(
        (s.value.as_str(), s.expires_at, s.status()),
        ("v", now + 300, NonceStatus::Issued)
    );
    assert_eq!(
        nonce_status(&app, "n1").await,
        AttributeValue::S("issued".into())
    );

    assert!(
        c.consume_nonce(ConsumeNonceRequest {
            nonce: "n1".into(),
            consumed_at: now + 1
        })
        .await
        .answer("call")
        .consumed
    );
    assert!(
        !c.consume_nonce(ConsumeNonceRequest {
            nonce: "n1".into(),
            consumed_at: now + 2
        })
        .await
        .answer("call")
        .consumed
    );
    assert!(
        !c.consume_nonce(ConsumeNonceRequest {
            nonce: "zz".into(),
            consumed_at: now
        })
        .await
        .answer("call")
        .consumed
    );
    let s = c
        .get_nonce(GetNonceRequest { nonce: "n1".into() })
        .await
        .answer("call")
        .state
        .unwrap();
    assert_eq!(
        (s.status(), s.consumed_at),
        (NonceStatus::Used, Some(now + 1))
    );
    assert_eq!(
        nonce_status(&app, "n1").await,
        AttributeValue::S("consumed".into())
    );
    app.shutdown().await;
}

#[tokio::test]
async fn reading_an_expired_nonce_marks_it_expired_but_reports_it_as_read() {
    let mut app = TestApp::start().await;
    let mut c = NonceServiceClient::new(app.channel.clone());
    c.save_nonce(SaveNonceRequest {
        nonce: "old".into(),
        value: "v".into(),
        created_at: 1_000,
        ttl_seconds: 60,
    })
    .await
    .expect("save");
    let item_deletable = app
        .raw_get("curity-nonces", &[("nonce", "old")])
        .await
        .unwrap()["deletableAt"]
        .clone();
    assert_eq!(
        item_deletable,
        AttributeValue::N("87460".into()),
        "createdAt + ttl + 1 day"
    );
    let s = c
        .get_nonce(GetNonceRequest {
            nonce: "old".into(),
        })
        .await
        .answer("call")
        .state
        .unwrap();
    assert_eq!(
        s.status(),
        NonceStatus::Issued,
        "status as read; the caller checks expires_at"
    );
    assert_eq!(
        nonce_status(&app, "old").await,
        AttributeValue::S("expired".into())
    );
    assert!(
        !c.consume_nonce(ConsumeNonceRequest {
            nonce: "old".into(),
            consumed_at: 2_000
        })
        .await
        .answer("call")
        .consumed
    );
    app.shutdown().await;
}

#[tokio::test]
async fn only_curity_token_statuses_are_stored_and_a_missing_status_is_a_malformed_item() {
    let mut app = TestApp::start().await;
    let mut c = TokenServiceClient::new(app.channel.clone());
    // Both directions: the plugin reads `status` with TokenStatus.valueOf,
    // so a status it does not know would make the token unreadable to it.
    let mut t = token("s1");
    t.status = "suspended".into();
    let err = c
        .create_token(CreateTokenRequest { token: Some(t) })
        .await
        .refused(Code::InvalidArgument, "unknown status");
    assert_eq!(detail(&err).expect("detail").field, "token.status");
    c.create_token(CreateTokenRequest {
        token: Some(token("s1")),
    })
    .await
    .expect("create");
    // Revoked last: nothing leaves it (see `a_revoked_token_stays_revoked`).
    for status in ["used", "issued", "revoked"] {
        let n = c
            .set_token_status(SetTokenStatusRequest {
                token_hash: "s1".into(),
                status: status.into(),
            })
            .await
            .answer("known status")
            .updated;
        assert_eq!(n, 1, "{status}");
    }
    c.set_token_status(SetTokenStatusRequest {
        token_hash: "s1".into(),
        status: "expired".into(),
    })
    .await
    .refused(Code::InvalidArgument, "unknown status");
    // An item without status (not one the plugin writes) is reported as
    // malformed instead of a token with status "".
    app.raw
        .put_item()
        .table_name("curity-tokens")
        .item("tokenHash", AttributeValue::S("nostatus".into()))
        .item("delegationsId", AttributeValue::S("d".into()))
        .item("purpose", AttributeValue::S("access_token".into()))
        .send()
        .await
        .expect("raw put");
    c.get_token_by_hash(GetTokenByHashRequest {
        token_hash: "nostatus".into(),
    })
    .await
    .refused(Code::DataLoss, "malformed");
    app.shutdown().await;
}

async fn set_status(c: &mut TokenServiceClient<tonic::transport::Channel>, status: &str) -> u32 {
    c.set_token_status(SetTokenStatusRequest {
        token_hash: "r1".into(),
        status: status.into(),
    })
    .await
    .answer("set status")
    .updated
}

#[tokio::test]
async fn a_revoked_token_stays_revoked() {
    let mut app = TestApp::start().await;
    let mut c = TokenServiceClient::new(app.channel.clone());
    c.create_token(CreateTokenRequest {
        token: Some(token("r1")),
    })
    .await
    .expect("create");
    assert_eq!(set_status(&mut c, "used").await, 1);
    assert_eq!(set_status(&mut c, "revoked").await, 1);
    for back in ["issued", "used"] {
        assert_eq!(set_status(&mut c, back).await, 0, "revoked -> {back}");
    }
    assert_eq!(
        set_status(&mut c, "revoked").await,
        1,
        "revoking again is fine"
    );
    let item = app
        .raw_get("curity-tokens", &[("tokenHash", "r1")])
        .await
        .expect("item");
    assert_eq!(item["status"], AttributeValue::S("revoked".into()));
    app.shutdown().await;
}

#[tokio::test]
async fn consuming_an_expired_nonce_fails_and_marks_it_expired() {
    let mut app = TestApp::start().await;
    let mut c = NonceServiceClient::new(app.channel.clone());
    c.save_nonce(SaveNonceRequest {
        nonce: "stale".into(),
        value: "v".into(),
        created_at: 1_000,
        ttl_seconds: 60,
    })
    .await
    .expect("save");
    let consumed = c
        .consume_nonce(ConsumeNonceRequest {
            nonce: "stale".into(),
            consumed_at: 2_000,
        })
        .await
        .answer("consume")
        .consumed;
    assert!(!consumed, "an expired nonce is not consumed");
    let item = app
        .raw_get("curity-nonces", &[("nonce", "stale")])
        .await
        .expect("item");
    assert_eq!(item["nonceStatus"], AttributeValue::S("expired".into()));
    assert!(!item.contains_key("consumedAt"));
    app.shutdown().await;
}
