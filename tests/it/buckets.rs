//! Buckets over gRPC against an embedded store, in the plugin's layout.

use crate::support::{self, Answer, Refused};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::{
        convert::{json_to_struct, struct_to_json},
        status::detail,
    },
    proto::{
        BucketKey, BucketState, ClearBucketRequest, GetBucketRequest, StoreBucketRequest, Tenant,
        bucket_service_client::BucketServiceClient,
    },
};
use support::app::{RawItem, TestApp};
use tonic::Code;

fn key(t: &str, subject: &str, purpose: &str) -> Option<BucketKey> {
    Some(BucketKey {
        tenant: (!t.is_empty()).then(|| Tenant { id: t.into() }),
        subject: subject.into(),
        purpose: purpose.into(),
    })
}

fn attrs(v: serde_json::Value) -> Option<prost_types::Struct> {
    Some(json_to_struct(v.as_object().cloned().unwrap_or_default()))
}

async fn raw(app: &TestApp, subject: &str, purpose: &str) -> Option<RawItem> {
    app.raw_get(
        "curity-bucket",
        &[("subject", subject), ("purpose", purpose)],
    )
    .await
}

#[tokio::test]
async fn store_get_and_clear_a_bucket_in_the_plugin_layout() {
    let mut app = TestApp::start().await;
    let mut c = BucketServiceClient::new(app.channel.clone());
    let got = c
        .get_bucket(GetBucketRequest {
            key: key("", "jane", "otp"),
        })
        .await
        .answer("call");
    assert_eq!(got.state(), BucketState::NotFound);

    c.store_bucket(StoreBucketRequest {
        key: key("", "jane", "otp"),
        attributes: attrs(serde_json::json!({"n": 1})),
        expires: None,
        ..Default::default()
    })
    .await
    .expect("store");
    let item = raw(&app, "jane", "otp").await.expect("item");
    assert_eq!(item["attributes"], AttributeValue::S(r#"{"n":1}"#.into()));
    let created = item["created"].clone();
    assert!(!item.contains_key("expires") && !item.contains_key("tenantId"));

    // A second store replaces the map, keeps `created`, sets `expires`.
    let far = 4_102_444_800;
    c.store_bucket(StoreBucketRequest {
        key: key("", "jane", "otp"),
        attributes: attrs(serde_json::json!({"n": 2})),
        expires: Some(far),
        ..Default::default()
    })
    .await
    .expect("store again");
    let item = raw(&app, "jane", "otp").await.expect("item");
    assert_eq!(item["created"], created);
    assert_eq!(item["expires"], AttributeValue::N(far.to_string()));
    let got = c
        .get_bucket(GetBucketRequest {
            key: key("", "jane", "otp"),
        })
        .await
        .answer("call");
    assert_eq!(got.state(), BucketState::Found);
    assert_eq!(struct_to_json(got.attributes)["n"], 2);
    assert_eq!(got.expires, Some(far));

    // Storing without an expiry removes it.
    c.store_bucket(StoreBucketRequest {
        key: key("", "jane", "otp"),
        attributes: attrs(serde_json::json!({"n": 3})),
        expires: None,
        ..Default::default()
    })
    .await
    .expect("store without expiry");
    assert!(
        !raw(&app, "jane", "otp")
            .await
            .unwrap()
            .contains_key("expires")
    );

    assert!(
        c.clear_bucket(ClearBucketRequest {
            key: key("", "jane", "otp")
        })
        .await
        .answer("call")
        .cleared
    );
    assert!(
        !c.clear_bucket(ClearBucketRequest {
            key: key("", "jane", "otp")
        })
        .await
        .answer("call")
        .cleared
    );
    app.shutdown().await;
}

#[tokio::test]
async fn expired_buckets_are_reported_not_returned_and_tenants_are_prefixed() {
    let mut app = TestApp::start().await;
    let mut c = BucketServiceClient::new(app.channel.clone());
    c.store_bucket(StoreBucketRequest {
        key: key("acme", "jane", "p"),
        attributes: attrs(serde_json::json!({"a": "b"})),
        expires: Some(1_000),
        ..Default::default()
    })
    .await
    .expect("store");
    let item = raw(&app, "s(acme)#jane", "p").await.expect("tenant item");
    assert_eq!(item["tenantId"], AttributeValue::S("acme".into()));
    let got = c
        .get_bucket(GetBucketRequest {
            key: key("acme", "jane", "p"),
        })
        .await
        .answer("call");
    assert_eq!(got.state(), BucketState::Expired);
    assert_eq!(got.expires, Some(1_000));
    assert!(got.attributes.is_none());
    let other = c
        .get_bucket(GetBucketRequest {
            key: key("", "jane", "p"),
        })
        .await
        .answer("call");
    assert_eq!(
        other.state(),
        BucketState::NotFound,
        "the default tenant does not see acme's bucket"
    );

    let err = c
        .store_bucket(StoreBucketRequest {
            key: key("", "s(acme)#jane", "p"),
            attributes: None,
            expires: None,
            ..Default::default()
        })
        .await
        .refused(Code::InvalidArgument, "a subject shaped like a tenant key");
    assert_eq!(detail(&err).unwrap().field, "key.subject");
    let err = c
        .get_bucket(GetBucketRequest { key: None })
        .await
        .expect_err("no key");
    assert_eq!(detail(&err).unwrap().field, "key");
    app.shutdown().await;
}
