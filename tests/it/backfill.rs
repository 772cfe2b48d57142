//! `tables backfill-initials` against accounts written as plugin versions
//! before October 2022 wrote them (no `userNameInitial` / `emailInitial`),
//! on both servers: the gap it closes, the dry run, the back-fill in the
//! tenant's stored form, idempotence, and doctor's bounded sample.

use crate::support::{self, Answer};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    proto::{ListAccountsRequest, Tenant, account_service_client::AccountServiceClient},
    store::accounts::sample_missing_initials,
};
use support::{
    app::{Backend, TestApp},
    service::{Env, run_cli, stderr, stdout},
};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The items of an old plugin account: main + user name (+ email), no
/// initials anywhere.
async fn put_old_account(
    app: &TestApp,
    tenant: Option<&str>,
    id: &str,
    user: &str,
    email: Option<&str>,
) {
    let prefix = |kind: &str| match tenant {
        None => format!("{kind}#"),
        Some(t) => format!("{kind}({t})#"),
    };
    let mut common: HashMap<String, AttributeValue> = HashMap::from([
        ("accountId".into(), s(id)),
        ("userName".into(), s(user)),
        ("active".into(), AttributeValue::Bool(true)),
        ("attributes".into(), s(r#"{"displayName":"Old"}"#)),
        ("created".into(), AttributeValue::N("1600000000".into())),
        ("updated".into(), AttributeValue::N("1600000000".into())),
        ("version".into(), AttributeValue::N("2".into())),
    ]);
    if let Some(t) = tenant {
        common.insert("tenantId".into(), s(t));
    }
    let mut keys = vec![
        format!("{}{id}", prefix("ai")),
        format!("{}{user}", prefix("un")),
    ];
    if let Some(e) = email {
        common.insert("email".into(), s(e));
        keys.push(format!("{}{e}", prefix("em")));
    }
    for pk in keys {
        let mut item = common.clone();
        item.insert("pk".into(), s(&pk));
        app.raw_put("curity-accounts", item).await;
    }
}

async fn user_names(app: &TestApp, tenant: &str, filter: &str) -> Vec<String> {
    let mut c = AccountServiceClient::new(app.channel.clone());
    let mut names: Vec<String> = c
        .list(ListAccountsRequest {
            tenant: (!tenant.is_empty()).then(|| Tenant { id: tenant.into() }),
            filter: filter.into(),
            ..Default::default()
        })
        .await
        .answer("list")
        .accounts
        .into_iter()
        .map(|a| a.user_name)
        .collect();
    names.sort();
    names
}

/// Runs the real binary's `tables backfill-initials` on the app's tables.
async fn backfill(app: &TestApp, backend: Backend, args: &[&str]) -> (String, String) {
    let env = Env::new();
    let key = match backend {
        Backend::Embedded => "embedded",
        Backend::MiniStack => "test",
    };
    let config = env.write(
        "config.toml",
        &format!(
            "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\naccess_method = \"access_key\"\n\
             [aws.access_key]\naccess_key_id = \"{key}\"\nsecret_access_key = \"{key}\"\n\
             [dynamodb]\ntable_name_prefix = \"{}\"\n",
            app.config.aws.endpoint_url.as_deref().expect("endpoint"),
            app.config.dynamodb.table_name_prefix,
        ),
    );
    let mut all = vec!["tables", "backfill-initials", "--rate", "1000"];
    all.extend_from_slice(args);
    let out = run_cli(&env, Some(&config), &all).await;
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    (stdout(&out), stderr(&out))
}

#[tokio::test]
async fn backfill_makes_old_plugin_accounts_visible_to_prefix_filters_once_and_in_the_tenants_form()
{
    for backend in Backend::ALL {
        let mut app = TestApp::start_backend(backend, |_| {}).await;
        let table = app.table("curity-accounts");
        app.create_account("", "oldie").await;
        put_old_account(&app, None, "id-1", "oldjane", Some("oldjane@x.io")).await;
        put_old_account(&app, Some("acme"), "id-2", "oldjoe", None).await;

        // The gap: the initials index does not see them.
        assert_eq!(
            user_names(&app, "", r#"userName sw "old""#).await,
            ["oldie"]
        );
        assert!(
            user_names(&app, "acme", r#"userName sw "old""#)
                .await
                .is_empty()
        );
        let (found, _) = sample_missing_initials(&app.raw, &table, 1000)
            .await
            .expect("sample");
        assert_eq!(found, 2, "{backend:?}");

        let (out, progress) = backfill(&app, backend, &["--dry-run"]).await;
        assert!(
            out.contains("2 accounts lacked initials, would update 2"),
            "{out}"
        );
        assert!(progress.contains("backfill-initials:"), "{progress}");
        assert_eq!(
            user_names(&app, "", r#"userName sw "old""#).await,
            ["oldie"],
            "a dry run writes nothing"
        );

        // Resuming after a key (as progress prints it) scans from there.
        let (out, _) = backfill(&app, backend, &["--dry-run", "--start-after", "ai#id-1"]).await;
        assert!(out.contains("would update"), "{out}");

        let (out, _) = backfill(&app, backend, &[]).await;
        assert!(
            out.contains("2 accounts lacked initials, updated 2, 0 skipped"),
            "{out}"
        );
        assert_eq!(
            user_names(&app, "", r#"userName sw "old""#).await,
            ["oldie", "oldjane"]
        );
        assert_eq!(
            user_names(&app, "", r#"emails sw "oldj""#).await,
            ["oldjane"]
        );
        assert_eq!(
            user_names(&app, "acme", r#"userName sw "old""#).await,
            ["oldjoe"]
        );
        let main = app
            .raw_get("curity-accounts", &[("pk", "ai(acme)#id-2")])
            .await
            .expect("main item");
        assert_eq!(main["userNameInitial"], s("un(acme)#old"));
        assert!(!main.contains_key("emailInitial"));
        assert_eq!(
            main["version"],
            AttributeValue::N("2".into()),
            "content unchanged"
        );
        let (found, _) = sample_missing_initials(&app.raw, &table, 1000)
            .await
            .expect("sample");
        assert_eq!(found, 0);

        // Idempotent: nothing left to do.
        let (out, _) = backfill(&app, backend, &[]).await;
        assert!(
            out.contains("0 accounts lacked initials, updated 0"),
            "{out}"
        );
        app.shutdown().await;
    }
}
