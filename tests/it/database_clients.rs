//! DatabaseClientService and DatabaseServiceProviderService on both
//! backends: the main item plus one item per tag in the plugin's layout
//! (escaped composite keys, configuration references on the main item),
//! tag add / remove / rename moved atomically, every listing shape the
//! procedure picks (name, tag, created / lastModified, search terms,
//! active only, cursor pages) with each entry listed once and counts that
//! agree, concurrent updates without lost writes.

use crate::support::{self, Answer};

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::proto::{
    CatalogCountRequest, CatalogDeleteRequest, CatalogFilter, CatalogGetRequest,
    CatalogListRequest, DatabaseClient, DatabaseServiceProvider, PaginationRequest,
    PutDatabaseClientRequest, PutDatabaseServiceProviderRequest, TagFilter,
    database_client_service_client::DatabaseClientServiceClient,
    database_service_provider_service_client::DatabaseServiceProviderServiceClient,
};
use support::app::{Backend, RawItem, TestApp};
use tonic::{Code, transport::Channel};

type Clients = DatabaseClientServiceClient<Channel>;

fn client(id: &str, name: &str, tags: &[&str]) -> DatabaseClient {
    DatabaseClient {
        client_id: id.into(),
        client_name: name.into(),
        status: "ACTIVE".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes_json: r#"{"redirect_uris":["https://app/cb"],"capabilities":{"code":{}}}"#
            .into(),
        configuration_references_json:
            r#"{"scopes":["openid","email"],"haapi_policy_id":"haapi-1"}"#.into(),
        ..Default::default()
    }
}

async fn create(
    c: &mut Clients,
    profile: &str,
    d: DatabaseClient,
) -> Result<DatabaseClient, tonic::Status> {
    c.create(PutDatabaseClientRequest {
        profile_id: profile.into(),
        client: Some(d),
    })
    .await
    .map(|r| r.into_inner().client.expect("client"))
}

async fn update(
    c: &mut Clients,
    profile: &str,
    d: DatabaseClient,
) -> Result<DatabaseClient, tonic::Status> {
    c.update(PutDatabaseClientRequest {
        profile_id: profile.into(),
        client: Some(d),
    })
    .await
    .map(|r| r.into_inner().client.expect("client"))
}

/// Every item of the table in `profile`, by its id key.
async fn items(
    app: &TestApp,
    table: &str,
    profile: &str,
    id_key: &str,
) -> HashMap<String, RawItem> {
    let out = app
        .raw
        .query()
        .table_name(app.table(table))
        .key_condition_expression("profile_id = :p")
        .expression_attribute_values(":p", AttributeValue::S(profile.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("raw query");
    out.items()
        .iter()
        .map(|i| (i[id_key].as_s().expect("id key").clone(), i.clone()))
        .collect()
}

fn text<'i>(item: &'i RawItem, k: &str) -> Option<&'i str> {
    item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn num(item: &RawItem, k: &str) -> Option<i64> {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn start(backend: Backend) -> impl Future<Output = TestApp> {
    TestApp::start_backend(backend, |_| {})
}

#[tokio::test]
async fn a_client_is_a_main_item_plus_one_item_per_tag_in_the_plugin_layout() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DatabaseClientServiceClient::new(app.channel.clone());
        let created = create(&mut c, "pro#f", client("c1", "App", &["web", "mobile"]))
            .await
            .expect("create");
        assert_eq!(created.version, 0);
        let all = items(&app, "curity-database-clients", "pro#f", "client_id_key").await;
        assert_eq!(all.len(), 3, "{backend:?}: {:?}", all.keys());
        let main = &all["c1"];
        assert_eq!(text(main, "client_id"), Some("c1"));
        assert_eq!(text(main, "client_name"), Some("App"));
        // Only the first component is escaped.
        assert_eq!(text(main, "client_name_key"), Some("pro\\#f#App"));
        assert!(
            !main.contains_key("tag_key"),
            "a tagged client's main item has no tag key"
        );
        assert_eq!(text(main, "status"), Some("ACTIVE"));
        assert_eq!(num(main, "version"), Some(0));
        assert_eq!(
            main.get("tags"),
            Some(&AttributeValue::L(vec![
                AttributeValue::S("web".into()),
                AttributeValue::S("mobile".into())
            ]))
        );
        assert_eq!(text(main, "haapi_policy_id"), Some("haapi-1"));
        assert!(matches!(main.get("scopes"), Some(AttributeValue::L(l)) if l.len() == 2));
        for tag in ["web", "mobile"] {
            let item = &all[&format!("c1#{tag}")];
            assert_eq!(
                text(item, "tag_key"),
                Some(format!("pro\\#f#{tag}").as_str()),
                "{backend:?}"
            );
            assert!(!item.contains_key("client_name_key") && !item.contains_key("haapi_policy_id"));
            for shared in [
                "client_id",
                "client_name",
                "attributes",
                "status",
                "tags",
                "created",
                "lastModified",
                "version",
            ] {
                assert_eq!(item.get(shared), main.get(shared), "{backend:?}: {shared}");
            }
        }
        // Without tags the main item carries the profile's empty tag key.
        create(&mut c, "p", client("bare", "", &[]))
            .await
            .expect("create");
        let bare = &items(&app, "curity-database-clients", "p", "client_id_key").await["bare"];
        assert_eq!(text(bare, "tag_key"), Some("p#"));
        assert_eq!(text(bare, "client_name_key"), Some("p#"));
        assert!(!bare.contains_key("client_name"));
        let got = c
            .get(CatalogGetRequest {
                profile_id: "pro#f".into(),
                id: "c1".into(),
            })
            .await
            .answer("get")
            .client
            .expect("found");
        assert_eq!((got.client_name.as_str(), got.tags.len()), ("App", 2));
        assert_eq!(got.attributes_json, created.attributes_json);
        let err = create(&mut c, "pro#f", client("c1", "Again", &[]))
            .await
            .expect_err("taken");
        assert_eq!(err.code(), Code::AlreadyExists, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn items_the_plugin_wrote_read_through_get_and_the_tag_listing() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let s = |v: &str| AttributeValue::S(v.into());
        let n = |v: i64| AttributeValue::N(v.to_string());
        let common = HashMap::from([
            ("profile_id".to_string(), s("p")),
            ("client_id".to_string(), s("legacy")),
            ("client_name".to_string(), s("Legacy")),
            ("attributes".to_string(), s(r#"{"secret":"x"}"#)),
            ("created".to_string(), n(1_600_000_000)),
            ("lastModified".to_string(), n(1_600_000_100)),
            ("status".to_string(), s("ACTIVE")),
            ("tags".to_string(), AttributeValue::L(vec![s("old")])),
            ("version".to_string(), n(4)),
        ]);
        let mut main = common.clone();
        main.insert("client_id_key".into(), s("legacy"));
        main.insert("client_name_key".into(), s("p#Legacy"));
        let mut tag = common;
        tag.insert("client_id_key".into(), s("legacy#old"));
        tag.insert("tag_key".into(), s("p#old"));
        for item in [main, tag] {
            app.raw_put("curity-database-clients", item).await;
        }
        let mut c = DatabaseClientServiceClient::new(app.channel.clone());
        let got = c
            .get(CatalogGetRequest {
                profile_id: "p".into(),
                id: "legacy".into(),
            })
            .await
            .answer("get")
            .client
            .expect("found");
        assert_eq!(
            (got.version, got.created, got.tags.as_slice()),
            (4, 1_600_000_000, &["old".to_string()][..])
        );
        let by_tag = list(&mut c, "p", filter_tags(&["old"]), "", false).await;
        assert_eq!(by_tag, ["legacy"], "{backend:?}");
        // An update moves the plugin's items on, version and all.
        let mut change = client("legacy", "Legacy", &["new"]);
        change.configuration_references_json.clear();
        let updated = update(&mut c, "p", change).await.expect("update");
        assert_eq!(updated.version, 5);
        let all = items(&app, "curity-database-clients", "p", "client_id_key").await;
        let mut keys: Vec<&String> = all.keys().collect();
        keys.sort();
        assert_eq!(keys, ["legacy", "legacy#new"], "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn an_update_moves_tag_items_atomically_and_a_delete_removes_them_all() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DatabaseClientServiceClient::new(app.channel.clone());
        let created = create(&mut c, "p", client("c1", "App", &["a", "b"]))
            .await
            .expect("create");
        // Remove a, keep b, add c, in another order; rename.
        let mut change = client("c1", "Renamed", &["c", "b"]);
        change.configuration_references_json = r#"{"haapi_policy_id":"haapi-2"}"#.into();
        let updated = update(&mut c, "p", change).await.expect("update");
        assert_eq!((updated.version, updated.created), (1, created.created));
        let all = items(&app, "curity-database-clients", "p", "client_id_key").await;
        let mut keys: Vec<&String> = all.keys().collect();
        keys.sort();
        assert_eq!(keys, ["c1", "c1#b", "c1#c"], "{backend:?}");
        for item in all.values() {
            assert_eq!(num(item, "version"), Some(1), "{backend:?}");
            assert_eq!(text(item, "client_name"), Some("Renamed"));
        }
        assert_eq!(text(&all["c1"], "client_name_key"), Some("p#Renamed"));
        assert_eq!(text(&all["c1"], "haapi_policy_id"), Some("haapi-2"));
        assert!(!all["c1"].contains_key("scopes"), "references are replaced");
        // Every tag removed: the main item takes the empty tag key.
        update(&mut c, "p", client("c1", "Renamed", &[]))
            .await
            .expect("untag");
        let all = items(&app, "curity-database-clients", "p", "client_id_key").await;
        assert_eq!(all.len(), 1, "{backend:?}");
        assert_eq!(text(&all["c1"], "tag_key"), Some("p#"));

        let err = update(&mut c, "p", client("ghost", "", &[]))
            .await
            .expect_err("missing");
        assert_eq!(err.code(), Code::NotFound, "{backend:?}");
        update(&mut c, "p", client("c1", "Renamed", &["x", "y"]))
            .await
            .expect("retag");
        let del = |id: &str| CatalogDeleteRequest {
            profile_id: "p".into(),
            id: id.into(),
        };
        assert!(c.delete(del("c1")).await.answer("delete").deleted);
        assert!(
            items(&app, "curity-database-clients", "p", "client_id_key")
                .await
                .is_empty()
        );
        assert!(!c.delete(del("c1")).await.answer("delete again").deleted);
        app.shutdown().await;
    }
}

fn filter_tags(tags: &[&str]) -> CatalogFilter {
    CatalogFilter {
        tags: Some(TagFilter {
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }),
        ..Default::default()
    }
}

/// Ids of a listing, every page of 2.
async fn list(
    c: &mut Clients,
    profile: &str,
    filter: CatalogFilter,
    sort_by: &str,
    descending: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    for _ in 0..30 {
        let page = c
            .list(CatalogListRequest {
                profile_id: profile.into(),
                filter: Some(filter.clone()),
                sort_by: sort_by.into(),
                descending,
                page: Some(PaginationRequest {
                    count: Some(2),
                    cursor: cursor.clone(),
                }),
            })
            .await
            .unwrap_or_else(|e| panic!("{filter:?} {sort_by}: {e:?}"))
            .into_inner();
        out.extend(page.clients.into_iter().map(|c| c.client_id));
        cursor = page.page.expect("page").cursor;
        if cursor.is_empty() {
            return out;
        }
    }
    panic!("no last page");
}

async fn count(c: &mut Clients, profile: &str, filter: CatalogFilter) -> u64 {
    c.count(CatalogCountRequest {
        profile_id: profile.into(),
        filter: Some(filter),
    })
    .await
    .answer("count")
    .count
}

#[tokio::test]
async fn every_listing_shape_lists_each_client_once_and_counts_agree() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DatabaseClientServiceClient::new(app.channel.clone());
        // (id, name, tags, status), created in this order (one second apart
        // would be slow: created order is checked by the index, ties allowed).
        let rows: &[(&str, &str, &[&str], &str)] = &[
            ("alpha", "Zeta app", &["web", "prod"], "ACTIVE"),
            ("bravo", "Alpha app", &["web"], "INACTIVE"),
            ("charlie", "Mid app", &[], "ACTIVE"),
            ("delta", "", &["mobile", "web", "prod"], "ACTIVE"),
            ("echo", "Alpha app", &[], "REVOKED"),
        ];
        for (id, name, tags, status) in rows {
            let mut d = client(id, name, tags);
            d.status = status.to_string();
            create(&mut c, "p", d).await.expect("create");
        }
        create(&mut c, "other", client("zulu", "Zeta app", &["web"]))
            .await
            .expect("noise");
        let none = CatalogFilter::default;
        // The default order: by name key (nameless first), main items only.
        let by_name = list(&mut c, "p", none(), "", false).await;
        assert_eq!(by_name[0], "delta", "{backend:?}");
        assert_eq!(&by_name[3..], ["charlie", "alpha"], "{backend:?}");
        let mut sorted = by_name.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["alpha", "bravo", "charlie", "delta", "echo"],
            "{backend:?}: each once"
        );
        assert_eq!(count(&mut c, "p", none()).await, 5, "{backend:?}");
        // Profile-wide by created / lastModified / id: tag items must not
        // repeat their client.
        for sort in ["created", "lastModified", "client_id_key", "client_id"] {
            let mut ids = list(&mut c, "p", none(), sort, true).await;
            ids.sort();
            assert_eq!(ids, sorted, "{backend:?}: sorted by {sort}");
        }
        // One tag, two tags, no tags.
        let mut web = list(&mut c, "p", filter_tags(&["web"]), "", false).await;
        web.sort();
        assert_eq!(
            web,
            ["alpha", "bravo"],
            "{backend:?}: web, named (the name index)"
        );
        let mut web_created = list(&mut c, "p", filter_tags(&["web"]), "created", false).await;
        web_created.sort();
        assert_eq!(web_created, ["alpha", "bravo", "delta"], "{backend:?}");
        // The count follows the default listing: by name, where a client
        // without a name has no place (as the plugin's name indexes).
        assert_eq!(count(&mut c, "p", filter_tags(&["web"])).await, 2);
        let mut web_prod = list(&mut c, "p", filter_tags(&["web", "prod"]), "created", false).await;
        web_prod.sort();
        assert_eq!(web_prod, ["alpha", "delta"], "{backend:?}");
        let mut untagged = list(&mut c, "p", filter_tags(&[]), "created", false).await;
        untagged.sort();
        assert_eq!(untagged, ["charlie", "echo"], "{backend:?}");
        // Exact name: its own partition; with a tag, a key condition on
        // the tag's name index; with search terms, on the name key.
        let named = |name: &str| CatalogFilter {
            name: name.into(),
            ..Default::default()
        };
        let mut alpha_app = list(&mut c, "p", named("Alpha app"), "", false).await;
        alpha_app.sort();
        assert_eq!(alpha_app, ["bravo", "echo"], "{backend:?}");
        let tagged_named = CatalogFilter {
            name: "Alpha app".into(),
            ..filter_tags(&["web"])
        };
        assert_eq!(
            list(&mut c, "p", tagged_named, "", false).await,
            ["bravo"],
            "{backend:?}"
        );
        let searched_named = CatalogFilter {
            search_terms: "app".into(),
            name: "Alpha app".into(),
            ..Default::default()
        };
        let mut searched = list(&mut c, "p", searched_named, "", false).await;
        searched.sort();
        assert_eq!(searched, ["bravo", "echo"], "{backend:?}");
        // Search terms: all words in the id or all in the name.
        let search = |terms: &str| CatalogFilter {
            search_terms: terms.into(),
            ..Default::default()
        };
        let mut app_mid = list(&mut c, "p", search("Mid app"), "", false).await;
        app_mid.sort();
        assert_eq!(app_mid, ["charlie"], "{backend:?}");
        let mut ha = list(&mut c, "p", search("ha"), "", false).await;
        ha.sort();
        assert_eq!(
            ha,
            ["alpha", "bravo", "charlie", "echo"],
            "{backend:?}: 'ha' in the id (alpha, charlie) or the name (Alpha app)"
        );
        // Active only.
        let active = CatalogFilter {
            active_only: true,
            ..Default::default()
        };
        let mut act = list(&mut c, "p", active.clone(), "created", false).await;
        act.sort();
        assert_eq!(act, ["alpha", "charlie", "delta"], "{backend:?}");
        assert_eq!(count(&mut c, "p", active).await, 3);
        // A combination no index serves.
        let err = c
            .list(CatalogListRequest {
                profile_id: "p".into(),
                filter: Some(filter_tags(&["web"])),
                sort_by: "status".into(),
                ..Default::default()
            })
            .await
            .expect_err("no index");
        assert_eq!(err.code(), Code::InvalidArgument, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn concurrent_updates_lose_no_write_and_keep_tag_items_consistent() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DatabaseClientServiceClient::new(app.channel.clone());
        create(&mut c, "p", client("hot", "Hot", &["t0"]))
            .await
            .expect("create");
        let mut tasks = Vec::new();
        for i in 0..50 {
            let mut c = c.clone();
            tasks.push(tokio::spawn(async move {
                let tags = [format!("t{}", i % 3), "shared".to_string()];
                let mut d = client("hot", &format!("Hot {i}"), &[]);
                d.tags = tags.to_vec();
                update(&mut c, "p", d).await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e.code(), Code::Aborted, "{backend:?}: {e:?}"),
            }
        }
        assert!(ok >= 1, "{backend:?}: no update got through");
        let all = items(&app, "curity-database-clients", "p", "client_id_key").await;
        let main = &all["hot"];
        assert_eq!(
            num(main, "version"),
            Some(ok),
            "{backend:?}: every successful update counted once"
        );
        let tags: HashSet<String> = match main.get("tags") {
            Some(AttributeValue::L(l)) => l.iter().map(|v| v.as_s().unwrap().clone()).collect(),
            other => panic!("tags: {other:?}"),
        };
        let tag_items: HashSet<String> = all
            .keys()
            .filter_map(|k| k.strip_prefix("hot#").map(str::to_string))
            .collect();
        assert_eq!(
            tag_items, tags,
            "{backend:?}: tag items are exactly the main item's tags"
        );
        for (k, item) in &all {
            assert_eq!(num(item, "version"), Some(ok), "{backend:?}: {k}");
            assert_eq!(
                text(item, "client_name"),
                text(main, "client_name"),
                "{backend:?}: {k}"
            );
        }
        app.shutdown().await;
    }
}

#[tokio::test]
async fn invalid_clients_are_refused_naming_the_field_and_nothing_is_written() {
    let mut app = start(Backend::Embedded).await;
    let mut c = DatabaseClientServiceClient::new(app.channel.clone());
    type Spoil = Box<dyn Fn(&mut DatabaseClient)>;
    let many: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
    let cases: Vec<(&str, Spoil)> = vec![
        ("client.client_id", Box::new(|d| d.client_id.clear())),
        ("client.client_id", Box::new(|d| d.client_id = "x#y".into())),
        ("client.status", Box::new(|d| d.status = "active".into())),
        (
            "client.tags",
            Box::new(|d| d.tags = vec!["a".into(), "a".into()]),
        ),
        ("client.tags", Box::new(|d| d.tags = vec![String::new()])),
        ("client.tags", Box::new(move |d| d.tags = many.clone())),
        (
            "client.attributes_json",
            Box::new(|d| d.attributes_json = "[]".into()),
        ),
        (
            "client.attributes_json",
            Box::new(|d| d.attributes_json = r#"{"client_id":"other"}"#.into()),
        ),
        (
            "client.attributes_json",
            Box::new(|d| d.attributes_json = r#"{"tags":["x"]}"#.into()),
        ),
        (
            "client.configuration_references_json",
            Box::new(|d| d.configuration_references_json = r#"{"version":"9"}"#.into()),
        ),
        (
            "client.configuration_references_json",
            Box::new(|d| d.configuration_references_json = r#"{"x":1}"#.into()),
        ),
        (
            "client",
            Box::new(|d| d.attributes_json = format!(r#"{{"x":"{}"}}"#, "y".repeat(420_000))),
        ),
    ];
    for (field, spoil) in cases {
        let mut d = client("bad", "Bad", &["t"]);
        spoil(&mut d);
        let err = create(&mut c, "p", d).await.expect_err(field);
        assert_eq!(err.code(), Code::InvalidArgument, "{field}");
        let detail = curity_dynamodb::api::status::detail(&err).expect("detail");
        assert_eq!(detail.field, field);
    }
    assert!(
        items(&app, "curity-database-clients", "p", "client_id_key")
            .await
            .is_empty()
    );
    app.shutdown().await;
}

fn provider(id: &str, name: &str, tags: &[&str]) -> DatabaseServiceProvider {
    DatabaseServiceProvider {
        id: id.into(),
        service_provider_name: name.into(),
        enabled: "ENABLED".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes_json: r#"{"entity_id":"urn:sp"}"#.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn service_providers_follow_the_same_layout_under_their_own_names() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DatabaseServiceProviderServiceClient::new(app.channel.clone());
        for (id, name, tags, enabled) in [
            ("sp1", "Payroll", &["hr"][..], "ENABLED"),
            ("sp2", "Pay portal", &["hr", "web"][..], "DISABLED"),
            ("sp3", "Wiki", &[][..], "ENABLED"),
        ] {
            let mut p = provider(id, name, tags);
            p.enabled = enabled.into();
            c.create(PutDatabaseServiceProviderRequest {
                profile_id: "p".into(),
                service_provider: Some(p),
            })
            .await
            .expect("create");
        }
        let all = items(
            &app,
            "curity-database-service-providers",
            "p",
            "service_provider_id_key",
        )
        .await;
        let mut keys: Vec<&String> = all.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["sp1", "sp1#hr", "sp2", "sp2#hr", "sp2#web", "sp3"],
            "{backend:?}"
        );
        let main = &all["sp2"];
        assert_eq!(text(main, "id"), Some("sp2"));
        assert_eq!(text(main, "service_provider_name"), Some("Pay portal"));
        assert_eq!(
            text(main, "service_provider_name_key"),
            Some("p#Pay portal")
        );
        assert_eq!(text(main, "enabled"), Some("DISABLED"));
        assert_eq!(text(&all["sp2#web"], "tag_key"), Some("p#web"));

        let ids = |page: Vec<DatabaseServiceProvider>| -> Vec<String> {
            page.into_iter().map(|p| p.id).collect()
        };
        let listing = |filter: CatalogFilter, sort_by: &str| CatalogListRequest {
            profile_id: "p".into(),
            filter: Some(filter),
            sort_by: sort_by.into(),
            ..Default::default()
        };
        // The default: the table's own order, main items only.
        let all_sps = c
            .list(listing(CatalogFilter::default(), ""))
            .await
            .answer("list");
        assert_eq!(
            ids(all_sps.service_providers),
            ["sp1", "sp2", "sp3"],
            "{backend:?}"
        );
        // A name prefix (with a tag: the key condition of the tag's name
        // index); an exact-name partition otherwise.
        let prefix = CatalogFilter {
            name: "Pay".into(),
            tags: Some(TagFilter {
                tags: vec!["hr".into()],
            }),
            ..Default::default()
        };
        let mut pay = ids(c
            .list(listing(prefix, ""))
            .await
            .answer("prefix")
            .service_providers);
        pay.sort();
        assert_eq!(pay, ["sp1", "sp2"], "{backend:?}");
        // With search terms the profile is the partition: the prefix goes
        // to the name key's range condition; with a sort requested, to
        // the filter.
        for (filter, sort_by) in [
            (
                CatalogFilter {
                    search_terms: "a".into(),
                    name: "Pay".into(),
                    ..Default::default()
                },
                "",
            ),
            (
                CatalogFilter {
                    name: "Pay".into(),
                    ..Default::default()
                },
                "created",
            ),
        ] {
            let mut found = ids(c
                .list(listing(filter.clone(), sort_by))
                .await
                .unwrap_or_else(|e| panic!("{filter:?}: {e:?}"))
                .into_inner()
                .service_providers);
            found.sort();
            assert_eq!(found, ["sp1", "sp2"], "{backend:?}: {filter:?} {sort_by}");
        }
        let exact = CatalogFilter {
            name: "Wiki".into(),
            ..Default::default()
        };
        assert_eq!(
            ids(c
                .list(listing(exact, ""))
                .await
                .answer("exact")
                .service_providers),
            ["sp3"]
        );
        let enabled = CatalogFilter {
            active_only: true,
            ..Default::default()
        };
        let en = ids(c
            .list(listing(enabled.clone(), "lastModified"))
            .await
            .answer("enabled")
            .service_providers);
        let mut en_sorted = en.clone();
        en_sorted.sort();
        assert_eq!(en_sorted, ["sp1", "sp3"], "{backend:?}");
        let counted = c
            .count(CatalogCountRequest {
                profile_id: "p".into(),
                filter: Some(enabled),
            })
            .await
            .answer("count")
            .count;
        assert_eq!(counted, 2, "{backend:?}");
        let got = c
            .get(CatalogGetRequest {
                profile_id: "p".into(),
                id: "sp2".into(),
            })
            .await
            .answer("get")
            .service_provider
            .expect("found");
        assert_eq!(got.tags, ["hr", "web"]);
        assert!(
            c.delete(CatalogDeleteRequest {
                profile_id: "p".into(),
                id: "sp2".into()
            })
            .await
            .answer("delete")
            .deleted
        );
        let left = items(
            &app,
            "curity-database-service-providers",
            "p",
            "service_provider_id_key",
        )
        .await;
        assert_eq!(left.len(), 3, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn an_id_shaped_like_a_tag_key_reaches_no_other_clients_items() {
    let mut app = start(Backend::Embedded).await;
    let mut c = DatabaseClientServiceClient::new(app.channel.clone());
    create(&mut c, "p", client("x", "X", &["y"]))
        .await
        .expect("create");
    // `x#y` is the key of x's tag item y: neither read nor deleted as a
    // client of its own.
    let got = c
        .get(CatalogGetRequest {
            profile_id: "p".into(),
            id: "x#y".into(),
        })
        .await
        .answer("get")
        .client;
    assert_eq!(got, None);
    let deleted = c
        .delete(CatalogDeleteRequest {
            profile_id: "p".into(),
            id: "x#y".into(),
        })
        .await
        .answer("delete")
        .deleted;
    assert!(!deleted);
    assert_eq!(
        items(&app, "curity-database-clients", "p", "client_id_key")
            .await
            .len(),
        2,
        "x and its tag item are intact"
    );
    app.shutdown().await;
}
