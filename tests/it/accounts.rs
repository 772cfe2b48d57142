//! Accounts over gRPC against an embedded store: every RPC, tenants,
//! uniqueness, moves of secondary items, listing, and the raw items in the
//! Kotlin plugin's layout (both directions).

use crate::support::{self, Answer, Refused};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::{convert::json_to_struct, status::detail},
    proto::{
        CountAccountsRequest, CreateAccountRequest, DeleteAccountRequest, GetAccountByEmailRequest,
        GetAccountByIdRequest, GetAccountByPhoneRequest, GetAccountByUserNameRequest,
        ListAccountsRequest, NewAccount, PaginationRequest, PatchAccountRequest, Tenant,
        UpdateAccountRequest, account_service_client::AccountServiceClient,
    },
};
use serde_json::{Value, json};
use support::app::{RawItem, TestApp};
use tonic::{Code, transport::Channel};

type Client = AccountServiceClient<Channel>;

fn tenant(t: &str) -> Option<Tenant> {
    (!t.is_empty()).then(|| Tenant { id: t.into() })
}

fn attrs(v: Value) -> prost_types::Struct {
    let Value::Object(m) = v else {
        panic!("object")
    };
    json_to_struct(m)
}

fn new_account(user: &str, email: Option<&str>, phone: Option<&str>) -> NewAccount {
    let mut a = json!({"name": {"givenName": "Jane", "familyName": "Doe"}, "displayName": "Jane"});
    if let Some(e) = email {
        a["emails"] = json!([{"value": e, "primary": true}]);
    }
    if let Some(p) = phone {
        a["phoneNumbers"] = json!([{"value": p}]);
    }
    NewAccount {
        user_name: user.into(),
        active: true,
        attributes: Some(attrs(a)),
        ..Default::default()
    }
}

/// Every page of a listing, followed cursor by cursor: the user names per
/// page.
async fn list_pages(c: &mut Client, filter: &str, count: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = c
            .list(ListAccountsRequest {
                tenant: None,
                filter: filter.into(),
                page: Some(PaginationRequest {
                    count: Some(count),
                    cursor: cursor.clone(),
                }),
                ..Default::default()
            })
            .await
            .answer("list");
        pages.push(page.accounts.into_iter().map(|a| a.user_name).collect());
        cursor = page.page.unwrap_or_default().cursor;
        if cursor.is_empty() {
            return pages;
        }
        assert!(pages.len() < 100, "the cursor never ends");
    }
}

async fn create(
    c: &mut Client,
    t: &str,
    a: NewAccount,
) -> Result<curity_dynamodb::proto::Account, tonic::Status> {
    c.create(CreateAccountRequest {
        tenant: tenant(t),
        account: Some(a),
        password_hash: None,
    })
    .await
    .map(|r| r.into_inner().account.expect("account"))
}

async fn raw(app: &TestApp, pk: &str) -> Option<RawItem> {
    app.raw_get("curity-accounts", &[("pk", pk)]).await
}

async fn all_pks(app: &TestApp) -> Vec<String> {
    let mut out: Vec<String> = app
        .raw_scan("curity-accounts")
        .await
        .into_iter()
        .filter_map(|i| match i.get("pk") {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

#[tokio::test]
async fn create_writes_the_four_items_exactly_as_the_plugin_does() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(
        &mut c,
        "",
        new_account("janedoe", Some("jane@example.com"), Some("+46701234567")),
    )
    .await
    .expect("create");
    assert_eq!(a.version, 0);
    assert_eq!(
        all_pks(&app).await,
        [
            format!("ai#{}", a.id),
            "em#jane@example.com".to_string(),
            "pn#+46701234567".to_string(),
            "un#janedoe".to_string()
        ]
    );
    let main = raw(&app, &format!("ai#{}", a.id)).await.expect("main");
    assert_eq!(main["accountId"], s(&a.id));
    assert_eq!(main["userName"], s("janedoe"));
    assert_eq!(main["active"], AttributeValue::Bool(true));
    assert_eq!(main["email"], s("jane@example.com"));
    assert_eq!(main["phone"], s("+46701234567"));
    assert_eq!(main["userNameInitial"], s("jan"));
    assert_eq!(main["emailInitial"], s("jan"));
    assert_eq!(main["version"], AttributeValue::N("0".into()));
    assert!(matches!(main["created"], AttributeValue::N(_)));
    assert_eq!(main["created"], main["updated"]);
    assert!(!main.contains_key("tenantId") && !main.contains_key("password"));
    let AttributeValue::S(blob) = &main["attributes"] else {
        panic!("attributes is S")
    };
    let blob: Value = serde_json::from_str(blob).expect("json blob");
    assert_eq!(blob["displayName"], "Jane");
    assert_eq!(blob["emails"][0]["value"], "jane@example.com");
    for absent in ["userName", "active", "id", "password", "schemas"] {
        assert!(
            blob.get(absent).is_none(),
            "{absent} must not be in the blob"
        );
    }
    // Secondary items: the same data, no initials.
    let un = raw(&app, "un#janedoe").await.expect("un item");
    assert_eq!(un["accountId"], s(&a.id));
    assert!(!un.contains_key("userNameInitial") && !un.contains_key("emailInitial"));
    assert_eq!(un["attributes"], main["attributes"]);
    app.shutdown().await;
}

#[tokio::test]
async fn reads_by_id_user_name_email_and_phone_return_the_account() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(
        &mut c,
        "",
        new_account("jdoe", Some("j@x.io"), Some("+1555")),
    )
    .await
    .expect("create");
    let by_id = c
        .get_by_id(GetAccountByIdRequest {
            tenant: None,
            id: a.id.clone(),
        })
        .await
        .answer("call")
        .account;
    let by_un = c
        .get_by_user_name(GetAccountByUserNameRequest {
            tenant: None,
            user_name: "jdoe".into(),
        })
        .await
        .answer("call")
        .account;
    let by_em = c
        .get_by_email(GetAccountByEmailRequest {
            tenant: None,
            email: "j@x.io".into(),
        })
        .await
        .answer("call")
        .account;
    let by_pn = c
        .get_by_phone(GetAccountByPhoneRequest {
            tenant: None,
            phone: "+1555".into(),
        })
        .await
        .answer("call")
        .account;
    for got in [by_id, by_un, by_em, by_pn] {
        assert_eq!(got.as_ref(), Some(&a));
    }
    let missing = c
        .get_by_user_name(GetAccountByUserNameRequest {
            tenant: None,
            user_name: "nobody".into(),
        })
        .await
        .answer("call");
    assert!(missing.account.is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn custom_tenant_keys_are_prefixed_and_tenants_do_not_see_each_other() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(
        &mut c,
        "acme",
        new_account("johndoe", Some("john@acme.io"), None),
    )
    .await
    .expect("tenant create");
    // The same user name is free in the default tenant.
    let b = create(
        &mut c,
        "",
        new_account("johndoe", Some("john@acme.io"), None),
    )
    .await
    .expect("default create");
    assert_ne!(a.id, b.id);
    let main = raw(&app, &format!("ai(acme)#{}", a.id))
        .await
        .expect("tenant main item");
    assert_eq!(main["tenantId"], s("acme"));
    assert_eq!(main["userNameInitial"], s("un(acme)#joh"));
    assert_eq!(main["emailInitial"], s("em(acme)#joh"));
    assert!(raw(&app, "un(acme)#johndoe").await.is_some());
    assert!(raw(&app, "em(acme)#john@acme.io").await.is_some());
    let seen = c
        .get_by_id(GetAccountByIdRequest {
            tenant: None,
            id: a.id.clone(),
        })
        .await
        .answer("call");
    assert!(
        seen.account.is_none(),
        "default tenant must not see acme's account"
    );
    let err = c
        .get_by_id(GetAccountByIdRequest {
            tenant: tenant("a)#b"),
            id: "x".into(),
        })
        .await
        .refused(Code::InvalidArgument, "bad tenant");
    assert_eq!(detail(&err).unwrap().field, "tenant.id");
    app.shutdown().await;
}

#[tokio::test]
async fn uniqueness_conflicts_name_the_field_and_write_nothing() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    create(
        &mut c,
        "",
        new_account("first", Some("a@x.io"), Some("+100")),
    )
    .await
    .expect("create");
    let before = all_pks(&app).await;
    for (acct, field) in [
        (
            new_account("first", Some("b@x.io"), Some("+200")),
            "account.user_name",
        ),
        (
            new_account("second", Some("a@x.io"), Some("+200")),
            "account.attributes.emails",
        ),
        (
            new_account("second", Some("b@x.io"), Some("+100")),
            "account.attributes.phoneNumbers",
        ),
    ] {
        let err = create(&mut c, "", acct).await.expect_err("conflict");
        assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
        assert_eq!(detail(&err).unwrap().field, field);
    }
    assert_eq!(all_pks(&app).await, before, "nothing half-written");
    app.shutdown().await;
}

#[tokio::test]
async fn update_moves_email_and_phone_items_and_bumps_the_version() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(
        &mut c,
        "",
        new_account("mover", Some("old@x.io"), Some("+1")),
    )
    .await
    .expect("create");
    let updated = c
        .update(UpdateAccountRequest {
            tenant: None,
            id: a.id.clone(),
            account: Some(new_account("mover", Some("new@x.io"), None)),
            expected_version: None,
        })
        .await
        .answer("update")
        .account
        .expect("account");
    assert_eq!(updated.version, 1);
    assert_eq!(updated.created, a.created);
    assert_eq!(
        all_pks(&app).await,
        [
            format!("ai#{}", a.id),
            "em#new@x.io".into(),
            "un#mover".into()
        ]
    );
    let main = raw(&app, &format!("ai#{}", a.id)).await.unwrap();
    assert_eq!(main["email"], s("new@x.io"));
    assert!(!main.contains_key("phone"));
    assert_eq!(
        raw(&app, "un#mover").await.unwrap()["version"],
        AttributeValue::N("1".into())
    );

    // Moving onto a taken email fails and changes nothing.
    create(&mut c, "", new_account("other", Some("taken@x.io"), None))
        .await
        .expect("other");
    let err = c
        .update(UpdateAccountRequest {
            tenant: None,
            id: a.id.clone(),
            account: Some(new_account("mover", Some("taken@x.io"), None)),
            expected_version: None,
        })
        .await
        .refused(Code::AlreadyExists, "taken");
    assert_eq!(detail(&err).unwrap().field, "account.attributes.emails");
    assert_eq!(
        raw(&app, &format!("ai#{}", a.id)).await.unwrap()["version"],
        AttributeValue::N("1".into())
    );

    c.update(UpdateAccountRequest {
        tenant: None,
        id: "nope".into(),
        account: Some(new_account("x", None, None)),
        expected_version: None,
    })
    .await
    .refused(Code::NotFound, "missing");
    app.shutdown().await;
}

#[tokio::test]
async fn update_with_a_stale_expected_version_is_aborted_and_writes_nothing() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(&mut c, "", new_account("reader", Some("r@x.io"), None))
        .await
        .expect("create");
    let update = |account: NewAccount, expected_version| UpdateAccountRequest {
        tenant: None,
        id: a.id.clone(),
        account: Some(account),
        expected_version,
    };
    // What the reader saw (version 0) is still stored: the write lands.
    let first = c
        .update(update(
            new_account("reader", Some("r2@x.io"), None),
            Some(0),
        ))
        .await
        .answer("current version")
        .account
        .expect("account");
    assert_eq!(first.version, 1);

    // A second reader that also read version 0 must not overwrite it.
    let err = c
        .update(update(
            new_account("reader", Some("r3@x.io"), None),
            Some(0),
        ))
        .await
        .refused(Code::Aborted, "stale version");
    assert_eq!(
        detail(&err).unwrap().reason(),
        curity_dynamodb::proto::error_detail::Reason::VersionConflict
    );
    let main = raw(&app, &format!("ai#{}", a.id)).await.unwrap();
    assert_eq!(main["email"], s("r2@x.io"));
    assert_eq!(main["version"], AttributeValue::N("1".into()));
    assert!(raw(&app, "em#r3@x.io").await.is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn patch_sets_and_removes_attributes_and_renames_the_user() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(&mut c, "", new_account("patchme", None, None))
        .await
        .expect("create");
    let p = c
        .patch(PatchAccountRequest {
            tenant: None,
            id: a.id.clone(),
            user_name: Some("patched".into()),
            active: Some(false),
            set_attributes: Some(attrs(json!({"locale": "sv-SE"}))),
            remove_attributes: vec!["displayName".into()],
            ..Default::default()
        })
        .await
        .answer("patch")
        .account
        .expect("account");
    assert_eq!(p.user_name, "patched");
    assert!(!p.active);
    let got = curity_dynamodb::api::convert::struct_to_json(p.attributes);
    assert_eq!(got["locale"], "sv-SE");
    assert!(got.get("displayName").is_none());
    assert!(got.get("name").is_some());
    assert!(raw(&app, "un#patchme").await.is_none());
    assert!(raw(&app, "un#patched").await.is_some());
    app.shutdown().await;
}

#[tokio::test]
async fn delete_removes_every_item_and_a_second_delete_reports_false() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(&mut c, "", new_account("gone", Some("g@x.io"), Some("+9")))
        .await
        .expect("create");
    let d = c
        .delete(DeleteAccountRequest {
            tenant: None,
            id: a.id.clone(),
        })
        .await
        .answer("call");
    assert!(d.deleted);
    assert!(all_pks(&app).await.is_empty());
    let d = c
        .delete(DeleteAccountRequest {
            tenant: None,
            id: a.id.clone(),
        })
        .await
        .answer("call");
    assert!(!d.deleted);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_invalid_argument_and_nothing_is_written() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let huge = "x".repeat(410 * 1024);
    for (acct, field) in [
        (new_account("", None, None), "account.user_name"),
        (
            new_account(&"u".repeat(1025), None, None),
            "account.user_name",
        ),
        (
            NewAccount {
                user_name: "big".into(),
                active: true,
                attributes: Some(attrs(json!({"blob": huge}))),
                ..Default::default()
            },
            "account.attributes",
        ),
    ] {
        let err = create(&mut c, "", acct).await.expect_err("invalid");
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert_eq!(detail(&err).unwrap().field, field);
    }
    let err = c
        .create(CreateAccountRequest {
            tenant: None,
            account: None,
            password_hash: None,
        })
        .await
        .expect_err("missing account");
    assert_eq!(detail(&err).unwrap().field, "account");
    assert!(all_pks(&app).await.is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn plugin_written_items_are_read_and_credential_attributes_do_not_leak() {
    let mut app = TestApp::start().await;
    let common = |pk: &str| {
        HashMap::from([
            ("pk".to_string(), s(pk)),
            (
                "accountId".to_string(),
                s("0b6d5f0e-1111-4222-8333-944445555666"),
            ),
            ("userName".to_string(), s("kotlin")),
            ("active".to_string(), AttributeValue::Bool(true)),
            ("email".to_string(), s("k@x.io")),
            ("password".to_string(), s("$pbkdf2$hash")),
            (
                "credentialAttributes".to_string(),
                s(r#"{"failedLogins":2}"#),
            ),
            (
                "attributes".to_string(),
                s(
                    r#"{"emails":[{"value":"k@x.io","primary":true}],"displayName":"K","credentialAttributes":"{}"}"#,
                ),
            ),
            (
                "created".to_string(),
                AttributeValue::N("1700000000".into()),
            ),
            (
                "updated".to_string(),
                AttributeValue::N("1700000100".into()),
            ),
            ("version".to_string(), AttributeValue::N("4".into())),
            ("nickName".to_string(), s("kot")),
        ])
    };
    let mut main = common("ai#0b6d5f0e-1111-4222-8333-944445555666");
    main.insert("userNameInitial".into(), s("kot"));
    main.insert("emailInitial".into(), s("k@x"));
    for item in [main, common("un#kotlin"), common("em#k@x.io")] {
        app.raw
            .put_item()
            .table_name("curity-accounts")
            .set_item(Some(item))
            .send()
            .await
            .expect("raw put");
    }
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = c
        .get_by_email(GetAccountByEmailRequest {
            tenant: None,
            email: "k@x.io".into(),
        })
        .await
        .answer("call")
        .account
        .expect("found");
    assert_eq!(a.id, "0b6d5f0e-1111-4222-8333-944445555666");
    assert_eq!(
        (a.created, a.updated, a.version),
        (1_700_000_000, 1_700_000_100, 4)
    );
    let attrs = curity_dynamodb::api::convert::struct_to_json(a.attributes);
    assert_eq!(attrs["displayName"], "K");
    assert_eq!(
        attrs["nickName"], "kot",
        "unknown top-level attributes come back"
    );
    assert!(attrs.get("credentialAttributes").is_none());
    assert!(attrs.get("password").is_none());

    // Our update keeps what the plugin wrote: password, credential attributes.
    c.patch(PatchAccountRequest {
        tenant: None,
        id: a.id.clone(),
        active: Some(true),
        ..Default::default()
    })
    .await
    .expect("patch");
    let main = raw(&app, "ai#0b6d5f0e-1111-4222-8333-944445555666")
        .await
        .unwrap();
    assert_eq!(main["password"], s("$pbkdf2$hash"));
    assert_eq!(main["credentialAttributes"], s(r#"{"failedLogins":2}"#));
    assert_eq!(main["version"], AttributeValue::N("5".into()));
    app.shutdown().await;
}

#[tokio::test]
async fn listing_pages_through_an_index_query_and_a_scan() {
    let mut app = TestApp::start_with(|c| c.dynamodb.allow_table_scans = true).await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    for i in 0..7 {
        create(
            &mut c,
            "",
            new_account(&format!("user{i:02}"), Some(&format!("u{i}@x.io")), None),
        )
        .await
        .expect("create");
    }
    create(&mut c, "", new_account("zed", None, None))
        .await
        .expect("create");
    for filter in [r#"userName sw "use""#, ""] {
        let all = list_pages(&mut c, filter, 3).await;
        let pages = all.len();
        assert!(all.iter().all(|p| p.len() <= 3));
        let mut seen: Vec<String> = all.into_iter().flatten().collect();
        let expected = if filter.is_empty() { 8 } else { 7 };
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), expected, "{filter:?}: {seen:?}");
        assert_eq!(
            pages,
            expected.div_ceil(3),
            "{filter:?}: no empty last page"
        );
        let n = c
            .count(CountAccountsRequest {
                tenant: None,
                filter: filter.into(),
            })
            .await
            .answer("call")
            .count;
        assert_eq!(n, expected as u64);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn or_of_two_keys_returns_each_account_once() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    create(&mut c, "", new_account("alice", Some("alice@x.io"), None))
        .await
        .unwrap();
    create(&mut c, "", new_account("bob", Some("bob@x.io"), None))
        .await
        .unwrap();
    let page = c
        .list(ListAccountsRequest {
            tenant: None,
            filter: r#"userName eq "alice" or emails eq "alice@x.io" or emails eq "bob@x.io""#
                .into(),
            page: None,
            ..Default::default()
        })
        .await
        .answer("list");
    let mut names: Vec<_> = page.accounts.into_iter().map(|a| a.user_name).collect();
    names.sort();
    assert_eq!(names, ["alice", "bob"]);
    app.shutdown().await;
}

#[tokio::test]
async fn a_filter_needing_a_scan_fails_when_scans_are_off_and_cursors_are_checked() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let err = c
        .list(ListAccountsRequest {
            tenant: None,
            filter: "active eq true".into(),
            page: None,
            ..Default::default()
        })
        .await
        .refused(Code::FailedPrecondition, "scan not allowed");
    assert!(
        err.message().contains("allow_table_scans"),
        "{}",
        err.message()
    );

    let err = c
        .list(ListAccountsRequest {
            tenant: None,
            filter: r#"userName eq "a""#.into(),
            page: Some(PaginationRequest {
                count: None,
                cursor: "bm90LWEtY3Vyc29y".into(),
            }),
            ..Default::default()
        })
        .await
        .refused(Code::InvalidArgument, "forged cursor");
    assert_eq!(detail(&err).unwrap().field, "page.cursor");

    let err = c
        .list(ListAccountsRequest {
            tenant: None,
            filter: "userName eq".into(),
            page: None,
            ..Default::default()
        })
        .await
        .refused(Code::InvalidArgument, "bad filter");
    assert_eq!(detail(&err).unwrap().field, "filter");
    app.shutdown().await;
}

#[tokio::test]
async fn with_phone_uniqueness_off_no_phone_items_are_written_and_phone_lookup_is_empty() {
    let mut app = TestApp::start_with(|c| c.dynamodb.unique_phone_numbers = false).await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(&mut c, "", new_account("p1", None, Some("+4600")))
        .await
        .expect("create");
    create(&mut c, "", new_account("p2", None, Some("+4600")))
        .await
        .expect("same phone is fine");
    assert!(all_pks(&app).await.iter().all(|pk| !pk.starts_with("pn#")));
    let main = raw(&app, &format!("ai#{}", a.id)).await.unwrap();
    assert_eq!(
        main["phone"],
        s("+4600"),
        "the phone attribute is still written"
    );
    let got = c
        .get_by_phone(GetAccountByPhoneRequest {
            tenant: None,
            phone: "+4600".into(),
        })
        .await
        .answer("call");
    assert!(got.account.is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn listing_in_a_tenant_sees_only_that_tenant() {
    let mut app = TestApp::start_with(|c| c.dynamodb.allow_table_scans = true).await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    create(&mut c, "t1", new_account("shared", None, None))
        .await
        .unwrap();
    create(&mut c, "t1", new_account("only-t1", None, None))
        .await
        .unwrap();
    create(&mut c, "", new_account("shared", None, None))
        .await
        .unwrap();
    let names = |accounts: Vec<curity_dynamodb::proto::Account>| {
        let mut v: Vec<_> = accounts.into_iter().map(|a| a.user_name).collect();
        v.sort();
        v
    };
    let t1 = c
        .list(ListAccountsRequest {
            tenant: tenant("t1"),
            filter: String::new(),
            page: None,
            ..Default::default()
        })
        .await
        .answer("call");
    assert_eq!(names(t1.accounts), ["only-t1", "shared"]);
    let def = c
        .list(ListAccountsRequest {
            tenant: None,
            filter: r#"userName eq "shared""#.into(),
            page: None,
            ..Default::default()
        })
        .await
        .answer("call");
    assert_eq!(def.accounts.len(), 1);
    let n = c
        .count(CountAccountsRequest {
            tenant: tenant("t2"),
            filter: String::new(),
        })
        .await
        .answer("call")
        .count;
    assert_eq!(n, 0);
    app.shutdown().await;
}

#[tokio::test]
async fn sorting_by_user_name_follows_the_index_in_both_directions_and_is_refused_elsewhere() {
    let mut app = TestApp::start_with(|c| c.dynamodb.allow_table_scans = true).await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    for i in [3, 0, 6, 1, 5, 2, 4] {
        create(&mut c, "", new_account(&format!("user{i:02}"), None, None))
            .await
            .expect("create");
    }
    for descending in [false, true] {
        let mut names = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = c
                .list(ListAccountsRequest {
                    tenant: None,
                    filter: r#"userName sw "use""#.into(),
                    page: Some(PaginationRequest {
                        count: Some(3),
                        cursor: cursor.clone(),
                    }),
                    sort_by: curity_dynamodb::proto::AccountSort::UserName as i32,
                    descending,
                })
                .await
                .answer("sorted list");
            names.extend(page.accounts.into_iter().map(|a| a.user_name));
            cursor = page.page.unwrap_or_default().cursor;
            if cursor.is_empty() {
                break;
            }
        }
        let mut expected: Vec<String> = (0..7).map(|i| format!("user{i:02}")).collect();
        if descending {
            expected.reverse();
        }
        assert_eq!(names, expected, "descending={descending}");
    }
    let err = c
        .list(ListAccountsRequest {
            tenant: None,
            filter: String::new(),
            page: None,
            sort_by: curity_dynamodb::proto::AccountSort::UserName as i32,
            descending: false,
        })
        .await
        .refused(Code::FailedPrecondition, "a scan has no order");
    assert!(
        err.message().contains("userNameInitial-userName-index"),
        "{}",
        err.message()
    );
    app.shutdown().await;
}

/// Rewrites the `attributes` blob of every item of an account, as another
/// writer might (the stored top-level `email` / `phone` stay as they are).
async fn rewrite_blob(app: &TestApp, pks: &[&str], blob: Value) {
    for pk in pks {
        app.raw
            .update_item()
            .table_name("curity-accounts")
            .key("pk", s(pk))
            .update_expression("SET #a = :a")
            .expression_attribute_names("#a", "attributes")
            .expression_attribute_values(":a", s(&blob.to_string()))
            .send()
            .await
            .expect("raw update");
    }
}

#[tokio::test]
async fn patch_and_delete_find_secondary_items_by_the_stored_email_and_phone_not_the_blob() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let a = create(
        &mut c,
        "",
        new_account("casey", Some("casey@x.io"), Some("+461")),
    )
    .await
    .expect("create");
    let ai = format!("ai#{}", a.id);
    // The blob's primary email and phone now differ from the stored
    // top-level attributes (and so from the em# / pn# keys).
    let blob = json!({
        "emails": [{"value": "Casey@X.io", "primary": true}],
        "phoneNumbers": [{"value": "+46 1"}],
    });
    rewrite_blob(&app, &[&ai, "un#casey", "em#casey@x.io", "pn#+461"], blob).await;
    let patched = c
        .patch(PatchAccountRequest {
            tenant: None,
            id: a.id.clone(),
            user_name: None,
            active: None,
            set_attributes: Some(attrs(json!({"locale": "sv-SE"}))),
            remove_attributes: vec![],
            ..Default::default()
        })
        .await
        .answer("patch of an account whose blob differs from its keys")
        .account
        .expect("account");
    assert_eq!(patched.version, 1);
    // The secondary items moved to what the blob says now.
    assert_eq!(
        all_pks(&app).await,
        vec![
            ai.clone(),
            "em#Casey@X.io".to_string(),
            "pn#+46 1".to_string(),
            "un#casey".to_string()
        ]
    );
    // And once more, for delete: the blob differs again.
    rewrite_blob(
        &app,
        &[&ai, "un#casey", "em#Casey@X.io", "pn#+46 1"],
        json!({"emails": [{"value": "other@x.io"}], "phoneNumbers": [{"value": "+462"}]}),
    )
    .await;
    let d = c
        .delete(DeleteAccountRequest {
            tenant: None,
            id: a.id.clone(),
        })
        .await
        .answer("delete");
    assert!(d.deleted);
    assert!(all_pks(&app).await.is_empty(), "{:?}", all_pks(&app).await);
    app.shutdown().await;
}

#[tokio::test]
async fn a_timezone_curity_cannot_read_back_is_invalid_argument_naming_the_field() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let mut a = new_account("tz", None, None);
    a.attributes = Some(attrs(json!({"timezone": "Mars/Olympus"})));
    let err = create(&mut c, "", a)
        .await
        .refused(Code::InvalidArgument, "bad zone");
    assert_eq!(
        detail(&err).expect("detail").field,
        "account.attributes.timezone"
    );
    assert!(all_pks(&app).await.is_empty());
    let mut a = new_account("tz", None, None);
    a.attributes = Some(attrs(json!({"timezone": "Europe/Stockholm"})));
    let created = create(&mut c, "", a).await.expect("a real zone");
    c.patch(PatchAccountRequest {
        tenant: None,
        id: created.id,
        set_attributes: Some(attrs(json!({"timezone": 1}))),
        ..Default::default()
    })
    .await
    .refused(Code::InvalidArgument, "not a string");
    app.shutdown().await;
}

#[tokio::test]
async fn list_and_count_stop_at_the_read_budget_and_the_cursor_resumes_after_it() {
    let mut app = TestApp::start_with(|c| {
        c.dynamodb.allow_table_scans = true;
        c.dynamodb.max_items_read_per_request = 50;
    })
    .await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    for i in 0..60 {
        create(
            &mut c,
            "",
            new_account(&format!("budget-{i:02}"), None, None),
        )
        .await
        .expect("create");
    }
    // 120 items (main + user-name items): one scan page reads 101 of them,
    // past the budget of 50, so the first page stops there with a cursor.
    let all = list_pages(&mut c, "active eq true", 100).await;
    let pages = all.len();
    let mut seen: Vec<String> = all.into_iter().flatten().collect();
    assert!(pages >= 2, "the budget never stopped a page");
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((total, seen.len()), (60, 60), "every account once");

    let count = c
        .count(CountAccountsRequest {
            tenant: None,
            filter: "active eq true".into(),
        })
        .await
        .answer("count");
    assert!(count.truncated, "{count:?}");
    assert!(count.count < 60, "{count:?}");
    app.shutdown().await;
}
