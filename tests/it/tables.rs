//! `tables create` and `tables check` on an embedded store and on
//! MiniStack: the eleven tables as the plugin defines them, idempotent
//! creation, TTL, and differences named one by one.

use crate::support;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveStatus,
};
use curity_dynamodb::{
    embedded::Embedded,
    store::tables::{Billing, TableAdmin},
};
use support::{
    ministack::MiniStack,
    service::{Env, run_cli, stderr, stdout},
};

fn cli_config(
    env: &Env,
    endpoint: &str,
    key: &str,
    secret: &str,
    prefix: &str,
) -> std::path::PathBuf {
    env.write(
        "tables.toml",
        &format!(
            "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\n[dynamodb]\ntable_name_prefix = \"{prefix}\"\n"
        ),
    )
}

#[tokio::test]
async fn create_then_check_on_embedded_and_second_create_changes_nothing() {
    let store = Embedded::start(None).await.expect("embedded");
    let env = Env::new();
    let cfg = cli_config(&env, store.endpoint(), "x", "y", "dev-");

    let first = run_cli(&env, Some(&cfg), &["tables", "create"]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert_eq!(out.matches(": created").count(), 11, "{out}");
    assert!(out.contains("dev-curity-accounts: created"), "{out}");
    assert_eq!(
        out.matches("TTL on deletableAt enabled").count(),
        5,
        "{out}"
    );

    let second = run_cli(&env, Some(&cfg), &["tables", "create"]).await;
    let out = stdout(&second);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(out.matches("exists, unchanged").count(), 11, "{out}");
    assert!(out.contains("nothing to change"), "{out}");

    let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("11 tables match"),
        "{}",
        stdout(&check)
    );

    // --prefix overrides the configured prefix: nothing exists under it.
    let other = run_cli(&env, Some(&cfg), &["tables", "check", "--prefix", "prod-"]).await;
    assert_eq!(other.status.code(), Some(1));
    assert!(stdout(&other).contains("prod-curity-tokens: DIFFERS: table does not exist"));
}

#[tokio::test]
async fn check_names_each_difference_of_a_hand_made_table() {
    let store = Embedded::start(None).await.expect("embedded");
    let env = Env::new();
    let cfg = cli_config(&env, store.endpoint(), "x", "y", "");
    assert!(
        run_cli(&env, Some(&cfg), &["tables", "create"])
            .await
            .status
            .success()
    );

    // Replace curity-devices with one keyed wrongly and without its index.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(store.endpoint())
        .credentials_provider(aws_credential_types::Credentials::new(
            "x", "y", None, None, "t",
        ))
        .load()
        .await;
    let raw = aws_sdk_dynamodb::Client::new(&sdk);
    raw.delete_table()
        .table_name("curity-devices")
        .send()
        .await
        .expect("delete");
    raw.create_table()
        .table_name("curity-devices")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .expect("attr"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create wrong table");

    let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
    let out = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{out}");
    assert!(
        out.contains("curity-devices: DIFFERS: key schema is (pk), expected (pk, sk)"),
        "{out}"
    );
    assert!(
        out.contains("curity-devices: DIFFERS: attribute pk has type N, expected S"),
        "{out}"
    );
    assert!(
        out.contains("curity-devices: DIFFERS: attribute sk is not defined"),
        "{out}"
    );
    assert!(
        out.contains("curity-devices: DIFFERS: global index deviceId-index is missing"),
        "{out}"
    );
    assert!(
        out.contains("curity-devices: warning: TTL is not enabled"),
        "{out}"
    );
    assert!(out.contains("1 of 11 tables differ"), "{out}");
}

#[tokio::test]
async fn provisioned_billing_sets_capacity_on_tables_and_global_indexes() {
    let store = Embedded::start(None).await.expect("embedded");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(store.endpoint())
        .credentials_provider(aws_credential_types::Credentials::new(
            "x", "y", None, None, "t",
        ))
        .load()
        .await;
    let raw = aws_sdk_dynamodb::Client::new(&sdk);
    TableAdmin {
        client: &raw,
        prefix: "",
        method: "access_key",
    }
    .create_all(Billing::Provisioned, false)
    .await
    .expect("create provisioned");
    let t = raw
        .describe_table()
        .table_name("curity-accounts")
        .send()
        .await
        .expect("describe")
        .table
        .expect("table");
    let p = t.provisioned_throughput().expect("throughput");
    assert_eq!(
        (p.read_capacity_units(), p.write_capacity_units()),
        (Some(10), Some(5))
    );
    for g in t.global_secondary_indexes() {
        let p = g.provisioned_throughput().expect("gsi throughput");
        assert_eq!(
            (p.read_capacity_units(), p.write_capacity_units()),
            (Some(10), Some(5))
        );
    }
    let ttl = raw
        .describe_time_to_live()
        .table_name("curity-tokens")
        .send()
        .await
        .expect("ttl")
        .time_to_live_description
        .expect("ttl description");
    assert_eq!(ttl.attribute_name(), Some("deletableAt"));
    assert!(matches!(
        ttl.time_to_live_status(),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ));
}

#[tokio::test]
async fn create_then_check_on_ministack_with_real_signatures() {
    let ms = MiniStack::start().await;
    let mut env = Env::new();
    env.set("AWS_ENDPOINT_URL_STS", ms.endpoint.clone());
    let iam = ms.setup_iam(env.home.path()).await;
    // The IAM user allowed only curity-* creates and checks the tables.
    let cfg = cli_config(&env, &ms.endpoint, &iam.app_key_id, &iam.app_secret, "");
    let create = run_cli(&env, Some(&cfg), &["tables", "create"]).await;
    assert!(
        create.status.success(),
        "{}\n{}",
        stdout(&create),
        stderr(&create)
    );
    assert_eq!(stdout(&create).matches(": created").count(), 11);
    let again = run_cli(&env, Some(&cfg), &["tables", "create"]).await;
    assert!(
        stdout(&again).contains("nothing to change"),
        "{}",
        stdout(&again)
    );
    let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
    assert!(check.status.success(), "{}", stdout(&check));

    // The same user may not create tables outside curity-*.
    let denied = cli_config(
        &env,
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        "other-",
    );
    let out = run_cli(&env, Some(&denied), &["tables", "create"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("access denied"), "{}", stderr(&out));
}

/// `tables create --streams` on tables made without streams: the five
/// cached tables get a KEYS_ONLY stream through UpdateTable (both
/// backends), the others none, and a second run changes nothing.
#[tokio::test]
async fn create_with_streams_turns_keys_only_streams_on_for_existing_cached_tables() {
    use aws_sdk_dynamodb::types::StreamViewType;
    use support::app::{Backend, TestApp};

    for backend in Backend::ALL {
        let app = TestApp::start_backend(backend, |_| {}).await;
        let admin = TableAdmin {
            client: &app.raw,
            prefix: &app.config.dynamodb.table_name_prefix,
            method: "access_key",
        };
        let report = admin
            .create_all(Billing::OnDemand, true)
            .await
            .expect("create --streams");
        assert_eq!(report.streams_enabled, 5, "{backend:?}: {:?}", report.lines);
        for (table, streamed) in [
            ("curity-accounts", true),
            ("curity-tokens", true),
            ("curity-dynamic-clients", true),
            ("curity-sessions", false),
        ] {
            let t = app
                .raw
                .describe_table()
                .table_name(app.table(table))
                .send()
                .await
                .expect("describe")
                .table
                .expect("table");
            let spec = t.stream_specification().filter(|s| s.stream_enabled());
            assert_eq!(spec.is_some(), streamed, "{backend:?}: {table}");
            if let Some(spec) = spec {
                assert_eq!(
                    spec.stream_view_type(),
                    Some(&StreamViewType::KeysOnly),
                    "{backend:?}: {table}"
                );
                assert!(t.latest_stream_arn().is_some(), "{backend:?}: {table}");
            }
        }
        let again = admin
            .create_all(Billing::OnDemand, true)
            .await
            .expect("second create --streams");
        assert!(!again.changed_anything(), "{backend:?}: {:?}", again.lines);
    }
}
