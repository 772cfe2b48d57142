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
    },
};

use super::Report;

pub(super) async fn check_tables(aws: &Aws, config: &Config, report: &mut Report) {
    let client = aws.dynamodb_client();
    let prefix = &config.dynamodb.table_name_prefix;
    let method = aws.method().as_str();
    for def in schema::ALL {
        let table = def.name(prefix);
        let at = |action| crate::aws::error::CallSite {
            action,
            table: &table,
            method,
        };
        match client.describe_table().table_name(&table).send().await {
            Ok(_) => report.ok(format!("table {table}"), "DescribeTable allowed"),
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
