//! `tables create | check | backfill-initials`.

use std::{process::ExitCode, time::Duration};

use curity_dynamodb::{
    aws::{Aws, DynamoPool},
    config::Config,
    store::{
        Store,
        accounts::backfill::BackfillOptions,
        tables::{Billing, TableAdmin},
    },
};

use crate::{Failure, bad_input, store_failure};

pub async fn backfill_initials(
    aws: &Aws,
    config: &Config,
    options: &BackfillOptions,
) -> Result<ExitCode, Failure> {
    let pool = DynamoPool::new(
        aws.dynamodb_config().clone(),
        1,
        Duration::from_millis(config.pool.wait_timeout_ms),
    )
    .map_err(bad_input)?;
    let store = Store::new(pool, config.dynamodb.clone(), aws.method().as_str());
    let verb = if options.dry_run {
        "would update"
    } else {
        "updated"
    };
    let report = store
        .accounts()
        .backfill_initials(options, |p| {
            let resume = p
                .resume_after
                .as_deref()
                .map(|k| format!("; resume with --start-after '{k}'"))
                .unwrap_or_default();
            eprintln!(
                "backfill-initials: {} lacking initials, {verb} {}, {} changed meanwhile (skipped){resume}",
                p.found,
                if options.dry_run { p.found } else { p.updated },
                p.skipped_changed
            );
        })
        .await
        .map_err(store_failure)?;
    println!(
        "done: {} accounts lacked initials, {verb} {}, {} skipped because they changed meanwhile (run again for those)",
        report.found,
        if options.dry_run {
            report.found
        } else {
            report.updated
        },
        report.skipped_changed
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn tables(
    aws: &Aws,
    config: &Config,
    billing: Billing,
    // `Some(with streams)`: create; `None`: check.
    create: Option<bool>,
) -> Result<ExitCode, Failure> {
    let client = aws.dynamodb_client();
    let admin = TableAdmin {
        client: &client,
        prefix: &config.dynamodb.table_name_prefix,
        method: aws.method().as_str(),
    };
    if let Some(streams) = create {
        let report = admin
            .create_all(billing, streams)
            .await
            .map_err(store_failure)?;
        for line in &report.lines {
            println!("{line}");
        }
        if report.changed_anything() {
            println!(
                "done: {} tables created, TTL enabled on {}, streams enabled on {}",
                report.created, report.ttl_enabled, report.streams_enabled
            );
        } else {
            println!("done: nothing to change, all tables already match");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let checks = admin.check_all().await.map_err(store_failure)?;
    let mut failed = 0;
    for c in &checks {
        if c.differences.is_empty() {
            println!("{}: ok", c.table);
        } else {
            failed += 1;
        }
        for d in &c.differences {
            println!("{}: DIFFERS: {d}", c.table);
        }
        for w in &c.warnings {
            println!("{}: warning: {w}", c.table);
        }
    }
    if failed == 0 {
        println!("check: {} tables match the layout", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "check: {failed} of {} tables differ from the layout",
            checks.len()
        );
        Ok(ExitCode::FAILURE)
    }
}
