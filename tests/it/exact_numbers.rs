//! Numbers in attribute blobs, credential attributes, bucket maps and token
//! data round-trip exactly through the `*_json` fields, both ways: written
//! raw as the plugin writes them and read through gRPC, and written through
//! gRPC and checked in the raw item. A `Struct` cannot carry them (every
//! number is a double there).

use crate::support::{self, Answer, Refused};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::{convert::json_to_struct, status::detail},
    proto::{
        BucketKey, CreateAccountRequest, CreateTokenRequest, GetAccountByIdRequest,
        GetBucketRequest, GetCredentialRequest, NewAccount, PatchAccountRequest,
        StoreBucketRequest, StoreCredentialRequest, Token,
        account_service_client::AccountServiceClient, bucket_service_client::BucketServiceClient,
        credential_service_client::CredentialServiceClient,
        token_service_client::TokenServiceClient,
    },
};
use support::app::TestApp;
use tonic::Code;

/// A 64-bit integer a double cannot hold, and a double with no fraction.
const EXACT: &str = r#"{"big":12345678901234567,"ratio":2.0}"#;

fn has_exact_numbers(text: &str) {
    assert!(text.contains(r#""big":12345678901234567"#), "{text}");
    assert!(text.contains(r#""ratio":2.0"#), "{text}");
}

async fn raw_s(app: &TestApp, table: &str, key: &[(&str, &str)], attr: &str) -> String {
    let item = app.raw_get(table, key).await.expect("item");
    match &item[attr] {
        AttributeValue::S(s) => s.clone(),
        other => panic!("{attr}: {other:?}"),
    }
}

#[tokio::test]
async fn account_attributes_keep_64_bit_integers_and_doubles_both_ways() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    // gRPC -> table.
    let created = c
        .create(CreateAccountRequest {
            account: Some(NewAccount {
                user_name: "num".into(),
                active: true,
                attributes_json: EXACT.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .answer("create")
        .account
        .expect("account");
    has_exact_numbers(&created.attributes_json);
    let pk = format!("ai#{}", created.id);
    has_exact_numbers(&raw_s(&app, "curity-accounts", &[("pk", &pk)], "attributes").await);
    // Patch through the JSON text too.
    let patched = c
        .patch(PatchAccountRequest {
            id: created.id.clone(),
            set_attributes_json: r#"{"other":9007199254740993}"#.into(),
            ..Default::default()
        })
        .await
        .answer("patch")
        .account
        .expect("account");
    assert!(patched.attributes_json.contains("9007199254740993"));
    has_exact_numbers(&patched.attributes_json);
    // Table -> gRPC: the plugin's item as written.
    app.raw_put(
        "curity-accounts",
        support::app::item_from([
            ("pk", AttributeValue::S("ai#plugin-1".into())),
            ("accountId", AttributeValue::S("plugin-1".into())),
            ("userName", AttributeValue::S("plugin".into())),
            ("active", AttributeValue::Bool(true)),
            ("attributes", AttributeValue::S(EXACT.into())),
            ("version", AttributeValue::N("0".into())),
        ]),
    )
    .await;
    let read = c
        .get_by_id(GetAccountByIdRequest {
            tenant: None,
            id: "plugin-1".into(),
        })
        .await
        .answer("get")
        .account
        .expect("account");
    has_exact_numbers(&read.attributes_json);
    // One form at a time.
    let err = c
        .create(CreateAccountRequest {
            account: Some(NewAccount {
                user_name: "both".into(),
                attributes: Some(json_to_struct(
                    serde_json::json!({"a": 1})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                )),
                attributes_json: EXACT.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .refused(Code::InvalidArgument, "both forms");
    assert_eq!(
        detail(&err).expect("detail").field,
        "account.attributes_json"
    );
    c.create(CreateAccountRequest {
        account: Some(NewAccount {
            user_name: "notobject".into(),
            attributes_json: "[1,2]".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .refused(Code::InvalidArgument, "not an object");
    app.shutdown().await;
}

#[tokio::test]
async fn credential_attributes_bucket_maps_and_token_data_keep_exact_numbers() {
    let mut app = TestApp::start().await;
    app.create_account("", "cred").await;
    let mut creds = CredentialServiceClient::new(app.channel.clone());
    creds
        .store(StoreCredentialRequest {
            subject: "cred".into(),
            password_hash: Some("$2a$10$x".into()),
            credential_attributes_json: EXACT.into(),
            ..Default::default()
        })
        .await
        .expect("store");
    let got = creds
        .get(GetCredentialRequest {
            tenant: None,
            subject: "cred".into(),
        })
        .await
        .answer("get")
        .credential
        .expect("credential");
    has_exact_numbers(&got.credential_attributes_json);

    let mut buckets = BucketServiceClient::new(app.channel.clone());
    let key = || {
        Some(BucketKey {
            tenant: None,
            subject: "jane".into(),
            purpose: "p".into(),
        })
    };
    let stored = buckets
        .store_bucket(StoreBucketRequest {
            key: key(),
            attributes_json: EXACT.into(),
            ..Default::default()
        })
        .await
        .answer("store");
    has_exact_numbers(&stored.attributes_json);
    has_exact_numbers(
        &raw_s(
            &app,
            "curity-bucket",
            &[("subject", "jane"), ("purpose", "p")],
            "attributes",
        )
        .await,
    );
    let got = buckets
        .get_bucket(GetBucketRequest { key: key() })
        .await
        .answer("get");
    has_exact_numbers(&got.attributes_json);

    let mut tokens = TokenServiceClient::new(app.channel.clone());
    tokens
        .create_token(CreateTokenRequest {
            token: Some(Token {
                token_hash: "exact".into(),
                status: "issued".into(),
                data_json: EXACT.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("create");
    has_exact_numbers(
        &raw_s(
            &app,
            "curity-tokens",
            &[("tokenHash", "exact")],
            "tokenData",
        )
        .await,
    );
    // The plugin's token item, read back.
    app.raw
        .update_item()
        .table_name("curity-tokens")
        .key("tokenHash", AttributeValue::S("exact".into()))
        .update_expression("SET #d = :d")
        .expression_attribute_names("#d", "tokenData")
        .expression_attribute_values(":d", AttributeValue::S(EXACT.into()))
        .send()
        .await
        .expect("raw update");
    let got = support::read::token(&mut tokens, "exact")
        .await
        .expect("token");
    has_exact_numbers(&got.data_json);
    app.shutdown().await;
}
