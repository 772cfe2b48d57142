//! `tables create | check | backfill-initials`.

use std::{process::ExitCode, time::Duration};

use aws_sdk_dynamodb::Client;
use curity_dynamodb::{
    aws::{Aws, DynamoPool},
    config::Config,
    store::{
        Store,
        accounts::backfill::BackfillOptions,
        tables::{Billing, Protection, TableAdmin},
    },
};

use crate::{Failure, bad_input, progress::Reporter, store_failure};

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
    let progress = Reporter::spinner("backfill-initials");
    let report = store
        .accounts()
        .backfill_initials(options, |p| {
            let resume = p
                .resume_after
                .as_deref()
                .map(|k| format!("; resume with --start-after '{k}'"))
                .unwrap_or_default();
            progress.say(format!(
                "backfill-initials: {} lacking initials, {verb} {}, {} changed meanwhile (skipped){resume}",
                p.found,
                if options.dry_run { p.found } else { p.updated },
                p.skipped_changed
            ));
        })
        .await
        .map_err(store_failure)?;
    progress.finish();
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

fn admin<'a>(aws: &Aws, client: &'a Client, config: &'a Config) -> TableAdmin<'a> {
    TableAdmin {
        client,
        prefix: &config.dynamodb.table_name_prefix,
        method: aws.method().as_str(),
    }
}

pub async fn create(
    aws: &Aws,
    config: &Config,
    billing: Billing,
    streams: bool,
    protection: &Protection,
) -> Result<ExitCode, Failure> {
    let client = aws.dynamodb_client();
    let report = admin(aws, &client, config)
        .create_protected(billing, streams, protection)
        .await
        .map_err(store_failure)?;
    for line in &report.lines {
        println!("{line}");
    }
    if report.changed_anything() {
        println!(
            "done: {} tables created, TTL enabled on {}, streams enabled on {}, {} settings changed",
            report.created, report.ttl_enabled, report.streams_enabled, report.settings_changed
        );
    } else {
        println!("done: nothing to change, all tables already match");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn check(aws: &Aws, config: &Config) -> Result<ExitCode, Failure> {
    let client = aws.dynamodb_client();
    let checks = admin(aws, &client, config)
        .check_all()
        .await
        .map_err(store_failure)?;
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
        for s in &c.settings {
            println!("{}: {s}", c.table);
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
