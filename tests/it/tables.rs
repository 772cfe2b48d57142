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
    assert!(
        check.status.success(),
        "{}\n{}",
        stdout(&check),
        stderr(&check)
    );

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

const KMS_KEY: &str = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Every production setting of `tables create`, as flags.
fn protection_flags<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "tables",
        "create",
        "--deletion-protection",
        "--sse-kms-key",
        KMS_KEY,
        "--tag",
        "team=identity",
        "--tag",
        "env=test",
    ];
    args.extend_from_slice(extra);
    args
}

/// `tables create --pitr --deletion-protection --sse-kms-key --tag` on
/// MiniStack: new tables get each setting, tables a plain `tables create`
/// made get each one too (through UpdateTable, TagResource,
/// UpdateContinuousBackups), `tables check` reports them on every table, a
/// second run changes nothing, and the deletion protection is real.
#[tokio::test]
async fn production_settings_reach_new_and_existing_tables_on_ministack() {
    let ms = MiniStack::start().await;
    let env = Env::new();
    let root = aws_sdk_dynamodb::Client::new(&ms.root_config());
    TableAdmin {
        client: &root,
        prefix: "old-",
        method: "access_key",
    }
    .create_all(Billing::OnDemand, false)
    .await
    .expect("plain tables");
    for prefix in ["new-", "old-"] {
        let cfg = cli_config(&env, &ms.endpoint, "test", "test", prefix);
        let create = run_cli(&env, Some(&cfg), &protection_flags(&["--pitr"])).await;
        let out = stdout(&create);
        assert!(create.status.success(), "{out}\n{}", stderr(&create));
        assert_eq!(
            out.matches("point-in-time recovery enabled").count(),
            11,
            "{out}"
        );
        if prefix == "old-" {
            for change in [
                "deletion protection enabled".to_string(),
                format!("encryption at rest switched to KMS key {KMS_KEY}"),
                "tags set: team=identity, env=test".to_string(),
            ] {
                assert_eq!(out.matches(&change).count(), 11, "{change}:\n{out}");
            }
        } else {
            assert_eq!(out.matches(": created").count(), 11, "{out}");
        }

        let again = run_cli(&env, Some(&cfg), &protection_flags(&["--pitr"])).await;
        assert!(
            stdout(&again).contains("nothing to change"),
            "{}",
            stdout(&again)
        );

        let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
        let out = stdout(&check);
        assert!(check.status.success(), "{out}");
        for setting in [
            "point-in-time recovery: on".to_string(),
            "deletion protection: on".to_string(),
            format!("encryption at rest: KMS key {KMS_KEY}"),
            "tags: env=test, team=identity".to_string(),
        ] {
            assert_eq!(out.matches(&setting).count(), 11, "{setting}:\n{out}");
        }

        let refused = root
            .delete_table()
            .table_name(format!("{prefix}curity-sessions"))
            .send()
            .await;
        assert!(refused.is_err(), "{prefix}: deletion protection is on");
    }
}

/// Dynoxide has no continuous backups: `--pitr` is refused before any
/// table exists, naming the option to leave out; what CreateTable carries
/// (deletion protection, KMS key, tags) is set and reported, and PITR is
/// reported as unknown rather than off.
#[tokio::test]
async fn on_an_endpoint_without_continuous_backups_pitr_is_refused_before_anything_is_created() {
    let store = Embedded::start(None).await.expect("embedded");
    let env = Env::new();
    let cfg = cli_config(&env, store.endpoint(), "x", "y", "dev-");

    let refused = run_cli(&env, Some(&cfg), &protection_flags(&["--pitr"])).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("does not offer dynamodb:DescribeContinuousBackups")
            && err.contains("leave --pitr out"),
        "{err}"
    );
    let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
    assert_eq!(
        stdout(&check)
            .matches("DIFFERS: table does not exist")
            .count(),
        11,
        "nothing was created: {}",
        stdout(&check)
    );

    let create = run_cli(&env, Some(&cfg), &protection_flags(&[])).await;
    assert!(create.status.success(), "{}", stderr(&create));
    let check = run_cli(&env, Some(&cfg), &["tables", "check"]).await;
    let out = stdout(&check);
    assert!(check.status.success(), "{out}");
    for setting in [
        "point-in-time recovery: unknown".to_string(),
        "deletion protection: on".to_string(),
        format!("encryption at rest: KMS key {KMS_KEY}"),
        "tags: env=test, team=identity".to_string(),
    ] {
        assert_eq!(out.matches(&setting).count(), 11, "{setting}:\n{out}");
    }
}

/// A bad `--tag` or `--sse-kms-key` is refused by the argument parser,
/// naming the flag, before any AWS call.
#[tokio::test]
async fn a_malformed_tag_or_kms_key_is_refused_naming_the_flag() {
    let env = Env::new();
    for (args, flag) in [
        (vec!["tables", "create", "--tag", "team"], "--tag"),
        (vec!["tables", "create", "--tag", "aws:owner=me"], "--tag"),
        (
            vec![
                "tables",
                "create",
                "--sse-kms-key",
                "arn:aws:kms:us-east-1:000000000000:alias/curity",
            ],
            "--sse-kms-key",
        ),
    ] {
        let out = run_cli(&env, None, &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
    }
}
