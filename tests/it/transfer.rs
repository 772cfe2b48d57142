//! `export` and `import`: every table's items (`every_rpc`'s remains and
//! `seed_every_table`'s items) go out to
//! files and back into other tables item for item, on both backends; a
//! second import writes nothing and a newer item is never overwritten; an
//! interrupted export and import resume where they stopped.

use crate::support;

use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    schema,
    store::{
        codec::Item,
        tables::{Billing, TableAdmin},
    },
    transfer::{ExportOptions, ImportOptions, Transfer, dynamo_json, export_table, import_table},
};
use support::{
    app::{Backend, TestApp},
    proxy::{Fault, FaultProxy},
    rpcs::{every_rpc, seed_every_table},
    service::{Env, run_cli, stderr, stdout},
};

async fn seeded(backend: Backend) -> TestApp {
    let app = TestApp::start_backend(backend, |c| c.dynamodb.allow_table_scans = true).await;
    every_rpc(app.channel.clone(), "acme").await;
    seed_every_table(app.channel.clone(), "acme").await;
    seed_every_table(app.channel.clone(), "").await;
    app
}

/// Every item of `table`, each as its DynamoDB JSON line, sorted.
async fn items(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            out.push(dynamo_json::to_json(item).expect("json").to_string());
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            out.sort();
            return out;
        }
    }
}

/// An item line whose `deletableAt` has passed.
fn expired_line(line: &str) -> bool {
    let item: serde_json::Value = serde_json::from_str(line).expect("item json");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    item["deletableAt"]["N"]
        .as_str()
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|at| at < now)
}

async fn create_tables(app: &TestApp, prefix: &str) {
    TableAdmin {
        client: &app.raw,
        prefix,
        method: "access_key",
    }
    .create_all(Billing::OnDemand, false)
    .await
    .expect("tables");
}

#[tokio::test]
async fn export_then_import_reproduces_every_table_item_for_item_on_both_backends() {
    for backend in Backend::ALL {
        let app = seeded(backend).await;
        let dir = tempfile::tempdir().expect("dir");
        let prefix = app.config.dynamodb.table_name_prefix.clone();
        let export = ExportOptions {
            transfer: Transfer {
                client: &app.raw,
                dir: dir.path(),
                prefix: &prefix,
                method: "access_key",
                rate: None,
                resume: false,
            },
            segments: 3,
        };
        let mut exported = 0;
        for def in schema::ALL {
            let report = export_table(&export, def.suffix, &|_| {})
                .await
                .unwrap_or_else(|e| panic!("{backend:?} export {}: {e}", def.suffix));
            assert!(!report.skipped);
            exported += report.items;
        }
        assert!(
            exported >= 30,
            "{backend:?}: every_rpc seeds every table ({exported})"
        );
        // Every identity of the deployment is in these files: owner-only.
        for file in ["curity-accounts.ndjson", "curity-accounts.manifest.json"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(file))
                .expect("exported file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }

        let copy = format!("{prefix}copy-");
        create_tables(&app, &copy).await;
        let import = ImportOptions {
            transfer: Transfer {
                prefix: &copy,
                ..export.transfer
            },
            concurrency: 8,
        };
        for def in schema::ALL {
            let r = import_table(&import, def.suffix, &|_| {})
                .await
                .unwrap_or_else(|e| panic!("{backend:?} import {}: {e}", def.suffix));
            assert_eq!(r.kept, 0, "{backend:?} {r:?}");
            assert_eq!(r.written + r.expired, r.lines, "{backend:?} {r:?}");
            assert_eq!(r.table_items, r.written, "{backend:?} {}", def.suffix);
            let source = items(&app.raw, &def.name(&prefix)).await;
            let copied = items(&app.raw, &def.name(&copy)).await;
            assert!(!copied.is_empty(), "{backend:?}: {} is seeded", def.suffix);
            // What is not copied is exactly what has a TTL in the past.
            let (live, expired): (Vec<String>, Vec<String>) =
                source.into_iter().partition(|line| !expired_line(line));
            assert_eq!(live, copied, "{backend:?}: {}", def.suffix);
            assert_eq!(
                expired.len() as u64,
                r.expired,
                "{backend:?}: {}",
                def.suffix
            );
        }

        // Run again: every put is refused, nothing changes.
        for def in schema::ALL {
            let r = import_table(&import, def.suffix, &|_| {})
                .await
                .expect("second import");
            assert_eq!(
                (r.written, r.kept),
                (0, r.lines - r.expired),
                "{backend:?} {r:?}"
            );
        }
        newer_items_win(&app, &import, &copy).await;
    }
}

/// An account changed in the target since (a higher `version`) is kept;
/// one older than the file's is brought up to the file's.
async fn newer_items_win(app: &TestApp, import: &ImportOptions<'_>, copy: &str) {
    let table = schema::ACCOUNTS.name(copy);
    let page = app
        .raw
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan");
    let versioned: Vec<_> = page
        .items()
        .iter()
        .filter(|i| matches!(i.get("version"), Some(AttributeValue::N(_))))
        .cloned()
        .collect();
    assert!(versioned.len() >= 2, "accounts carry versions");
    let edit = |mut item: Item, version: &str, marker: &str| {
        item.insert("version".into(), AttributeValue::N(version.into()));
        item.insert("marker".into(), AttributeValue::S(marker.into()));
        item
    };
    let newer = edit(versioned[0].clone(), "1000000", "changed since the export");
    let older = edit(versioned[1].clone(), "-1", "older than the file");
    for item in [&newer, &older] {
        app.raw
            .put_item()
            .table_name(&table)
            .set_item(Some(item.clone()))
            .send()
            .await
            .expect("put");
    }
    let r = import_table(import, schema::ACCOUNTS.suffix, &|_| {})
        .await
        .expect("import over changes");
    assert_eq!(r.written, 1, "{r:?}");
    let after = items(&app.raw, &table).await;
    let has = |marker: &str| after.iter().any(|line| line.contains(marker));
    assert!(has("changed since the export"), "the newer item stays");
    assert!(!has("older than the file"), "the older item is replaced");
}

/// Sorted lines of each table's file in `dir`.
fn files(dir: &Path) -> Vec<(String, Vec<String>)> {
    schema::ALL
        .iter()
        .map(|def| {
            let text = std::fs::read_to_string(dir.join(format!("{}.ndjson", def.suffix)))
                .unwrap_or_else(|e| panic!("{}: {e}", def.suffix));
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            (def.suffix.to_string(), lines)
        })
        .collect()
}

/// The CLI, interrupted by DynamoDB failing part way: the export stops
/// with an error, refuses to start over without `--resume`, and resumed
/// ends with the same files as an uninterrupted export; the import the
/// same, ending with every item in the target tables.
#[tokio::test]
async fn an_interrupted_export_and_import_resume_where_they_stopped() {
    let app = seeded(Backend::Embedded).await;
    let upstream = app
        .config
        .aws
        .endpoint_url
        .clone()
        .expect("embedded endpoint");
    let proxy = FaultProxy::start(&upstream);
    let env = Env::new();
    let prefix = app.config.dynamodb.table_name_prefix.clone();
    let copy = format!("{prefix}copy-");
    create_tables(&app, &copy).await;
    let reference = tempfile::tempdir().expect("dir");
    let dir = tempfile::tempdir().expect("dir");
    let (out, reference_out) = (
        dir.path().display().to_string(),
        reference.path().display().to_string(),
    );
    let cli = |args: &[&str], prefix: &str| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--endpoint", &proxy.endpoint]);
        let all: Vec<String> = all
            .iter()
            .map(|s| s.to_string())
            .chain(["--prefix".to_string(), prefix.to_string()])
            .collect();
        let env = &env;
        async move {
            let args: Vec<&str> = all.iter().map(String::as_str).collect();
            run_cli(env, None, &args).await
        }
    };

    let full = cli(&["export", "--all", "--out", &reference_out], &prefix).await;
    assert!(full.status.success(), "{}", stderr(&full));
    // Not a terminal: progress as plain lines (the first one at once).
    assert!(
        stderr(&full).contains("export: curity-accounts: "),
        "{}",
        stderr(&full)
    );
    assert!(stdout(&full).contains("done: "), "{}", stdout(&full));

    // Two tables' scans (two segments each) pass, then every scan fails.
    proxy.inject_after(4, Fault::InternalError, Some("Scan"), u32::MAX);
    let broken = cli(
        &["export", "--all", "--out", &out, "--segments", "2"],
        &prefix,
    )
    .await;
    assert!(!broken.status.success(), "{}", stdout(&broken));
    assert!(
        stderr(&broken).contains("dynamodb:Scan"),
        "{}",
        stderr(&broken)
    );
    proxy.clear();
    let again = cli(&["export", "--all", "--out", &out], &prefix).await;
    assert!(
        stderr(&again).contains("pass --resume"),
        "{}",
        stderr(&again)
    );
    // With a capacity budget, so that its path runs against the server too
    // (high enough not to slow the test: what it waits is unit-tested).
    let resumed = cli(
        &[
            "export", "--all", "--out", &out, "--resume", "--rate", "100000",
        ],
        &prefix,
    )
    .await;
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        stdout(&resumed).contains("exported by an earlier run"),
        "{}",
        stdout(&resumed)
    );
    assert_eq!(files(dir.path()), files(reference.path()));

    // Two chunks of two accounts land and are recorded, then puts fail.
    proxy.inject_after(5, Fault::InternalError, Some("PutItem"), u32::MAX);
    let broken = cli(
        &["import", "--all", "--in", &out, "--concurrency", "2"],
        &copy,
    )
    .await;
    assert!(!broken.status.success(), "{}", stdout(&broken));
    proxy.clear();
    let again = cli(&["import", "--all", "--in", &out], &copy).await;
    assert!(
        stderr(&again).contains("pass --resume"),
        "{}",
        stderr(&again)
    );
    let resumed = cli(
        &[
            "import", "--all", "--in", &out, "--resume", "--rate", "100000",
        ],
        &copy,
    )
    .await;
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    for def in schema::ALL {
        let mut source = items(&app.raw, &def.name(&prefix)).await;
        source.retain(|line| !expired_line(line));
        assert_eq!(
            source,
            items(&app.raw, &def.name(&copy)).await,
            "{}",
            def.suffix
        );
    }
}
