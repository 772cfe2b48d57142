//! DynamicClientService on both backends: the plugin's item layout both
//! ways, create / update / delete semantics, and every listing shape the
//! index choice produces (template or user index, created or updated
//! order, the unused candidate and `active_only` as filters, scans only
//! when allowed), paged over several cursor pages.

use crate::support::{self, Answer};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::proto::{
    CountDynamicClientsRequest, CreateDynamicClientRequest, DeleteDynamicClientRequest,
    DynamicClient, DynamicClientFilter, DynamicClientSort, GetDynamicClientRequest,
    ListDynamicClientsRequest, PaginationRequest, UpdateDynamicClientRequest,
    dynamic_client_service_client::DynamicClientServiceClient,
};
use support::app::{Backend, TestApp};
use tonic::{Code, transport::Channel};

type Client = DynamicClientServiceClient<Channel>;

fn client(id: &str, template: &str, user: &str, created: i64) -> DynamicClient {
    DynamicClient {
        client_id: id.into(),
        client_secret: Some("$2a$10$secrethash".into()),
        instance_of_client: (!template.is_empty()).then(|| template.into()),
        initial_client: Some("initial".into()),
        authenticated_user: (!user.is_empty()).then(|| user.into()),
        created,
        status: "ACTIVE".into(),
        attributes_json: r#"{"client_name":"App","n":12345678901234567890}"#.into(),
        scope: vec!["openid".into(), "profile".into()],
        redirect_uris: vec!["https://app/cb".into()],
        grant_types: vec!["authorization_code".into()],
        ..Default::default()
    }
}

async fn create(c: &mut Client, d: DynamicClient) -> Result<DynamicClient, tonic::Status> {
    c.create(CreateDynamicClientRequest { client: Some(d) })
        .await
        .map(|r| r.into_inner().client.expect("client"))
}

async fn get(c: &mut Client, id: &str) -> Option<DynamicClient> {
    c.get(GetDynamicClientRequest {
        client_id: id.into(),
    })
    .await
    .answer("get")
    .client
}

fn start(backend: Backend, scans: bool) -> impl Future<Output = TestApp> {
    TestApp::start_backend(backend, move |c| c.dynamodb.allow_table_scans = scans)
}

#[tokio::test]
async fn a_client_round_trips_and_is_stored_in_the_plugin_layout() {
    for backend in Backend::ALL {
        let mut app = start(backend, false).await;
        let mut c = DynamicClientServiceClient::new(app.channel.clone());
        let created = create(&mut c, client("dcr-1", "template", "jane", 1_600_000_000))
            .await
            .expect("create");
        assert_eq!(
            created.created, 1_600_000_000,
            "{backend:?}: a given created is kept"
        );
        assert!(created.updated > created.created);
        assert_eq!(
            get(&mut c, "dcr-1").await,
            Some(created.clone()),
            "{backend:?}"
        );
        let raw = app
            .raw_get("curity-dynamic-clients", &[("clientId", "dcr-1")])
            .await
            .expect("stored");
        let s = |k: &str| raw.get(k).and_then(|v| v.as_s().ok()).map(String::as_str);
        assert_eq!(s("status"), Some("ACTIVE"));
        assert_eq!(s("clientSecret"), Some("$2a$10$secrethash"));
        assert_eq!(s("instanceOfClient"), Some("template"));
        assert_eq!(s("authenticatedUser"), Some("jane"));
        assert_eq!(s("initialClient"), Some("initial"));
        assert_eq!(
            s("attributes"),
            Some(r#"{"client_name":"App","n":12345678901234567890}"#)
        );
        assert_eq!(
            raw.get("created"),
            Some(&AttributeValue::N("1600000000".into()))
        );
        assert_eq!(
            raw.get("scope"),
            Some(&AttributeValue::L(vec![
                AttributeValue::S("openid".into()),
                AttributeValue::S("profile".into())
            ])),
            "{backend:?}: L of S, not a set"
        );
        assert!(matches!(
            raw.get("redirectUris"),
            Some(AttributeValue::L(_))
        ));
        assert!(matches!(raw.get("grantTypes"), Some(AttributeValue::L(_))));

        let mut bare = client("dcr-2", "", "", 0);
        bare.client_secret = Some(String::new());
        bare.scope.clear();
        let bare = create(&mut c, bare).await.expect("create bare");
        assert!(bare.created > 0, "no created given: now");
        let raw = app
            .raw_get("curity-dynamic-clients", &[("clientId", "dcr-2")])
            .await
            .expect("stored");
        for absent in [
            "clientSecret",
            "instanceOfClient",
            "authenticatedUser",
            "scope",
        ] {
            assert!(!raw.contains_key(absent), "{backend:?}: {absent} written");
        }
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_client_the_plugin_wrote_reads_through_get_and_the_listings() {
    for backend in Backend::ALL {
        let mut app = start(backend, false).await;
        let s = |v: &str| AttributeValue::S(v.into());
        let item = HashMap::from([
            ("clientId".to_string(), s("plugin-1")),
            ("instanceOfClient".to_string(), s("tpl")),
            ("authenticatedUser".to_string(), s("bob")),
            (
                "created".to_string(),
                AttributeValue::N("1500000000".into()),
            ),
            (
                "updated".to_string(),
                AttributeValue::N("1500000100".into()),
            ),
            ("status".to_string(), s("ACTIVE")),
            ("attributes".to_string(), s(r#"{"client_name":"Legacy"}"#)),
            (
                "redirectUris".to_string(),
                AttributeValue::L(vec![s("https://legacy/cb")]),
            ),
        ]);
        app.raw_put("curity-dynamic-clients", item).await;
        let mut c = DynamicClientServiceClient::new(app.channel.clone());
        let got = get(&mut c, "plugin-1").await.expect("read");
        assert_eq!(got.redirect_uris, ["https://legacy/cb"]);
        assert_eq!((got.created, got.updated), (1_500_000_000, 1_500_000_100));
        assert!(got.scope.is_empty() && got.client_secret.is_none());
        let listed = c
            .list(ListDynamicClientsRequest {
                filter: Some(DynamicClientFilter {
                    user_name: Some("bob".into()),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .answer("list")
            .clients;
        assert_eq!(listed, [got], "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn updates_keep_what_the_plugin_keeps_and_conflicts_are_reported() {
    for backend in Backend::ALL {
        let mut app = start(backend, false).await;
        let mut c = DynamicClientServiceClient::new(app.channel.clone());
        let created = create(&mut c, client("dcr-1", "template", "jane", 1_600_000_000))
            .await
            .expect("create");
        let err = create(&mut c, client("dcr-1", "t", "u", 0))
            .await
            .expect_err("duplicate");
        assert_eq!(err.code(), Code::AlreadyExists, "{backend:?}");

        let mut change = client("dcr-1", "other-template", "mallory", 5);
        change.client_secret = None;
        change.status = "REVOKED".into();
        change.scope.clear();
        change.attributes_json = r#"{"client_name":"Renamed"}"#.into();
        let updated = c
            .update(UpdateDynamicClientRequest {
                client: Some(change),
            })
            .await
            .answer("update")
            .client
            .expect("client");
        assert_eq!(updated.status, "REVOKED");
        assert_eq!(updated.attributes_json, r#"{"client_name":"Renamed"}"#);
        assert!(
            updated.scope.is_empty(),
            "{backend:?}: an empty list is removed"
        );
        // Never changed by an update.
        assert_eq!(updated.client_secret, created.client_secret, "{backend:?}");
        assert_eq!(updated.instance_of_client.as_deref(), Some("template"));
        assert_eq!(updated.authenticated_user.as_deref(), Some("jane"));
        assert_eq!(updated.created, created.created);
        let raw = app
            .raw_get("curity-dynamic-clients", &[("clientId", "dcr-1")])
            .await
            .expect("stored");
        assert!(!raw.contains_key("scope"), "{backend:?}");

        let err = c
            .update(UpdateDynamicClientRequest {
                client: Some(client("missing", "", "", 0)),
            })
            .await
            .expect_err("missing");
        assert_eq!(err.code(), Code::NotFound, "{backend:?}");
        assert!(
            app.raw_get("curity-dynamic-clients", &[("clientId", "missing")])
                .await
                .is_none(),
            "{backend:?}: an update never creates"
        );
        for _ in 0..2 {
            c.delete(DeleteDynamicClientRequest {
                client_id: "dcr-1".into(),
            })
            .await
            .expect("delete (idempotent)");
        }
        assert_eq!(get(&mut c, "dcr-1").await, None);
        app.shutdown().await;
    }
}

/// Client ids of a listing, every page of `size`.
async fn listed(
    c: &mut Client,
    filter: DynamicClientFilter,
    sort: DynamicClientSort,
    descending: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    for _ in 0..20 {
        let page = c
            .list(ListDynamicClientsRequest {
                filter: Some(filter.clone()),
                sort: sort as i32,
                descending,
                page: Some(PaginationRequest {
                    count: Some(2),
                    cursor: cursor.clone(),
                }),
            })
            .await
            .unwrap_or_else(|e| panic!("{filter:?}: {e:?}"))
            .into_inner();
        assert!(page.clients.len() <= 2);
        out.extend(page.clients.into_iter().map(|c| c.client_id));
        cursor = page.page.expect("page").cursor;
        if cursor.is_empty() {
            return out;
        }
    }
    panic!("no last page");
}

async fn count(c: &mut Client, filter: DynamicClientFilter) -> u64 {
    c.count(CountDynamicClientsRequest {
        filter: Some(filter),
    })
    .await
    .answer("count")
    .count
}

#[tokio::test]
async fn listings_use_the_plugins_index_choice_and_page_by_cursor() {
    for backend in Backend::ALL {
        let mut app = start(backend, false).await;
        let mut c = DynamicClientServiceClient::new(app.channel.clone());
        // (id, template, user, created, status)
        let rows = [
            ("c1", "tpl", "jane", 100, "ACTIVE"),
            ("c2", "tpl", "bob", 200, "ACTIVE"),
            ("c3", "tpl", "jane", 300, "INACTIVE"),
            ("c4", "tpl", "jane", 400, "ACTIVE"),
            ("c5", "tpl", "bob", 500, "REVOKED"),
            ("c6", "tpl", "jane", 600, "ACTIVE"),
            ("c7", "other", "jane", 700, "ACTIVE"),
        ];
        for (id, template, user, created, status) in rows {
            let mut d = client(id, template, user, created);
            d.status = status.into();
            create(&mut c, d).await.expect("create");
        }
        let template = |t: &str| DynamicClientFilter {
            template_id: Some(t.into()),
            ..Default::default()
        };
        let user = |u: &str| DynamicClientFilter {
            user_name: Some(u.into()),
            ..Default::default()
        };
        use DynamicClientSort as S;
        // The template's created index, both ways, over four pages.
        assert_eq!(
            listed(&mut c, template("tpl"), S::Created, false).await,
            ["c1", "c2", "c3", "c4", "c5", "c6"],
            "{backend:?}"
        );
        assert_eq!(
            listed(&mut c, template("tpl"), S::Default, true).await,
            ["c6", "c5", "c4", "c3", "c2", "c1"],
            "{backend:?}"
        );
        // The unused candidate (the user) and active_only as filters.
        let both = DynamicClientFilter {
            template_id: Some("tpl".into()),
            user_name: Some("jane".into()),
            active_only: true,
        };
        assert_eq!(
            listed(&mut c, both.clone(), S::Created, false).await,
            ["c1", "c4", "c6"]
        );
        assert_eq!(count(&mut c, both).await, 3, "{backend:?}");
        // The user's index.
        assert_eq!(
            listed(&mut c, user("jane"), S::None, false).await,
            ["c1", "c3", "c4", "c6", "c7"],
            "{backend:?}"
        );
        assert_eq!(count(&mut c, user("jane")).await, 5);
        assert_eq!(count(&mut c, template("tpl")).await, 6);

        // The updated index orders by last change.
        let mut touch = client("c2", "", "", 0);
        touch.status = "ACTIVE".into();
        // Stamps are in whole seconds: the update must fall in a later one
        // than every creation.
        next_second().await;
        c.update(UpdateDynamicClientRequest {
            client: Some(touch),
        })
        .await
        .expect("update");
        let by_update = listed(&mut c, user("bob"), S::LastModified, true).await;
        assert_eq!(by_update, ["c2", "c5"], "{backend:?}");

        // Neither template nor user: a scan, refused here.
        let err = c
            .list(ListDynamicClientsRequest::default())
            .await
            .expect_err("a scan");
        assert_eq!(err.code(), Code::FailedPrecondition, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn with_scans_allowed_an_unfiltered_listing_pages_through_every_client() {
    for backend in Backend::ALL {
        let mut app = start(backend, true).await;
        let mut c = DynamicClientServiceClient::new(app.channel.clone());
        for i in 0..5 {
            let mut d = client(&format!("s{i}"), "", "", 0);
            if i % 2 == 0 {
                d.status = "INACTIVE".into();
            }
            create(&mut c, d).await.expect("create");
        }
        let mut all = listed(
            &mut c,
            DynamicClientFilter::default(),
            DynamicClientSort::None,
            false,
        )
        .await;
        all.sort();
        assert_eq!(all, ["s0", "s1", "s2", "s3", "s4"], "{backend:?}");
        let active = DynamicClientFilter {
            active_only: true,
            ..Default::default()
        };
        let mut only_active = listed(&mut c, active.clone(), DynamicClientSort::None, false).await;
        only_active.sort();
        assert_eq!(only_active, ["s1", "s3"], "{backend:?}");
        assert_eq!(count(&mut c, active).await, 2);
        app.shutdown().await;
    }
}

#[tokio::test]
async fn invalid_clients_are_refused_naming_the_field() {
    let mut app = start(Backend::Embedded, false).await;
    let mut c = DynamicClientServiceClient::new(app.channel.clone());
    type Spoil = Box<dyn Fn(&mut DynamicClient)>;
    let cases: Vec<(&str, Spoil)> = vec![
        ("client.client_id", Box::new(|d| d.client_id.clear())),
        ("client.status", Box::new(|d| d.status = "active".into())),
        (
            "client.attributes_json",
            Box::new(|d| d.attributes_json = "1".into()),
        ),
        (
            "client",
            Box::new(|d| d.attributes_json = format!(r#"{{"x":"{}"}}"#, "y".repeat(420_000))),
        ),
    ];
    for (field, spoil) in cases {
        let mut d = client("bad", "t", "u", 0);
        spoil(&mut d);
        let err = create(&mut c, d).await.expect_err(field);
        assert_eq!(err.code(), Code::InvalidArgument, "{field}");
        let detail = curity_dynamodb::api::status::detail(&err).expect("detail");
        assert_eq!(detail.field, field);
    }
    assert_eq!(get(&mut c, "bad").await, None);
    app.shutdown().await;
}

#[tokio::test]
async fn a_listing_stops_at_the_read_budget_and_its_cursor_resumes_there() {
    for backend in Backend::ALL {
        let mut app = TestApp::start_backend(backend, |c| {
            c.dynamodb.max_items_read_per_request = 3;
        })
        .await;
        let mut c = DynamicClientServiceClient::new(app.channel.clone());
        for i in 0..8 {
            let mut d = client(&format!("b{i}"), "tpl", "", 100 + i);
            if i % 4 != 0 {
                d.status = "INACTIVE".into();
            }
            create(&mut c, d).await.expect("create");
        }
        let filter = DynamicClientFilter {
            template_id: Some("tpl".into()),
            active_only: true,
            ..Default::default()
        };
        let mut found = Vec::new();
        let mut cursor = String::new();
        let mut truncated_pages = 0;
        for _ in 0..10 {
            let page = c
                .list(ListDynamicClientsRequest {
                    filter: Some(filter.clone()),
                    sort: DynamicClientSort::Created as i32,
                    page: Some(PaginationRequest {
                        count: Some(10),
                        cursor: cursor.clone(),
                    }),
                    ..Default::default()
                })
                .await
                .answer("list");
            truncated_pages += usize::from(page.truncated);
            found.extend(page.clients.into_iter().map(|c| c.client_id));
            cursor = page.page.expect("page").cursor;
            if cursor.is_empty() {
                break;
            }
        }
        assert_eq!(found, ["b0", "b4"], "{backend:?}");
        assert!(truncated_pages >= 2, "{backend:?}: 8 items, 3 per request");
        let counted = c
            .count(CountDynamicClientsRequest {
                filter: Some(filter),
            })
            .await
            .answer("count");
        assert!(counted.truncated, "{backend:?}");
        app.shutdown().await;
    }
}

/// Returns once the wall clock has entered a later second than when called.
async fn next_second() {
    let secs = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
    };
    let start = secs();
    while secs() == start {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
