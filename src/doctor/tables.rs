//! The tables against the layout (each one, each index, TTL) and how many
//! accounts lack initials.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::schema::{self, AttrType};
use crate::{
    aws::{Aws, error::classify},
    config::Config,
    store::{
        StoreError,
        accounts::backfill,
        expr::{Cond, Expr},
        tables::TableAdmin,
    },
};

use super::Report;

pub(super) async fn check_tables(aws: &Aws, config: &Config, report: &mut Report) {
    let client = aws.dynamodb_client();
    let prefix = &config.dynamodb.table_name_prefix;
    let method = aws.method().as_str();
    let mut unprotected = Unprotected::default();
    let admin = TableAdmin {
        client: &client,
        prefix,
        method,
    };
    for def in schema::ALL {
        let table = def.name(prefix);
        let at = |action| crate::aws::error::CallSite {
            action,
            table: &table,
            method,
        };
        match client.describe_table().table_name(&table).send().await {
            Ok(out) => {
                report.ok(format!("table {table}"), "DescribeTable allowed");
                if out.table().and_then(|t| t.deletion_protection_enabled()) != Some(true) {
                    unprotected.deletable.push(table.clone());
                }
                match admin.pitr_enabled(&table).await {
                    Ok(Some(true)) => {}
                    Ok(Some(false)) => unprotected.no_pitr.push(table.clone()),
                    Ok(None) => {
                        unprotected.pitr_unknown = Some("the endpoint does not offer it".into())
                    }
                    Err(e) => unprotected.pitr_unknown = Some(e.full()),
                }
            }
            Err(e) => {
                let err = classify(&e, at("dynamodb:DescribeTable"));
                let fix = match &err {
                    StoreError::TableMissing { .. } => {
                        "create it: curity-dynamodb tables create (with table-admin rights)"
                            .to_string()
                    }
                    StoreError::AccessDenied { .. } => format!(
                        "grant dynamodb:DescribeTable on table/{prefix}curity-* (curity-dynamodb policy)"
                    ),
                    _ => "see the error".to_string(),
                };
                report.fail(format!("table {table}"), err.full(), fix);
                continue;
            }
        }
        for index in def.global_indexes.iter().chain(def.local_indexes) {
            let probe = match index.hash.ty {
                AttrType::S => AttributeValue::S("curity-dynamodb-doctor".into()),
                AttrType::N => AttributeValue::N("0".into()),
            };
            let mut e = Expr::new();
            let key = e.cond(&Cond::eq(index.hash.name, probe));
            let (names, values) = e.into_parts();
            let result = client
                .query()
                .table_name(&table)
                .index_name(index.name)
                .key_condition_expression(key)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .limit(1)
                .send()
                .await;
            let name = format!("index {table}/{}", index.name);
            match result {
                Ok(_) => report.ok(name, "Query allowed"),
                Err(e) => {
                    let err = classify(&e, at("dynamodb:Query"));
                    let fix = match &err {
                        StoreError::AccessDenied { .. } => format!(
                            "grant dynamodb:Query on table/{prefix}curity-*/index/* (the seed's \
                             policy lists only the tables): curity-dynamodb policy"
                        ),
                        _ => "compare the table with `curity-dynamodb tables check`".to_string(),
                    };
                    report.fail(name, err.full(), fix);
                }
            }
        }
    }
    unprotected.report(report);
}

/// The tables without point-in-time recovery or deletion protection.
#[derive(Default)]
struct Unprotected {
    deletable: Vec<String>,
    no_pitr: Vec<String>,
    /// Why PITR could not be read (the service's own policy does not grant
    /// `dynamodb:DescribeContinuousBackups`; the admin policy does).
    pitr_unknown: Option<String>,
}

impl Unprotected {
    /// One row each, not one per table: a warning says which tables.
    fn report(self, report: &mut Report) {
        match (self.pitr_unknown, self.no_pitr.is_empty()) {
            (Some(why), _) => report.warn(
                "point-in-time recovery",
                format!("could not be read: {why}"),
                "run `curity-dynamodb tables check` with the table admin's rights",
            ),
            (None, true) => report.ok("point-in-time recovery", "on for every table"),
            (None, false) => report.warn(
                "point-in-time recovery",
                format!("off on {}", self.no_pitr.join(", ")),
                "curity-dynamodb tables create --pitr (restores to any second of the last 35 \
                 days; without it, only on-demand backups bring data back)",
            ),
        }
        if self.deletable.is_empty() {
            report.ok("deletion protection", "on for every table");
        } else {
            report.warn(
                "deletion protection",
                format!("off on {}", self.deletable.join(", ")),
                "curity-dynamodb tables create --deletion-protection (a DeleteTable by \
                 mistake is refused)",
            );
        }
    }
}

/// Items read for the initials sample: bounded, whatever the table's size.
const INITIALS_SAMPLE: i32 = 1000;

/// Accounts written by plugin versions before October 2022 lack initials,
/// and prefix / initials filters miss them: counted on a bounded sample.
pub(super) async fn check_initials(aws: &Aws, config: &Config, report: &mut Report) {
    let client = aws.dynamodb_client();
    let table = schema::ACCOUNTS.name(&config.dynamodb.table_name_prefix);
    let name = format!("initials in {table}");
    match backfill::sample_missing_initials(&client, &table, INITIALS_SAMPLE).await {
        Ok((0, scanned)) => report.ok(
            name,
            format!("no main item lacks initials among {scanned} items sampled"),
        ),
        Ok((found, scanned)) => report.warn(
            name,
            format!("{found} main items lack initials among {scanned} items sampled"),
            "curity-dynamodb tables backfill-initials (userName sw / emails sw and initials \
             filters miss these accounts until then)",
        ),
        Err(e) => {
            let method = aws.method().as_str();
            let err = classify(
                &e,
                crate::aws::error::CallSite {
                    action: "dynamodb:Scan",
                    table: &table,
                    method,
                },
            );
            report.warn(
                name,
                err.full(),
                "the sample needs dynamodb:Scan (curity-dynamodb policy grants it)",
            );
        }
    }
}
