//! DelegationService on both backends: the plugin's item layout both ways
//! (what we write, compared raw; what the plugin writes, read through
//! gRPC), tenant isolation, offset paging, every filter shape the planner
//! produces, and bulk status changes within the plugin's caps.

use crate::support::{self, Answer, Refused};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::proto::{
    CountActiveDelegationsRequest, CountDelegationsByOwnerRequest, CreateDelegationRequest,
    Delegation, GetDelegationByAuthorizationCodeHashRequest, GetDelegationByIdRequest,
    GetDelegationsByOwnerRequest, ListActiveDelegationsRequest, ListDelegationsRequest, OffsetPage,
    SetDelegationStatusByOwnerAndClientRequest, SetDelegationStatusByOwnerRequest,
    SetDelegationStatusRequest, Tenant, delegation_service_client::DelegationServiceClient,
};
use support::app::{Backend, TestApp};
use tonic::{Code, transport::Channel};

type Client = DelegationServiceClient<Channel>;

fn tenant(t: &str) -> Option<Tenant> {
    (!t.is_empty()).then(|| Tenant { id: t.into() })
}

fn delegation(id: &str, owner: &str, client: &str) -> Delegation {
    Delegation {
        id: id.into(),
        status: "issued".into(),
        owner: owner.into(),
        created: 1_700_000_000,
        expires: 1_700_003_600,
        client_id: client.into(),
        redirect_uri: Some("https://app/cb".into()),
        authorization_code_hash: Some(format!("code-{id}")),
        scope: "openid profile".into(),
        authentication_attributes_json: r#"{"subject":{"subject":"jane"},"context":{"acr":"pw"}}"#
            .into(),
        consent_result_json: String::new(),
        claim_map_json: r#"{"email":"jane@x.io"}"#.into(),
        custom_claim_values_json: r#"{"org":{"unit":"sales"}}"#.into(),
        claims_json: r#"{"a":{"b":[1,"x",null]},"big":12345678901234567890}"#.into(),
        mtls_client_certificate: None,
        mtls_client_certificate_x5t_s256: Some("thumb".into()),
        mtls_client_certificate_dn: None,
    }
}

async fn create(c: &mut Client, t: &str, d: Delegation) {
    c.create(CreateDelegationRequest {
        tenant: tenant(t),
        delegation: Some(d),
    })
    .await
    .expect("create delegation");
}

async fn get(c: &mut Client, t: &str, id: &str) -> Option<Delegation> {
    c.get_by_id(GetDelegationByIdRequest {
        tenant: tenant(t),
        id: id.into(),
    })
    .await
    .answer("get by id")
    .delegation
}

async fn start(backend: Backend) -> TestApp {
    TestApp::start_backend(backend, |c| {
        c.dynamodb.allow_table_scans = true;
        c.dynamodb.delegations.attributes_from_claims = vec!["a.b".into(), "missing".into()];
        c.dynamodb.delegations.attributes_from_custom_claim_values = vec!["org.unit".into()];
    })
    .await
}

#[tokio::test]
async fn a_delegation_round_trips_and_is_stored_in_the_plugin_layout() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DelegationServiceClient::new(app.channel.clone());
        let d = delegation("d-1", "jane", "client-1");
        create(&mut c, "", d.clone()).await;
        assert_eq!(get(&mut c, "", "d-1").await, Some(d.clone()), "{backend:?}");

        let raw = app
            .raw_get("curity-delegations", &[("id", "d-1")])
            .await
            .expect("stored");
        let s = |k: &str| raw.get(k).and_then(|v| v.as_s().ok()).cloned();
        let n = |k: &str| raw.get(k).and_then(|v| v.as_n().ok()).cloned();
        assert_eq!(s("version").as_deref(), Some("6.2"));
        assert_eq!(s("status").as_deref(), Some("issued"));
        assert_eq!(s("owner").as_deref(), Some("jane"));
        assert_eq!(s("clientId").as_deref(), Some("client-1"));
        assert_eq!(n("created").as_deref(), Some("1700000000"));
        assert_eq!(n("expires").as_deref(), Some("1700003600"));
        // expires + dynamodb.ttl.delegations_retain_seconds (one year).
        assert_eq!(n("deletableAt").as_deref(), Some("1731539600"));
        assert_eq!(s("authorizationCodeHash").as_deref(), Some("code-d-1"));
        assert_eq!(s("mtlsClientCertificateX5TS256").as_deref(), Some("thumb"));
        // JSON text exactly as sent (the big number too).
        assert_eq!(s("claims").as_deref(), Some(d.claims_json.as_str()));
        assert_eq!(
            s("authenticationAttributes").as_deref(),
            Some(d.authentication_attributes_json.as_str())
        );
        for absent in [
            "tenantId",
            "consentResult",
            "claims_missing",
            "mtlsClientCertificate",
        ] {
            assert!(!raw.contains_key(absent), "{backend:?}: {absent} written");
        }
        assert_eq!(
            raw.get("claims_a_b"),
            Some(&AttributeValue::L(vec![
                AttributeValue::N("1".into()),
                AttributeValue::S("x".into()),
                AttributeValue::Null(true),
            ])),
            "{backend:?}"
        );
        assert_eq!(s("customClaimValues_org_unit").as_deref(), Some("sales"));

        // A custom tenant's item names it.
        create(&mut c, "acme", delegation("d-2", "jane", "client-1")).await;
        let raw = app
            .raw_get("curity-delegations", &[("id", "d-2")])
            .await
            .expect("stored");
        assert_eq!(raw.get("tenantId"), Some(&AttributeValue::S("acme".into())));
        app.shutdown().await;
    }
}

/// An item exactly as the plugin writes it (every attribute its reader
/// requires, `consentResult` present).
fn plugin_item(app: &TestApp, id: &str) -> HashMap<String, AttributeValue> {
    let _ = app;
    let s = |v: &str| AttributeValue::S(v.into());
    let n = |v: i64| AttributeValue::N(v.to_string());
    HashMap::from([
        ("version".to_string(), s("6.2")),
        ("id".to_string(), s(id)),
        ("status".to_string(), s("issued")),
        ("owner".to_string(), s("bob")),
        ("created".to_string(), n(1_600_000_000)),
        ("expires".to_string(), n(1_900_000_000)),
        ("deletableAt".to_string(), n(1_931_536_000)),
        ("clientId".to_string(), s("www")),
        ("redirectUri".to_string(), s("https://www/cb")),
        ("authorizationCodeHash".to_string(), s("plugin-code")),
        ("scope".to_string(), s("openid")),
        (
            "authenticationAttributes".to_string(),
            s(r#"{"subject":{"subject":"bob"},"context":{}}"#),
        ),
        (
            "consentResult".to_string(),
            s(r#"{"consented":["openid"]}"#),
        ),
        ("claimMap".to_string(), s("{}")),
        ("customClaimValues".to_string(), s("{}")),
        ("claims".to_string(), s(r#"{"sub":"bob"}"#)),
        ("mtlsClientCertificateDN".to_string(), s("CN=www")),
    ])
}

#[tokio::test]
async fn items_the_plugin_wrote_read_through_every_lookup() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        app.raw_put("curity-delegations", plugin_item(&app, "p-1"))
            .await;
        let mut c = DelegationServiceClient::new(app.channel.clone());
        let d = get(&mut c, "", "p-1").await.expect("read by id");
        assert_eq!(d.owner, "bob");
        assert_eq!(d.consent_result_json, r#"{"consented":["openid"]}"#);
        assert_eq!(d.mtls_client_certificate_dn.as_deref(), Some("CN=www"));
        let by_code = c
            .get_by_authorization_code_hash(GetDelegationByAuthorizationCodeHashRequest {
                tenant: None,
                authorization_code_hash: "plugin-code".into(),
            })
            .await
            .answer("by code")
            .delegation;
        assert_eq!(by_code, Some(d.clone()), "{backend:?}");
        let owned = c
            .get_by_owner(GetDelegationsByOwnerRequest {
                tenant: None,
                owner: "bob".into(),
                page: None,
            })
            .await
            .answer("by owner")
            .list
            .expect("list");
        assert_eq!(
            owned.delegations,
            [by_code.clone().expect("delegation")],
            "{backend:?}"
        );
        for filter in ["client_id eq \"www\"", "scope eq \"openid\""] {
            let listed = c
                .list(ListDelegationsRequest {
                    filter: filter.into(),
                    ..Default::default()
                })
                .await
                .answer("list")
                .list
                .expect("list");
            assert_eq!(
                listed.delegations, owned.delegations,
                "{backend:?} {filter}"
            );
        }
        let active = c
            .list_active(ListActiveDelegationsRequest::default())
            .await
            .answer("active")
            .list
            .expect("list");
        assert_eq!(active.delegations, owned.delegations, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_tenant_can_neither_read_nor_change_nor_overwrite_another_tenants_delegation() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DelegationServiceClient::new(app.channel.clone());
        create(&mut c, "acme", delegation("shared", "jane", "client-1")).await;
        for other in ["", "globex"] {
            assert_eq!(
                get(&mut c, other, "shared").await,
                None,
                "{backend:?} {other}"
            );
            let by_code = c
                .get_by_authorization_code_hash(GetDelegationByAuthorizationCodeHashRequest {
                    tenant: tenant(other),
                    authorization_code_hash: "code-shared".into(),
                })
                .await
                .answer("by code")
                .delegation;
            assert_eq!(by_code, None, "{backend:?} {other}");
            let updated = c
                .set_status(SetDelegationStatusRequest {
                    tenant: tenant(other),
                    id: "shared".into(),
                    status: "revoked".into(),
                })
                .await
                .answer("set status")
                .updated;
            assert_eq!(updated, 0, "{backend:?} {other}");
            let err = c
                .create(CreateDelegationRequest {
                    tenant: tenant(other),
                    delegation: Some(delegation("shared", "mallory", "client-1")),
                })
                .await
                .expect_err("another tenant's id");
            assert_eq!(err.code(), Code::AlreadyExists, "{backend:?} {other}");
            for filter in ["", "owner eq \"jane\"", "externalId eq \"shared\""] {
                let list = c
                    .list(ListDelegationsRequest {
                        tenant: tenant(other),
                        filter: filter.into(),
                        ..Default::default()
                    })
                    .await
                    .answer("list")
                    .list
                    .expect("list");
                assert_eq!(list.total_results, 0, "{backend:?} {other} {filter:?}");
            }
            let bulk = c
                .set_status_by_owner(SetDelegationStatusByOwnerRequest {
                    tenant: tenant(other),
                    owner: "jane".into(),
                    status: "revoked".into(),
                })
                .await
                .answer("bulk");
            assert_eq!(bulk.updated, 0, "{backend:?} {other}");
        }
        let still = get(&mut c, "acme", "shared").await.expect("untouched");
        assert_eq!(
            (still.owner.as_str(), still.status.as_str()),
            ("jane", "issued")
        );
        app.shutdown().await;
    }
}

#[tokio::test]
async fn get_by_id_returns_only_issued_delegations_and_the_code_lookup_any_status() {
    let mut app = start(Backend::Embedded).await;
    let mut c = DelegationServiceClient::new(app.channel.clone());
    create(&mut c, "", delegation("d-1", "jane", "client-1")).await;
    let set = |status: &str| SetDelegationStatusRequest {
        tenant: None,
        id: "d-1".into(),
        status: status.into(),
    };
    assert_eq!(
        c.set_status(set("revoked")).await.answer("revoke").updated,
        1
    );
    assert_eq!(get(&mut c, "", "d-1").await, None);
    let by_code = c
        .get_by_authorization_code_hash(GetDelegationByAuthorizationCodeHashRequest {
            tenant: None,
            authorization_code_hash: "code-d-1".into(),
        })
        .await
        .answer("by code")
        .delegation
        .expect("found whatever its status");
    assert_eq!(by_code.status, "revoked");
    let missing = SetDelegationStatusRequest {
        id: "nope".into(),
        ..set("revoked")
    };
    assert_eq!(c.set_status(missing).await.answer("missing").updated, 0);
    c.set_status(set("REVOKED"))
        .await
        .refused(Code::InvalidArgument, "not a status");
    app.shutdown().await;
}

#[tokio::test]
async fn by_owner_and_active_listings_page_by_offset_and_count_every_match() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DelegationServiceClient::new(app.channel.clone());
        for i in 0..7 {
            create(
                &mut c,
                "",
                delegation(&format!("o-{i}"), "owner-1", "client-1"),
            )
            .await;
        }
        create(&mut c, "", delegation("other", "owner-2", "client-1")).await;
        create(&mut c, "acme", delegation("foreign", "owner-1", "client-1")).await;
        for i in [5, 6] {
            c.set_status(SetDelegationStatusRequest {
                tenant: None,
                id: format!("o-{i}"),
                status: "revoked".into(),
            })
            .await
            .expect("revoke");
        }
        let mut seen = Vec::new();
        for start in (0..6).step_by(2) {
            let list = c
                .get_by_owner(GetDelegationsByOwnerRequest {
                    tenant: None,
                    owner: "owner-1".into(),
                    page: Some(OffsetPage {
                        start_index: start,
                        count: Some(2),
                    }),
                })
                .await
                .answer("page")
                .list
                .expect("list");
            assert_eq!(list.total_results, 5, "{backend:?}");
            seen.extend(list.delegations.into_iter().map(|d| d.id));
        }
        seen.sort();
        assert_eq!(seen, ["o-0", "o-1", "o-2", "o-3", "o-4"], "{backend:?}");
        let count = c
            .count_by_owner(CountDelegationsByOwnerRequest {
                tenant: None,
                owner: "owner-1".into(),
            })
            .await
            .answer("count")
            .count
            .expect("count");
        assert_eq!((count.count, count.truncated), (5, false), "{backend:?}");

        let active = c
            .list_active(ListActiveDelegationsRequest {
                tenant: None,
                page: Some(OffsetPage {
                    start_index: 1,
                    count: Some(3),
                }),
            })
            .await
            .answer("active")
            .list
            .expect("list");
        assert_eq!(
            (active.total_results, active.delegations.len()),
            (6, 3),
            "{backend:?}"
        );
        let count = c
            .count_active(CountActiveDelegationsRequest {
                tenant: tenant("acme"),
            })
            .await
            .answer("count active")
            .count
            .expect("count");
        assert_eq!(count.count, 1, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn scans_are_refused_unless_allowed() {
    let mut app = TestApp::start_with(|c| c.dynamodb.allow_table_scans = false).await;
    let mut c = DelegationServiceClient::new(app.channel.clone());
    c.list_active(ListActiveDelegationsRequest::default())
        .await
        .refused(Code::FailedPrecondition, "a scan");
    c.count_active(CountActiveDelegationsRequest::default())
        .await
        .refused(Code::FailedPrecondition, "a scan");
    for filter in ["", "redirect_uri eq \"https://app/cb\"", "owner sw \"ja\""] {
        let err = c
            .list(ListDelegationsRequest {
                filter: filter.into(),
                ..Default::default()
            })
            .await
            .expect_err("a scan");
        assert_eq!(err.code(), Code::FailedPrecondition, "{filter:?}");
    }
    // Index-served filters need no scan.
    c.list(ListDelegationsRequest {
        filter: "client_id eq \"c\" and status eq \"issued\"".into(),
        ..Default::default()
    })
    .await
    .expect("an index query");
    app.shutdown().await;
}

/// Ids a filter lists (every page), sorted unless `sort_by` is given.
async fn ids(c: &mut Client, filter: &str, sort_by: &str, descending: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let list = c
            .list(ListDelegationsRequest {
                tenant: None,
                filter: filter.into(),
                sort_by: sort_by.into(),
                descending,
                page: Some(OffsetPage {
                    start_index: start,
                    count: Some(2),
                }),
            })
            .await
            .unwrap_or_else(|e| panic!("{filter}: {e:?}"))
            .into_inner()
            .list
            .expect("list");
        let n = list.delegations.len() as u32;
        out.extend(list.delegations.into_iter().map(|d| d.id));
        start += n;
        if n == 0 || u64::from(start) >= list.total_results {
            assert_eq!(u64::from(start), list.total_results, "{filter}");
            break;
        }
    }
    if sort_by.is_empty() {
        out.sort();
    }
    out
}

#[tokio::test]
async fn every_filter_shape_lists_exactly_the_matching_delegations_over_pages() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DelegationServiceClient::new(app.channel.clone());
        // (id, owner, client, status, expires, redirect)
        let rows = [
            ("a", "jane", "c1", "issued", 100, "https://one/cb"),
            ("b", "jane", "c1", "revoked", 200, "https://two/cb"),
            ("c", "jane", "c2", "issued", 300, "https://one/cb"),
            ("d", "bob", "c1", "issued", 400, "https://one/cb"),
            ("e", "bob", "c2", "revoked", 500, "https://two/cb"),
            ("f", "ann", "c1", "issued", 600, "https://three/cb"),
        ];
        for (id, owner, client, status, expires, redirect) in rows {
            let mut d = delegation(id, owner, client);
            d.status = status.into();
            d.expires = expires;
            d.redirect_uri = Some(redirect.into());
            create(&mut c, "", d).await;
        }
        // Noise in another tenant.
        create(&mut c, "acme", delegation("x", "jane", "c1")).await;
        let cases: &[(&str, &[&str])] = &[
            // clientId-status-index with an expires filter (the plugin's pinned shape).
            (
                "status eq \"issued\" and expires gt 100 and client_id eq \"c1\"",
                &["d", "f"],
            ),
            // `ne` on the range key: two queries.
            ("status ne \"issued\" and client_id eq \"c1\"", &["b"]),
            // ge + le on the range key: BETWEEN.
            (
                "owner eq \"jane\" and status ge \"issued\" and status le \"revoked\"",
                &["a", "b", "c"],
            ),
            ("userName eq \"jane\"", &["a", "b", "c"]),
            // The table key.
            ("externalId eq \"d\"", &["d"]),
            ("externalId eq \"d\" and status eq \"revoked\"", &[]),
            // Alternatives on two indexes, overlapping: each once.
            (
                "owner eq \"jane\" or client_id eq \"c2\"",
                &["a", "b", "c", "e"],
            ),
            (
                "(owner eq \"jane\" or owner eq \"bob\") and status eq \"issued\"",
                &["a", "c", "d"],
            ),
            // Scans.
            ("redirect_uri eq \"https://one/cb\"", &["a", "c", "d"]),
            ("redirectUri ew \"two/cb\"", &["b", "e"]),
            ("not (redirectUri ew \"one/cb\")", &["b", "e", "f"]),
            ("scope co \"profile\" and expires le 300", &["a", "b", "c"]),
            ("expires ge 200 and expires lt 500", &["b", "c", "d"]),
            ("", &["a", "b", "c", "d", "e", "f"]),
        ];
        for (filter, want) in cases {
            assert_eq!(
                ids(&mut c, filter, "", false).await,
                *want,
                "{backend:?}: {filter}"
            );
        }
        assert_eq!(
            ids(&mut c, "client_id eq \"c1\"", "expires", true).await,
            ["f", "d", "b", "a"],
            "{backend:?}"
        );
        // Ties (two of bob's) may come in any order; the values may not.
        let by_owner = ids(&mut c, "", "owner", false).await;
        assert_eq!(by_owner[0], "f", "{backend:?}");
        let mut bob = by_owner[1..3].to_vec();
        bob.sort();
        assert_eq!(bob, ["d", "e"], "{backend:?}");
        for huge in ["expires gt 1e300", "expires eq 1.5"] {
            let err = c
                .list(ListDelegationsRequest {
                    filter: format!("owner eq \"jane\" and {huge}"),
                    ..Default::default()
                })
                .await
                .expect_err(huge);
            assert_eq!(err.code(), Code::InvalidArgument, "{backend:?} {huge}");
        }
        for bad in ["nope eq 1", "status eq \"gone\"", "expires eq \"soon\""] {
            let err = c
                .list(ListDelegationsRequest {
                    filter: bad.into(),
                    ..Default::default()
                })
                .await
                .expect_err(bad);
            assert_eq!(err.code(), Code::InvalidArgument, "{bad}");
        }
        c.list(ListDelegationsRequest {
            sort_by: "color".into(),
            ..Default::default()
        })
        .await
        .refused(Code::InvalidArgument, "unknown sort");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn bulk_status_changes_go_in_batches_and_refuse_more_than_200() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DelegationServiceClient::new(app.channel.clone());
        for i in 0..150 {
            let client = if i < 140 { "c1" } else { "c2" };
            create(&mut c, "", delegation(&format!("m-{i:03}"), "many", client)).await;
        }
        let by_client = c
            .set_status_by_owner_and_client(SetDelegationStatusByOwnerAndClientRequest {
                tenant: None,
                owner: "many".into(),
                client_id: "c1".into(),
                status: "revoked".into(),
            })
            .await
            .answer("by client");
        assert_eq!(
            (by_client.updated, by_client.too_many),
            (140, false),
            "{backend:?}"
        );
        let rest = c
            .set_status_by_owner(SetDelegationStatusByOwnerRequest {
                tenant: None,
                owner: "many".into(),
                status: "revoked".into(),
            })
            .await
            .answer("by owner");
        assert_eq!(rest.updated, 10, "{backend:?}");
        for i in 150..351 {
            create(&mut c, "", delegation(&format!("m-{i:03}"), "many", "c1")).await;
        }
        // 201 issued: revoking them would be more than 200.
        let over = c
            .set_status_by_owner(SetDelegationStatusByOwnerRequest {
                tenant: None,
                owner: "many".into(),
                status: "revoked".into(),
            })
            .await
            .answer("too many");
        assert!(over.too_many, "{backend:?}");
        let issued = c
            .count_by_owner(CountDelegationsByOwnerRequest {
                tenant: None,
                owner: "many".into(),
            })
            .await
            .answer("count")
            .count
            .expect("count")
            .count;
        assert_eq!(issued, 201, "{backend:?}: nothing changed");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn invalid_delegations_are_refused_naming_the_field_and_nothing_is_written() {
    let mut app = start(Backend::Embedded).await;
    let mut c = DelegationServiceClient::new(app.channel.clone());
    type Spoil = Box<dyn Fn(&mut Delegation)>;
    let cases: Vec<(&str, Spoil)> = vec![
        ("delegation.id", Box::new(|d| d.id.clear())),
        ("delegation.owner", Box::new(|d| d.owner.clear())),
        ("delegation.client_id", Box::new(|d| d.client_id.clear())),
        (
            "delegation.status",
            Box::new(|d| d.status = "active".into()),
        ),
        (
            "delegation.claims_json",
            Box::new(|d| d.claims_json = "[1]".into()),
        ),
        (
            "delegation.authentication_attributes_json",
            Box::new(|d| d.authentication_attributes_json.clear()),
        ),
        (
            "delegation.consent_result_json",
            Box::new(|d| d.consent_result_json = "{".into()),
        ),
        (
            "delegation",
            Box::new(|d| d.claims_json = format!(r#"{{"x":"{}"}}"#, "y".repeat(420_000))),
        ),
    ];
    for (field, spoil) in cases {
        let mut d = delegation("bad", "jane", "c1");
        spoil(&mut d);
        let err = c
            .create(CreateDelegationRequest {
                tenant: None,
                delegation: Some(d),
            })
            .await
            .expect_err(field);
        assert_eq!(err.code(), Code::InvalidArgument, "{field}");
        let detail = curity_dynamodb::api::status::detail(&err).expect("detail");
        assert_eq!(detail.field, field);
    }
    assert!(
        app.raw_get("curity-delegations", &[("id", "bad")])
            .await
            .is_none()
    );
    app.shutdown().await;
}
