//! The least-privilege IAM policy: exactly the DynamoDB actions the code
//! calls, on `table/<prefix>curity-*` and its indexes. A unit test reads
//! the source tree and fails when a DynamoDB operation is called that the
//! policy does not grant.

use serde_json::{Value, json};

/// What `serve` needs. Transactions are authorised per contained action
/// (`Put` → `PutItem`, `Delete` → `DeleteItem`), not as an action of their own.
pub const SERVICE_ACTIONS: &[&str] = &[
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
];

/// What `tables create` / `tables check` need on top. `UpdateTable` turns
/// a stream, deletion protection or another KMS key on for an existing
/// table; the continuous backups are point-in-time recovery; the tags are
/// `--tag`, read back by `tables check`.
pub const ADMIN_ACTIONS: &[&str] = &[
    "dynamodb:CreateTable",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
];

/// What DynamoDB needs of a customer managed key to create a table under
/// it on the caller's behalf (`tables create --sse-kms-key`).
pub const KMS_KEY_ACTIONS: &[&str] = &["kms:CreateGrant", "kms:DescribeKey"];

/// What following the cached tables' streams needs (`cache.streams`), on
/// `table/<prefix>curity-*/stream/*`.
pub const STREAM_ACTIONS: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];

/// What the policy grants beyond serving.
#[derive(Debug, Clone, Copy, Default)]
pub struct Grants<'a> {
    /// `tables create` / `tables check`.
    pub admin: bool,
    /// The cache's stream readers.
    pub streams: bool,
    /// With `admin`: the KMS key tables are encrypted under.
    pub kms_key: Option<&'a str>,
}

/// IAM actions an SDK operation (its snake_case client method) needs.
pub fn actions_for(operation: &str) -> &'static [&'static str] {
    match operation {
        "get_item" => &["dynamodb:GetItem"],
        "put_item" => &["dynamodb:PutItem"],
        "update_item" => &["dynamodb:UpdateItem"],
        "delete_item" => &["dynamodb:DeleteItem"],
        "query" => &["dynamodb:Query"],
        "scan" => &["dynamodb:Scan"],
        "describe_table" => &["dynamodb:DescribeTable"],
        // Our transactions hold Put and Delete actions only.
        "transact_write_items" => &["dynamodb:PutItem", "dynamodb:DeleteItem"],
        "create_table" => &["dynamodb:CreateTable"],
        "describe_time_to_live" => &["dynamodb:DescribeTimeToLive"],
        "update_time_to_live" => &["dynamodb:UpdateTimeToLive"],
        "batch_get_item" => &["dynamodb:BatchGetItem"],
        "batch_write_item" => &["dynamodb:BatchWriteItem"],
        "transact_get_items" => &["dynamodb:GetItem"],
        "delete_table" => &["dynamodb:DeleteTable"],
        "update_table" => &["dynamodb:UpdateTable"],
        "describe_continuous_backups" => &["dynamodb:DescribeContinuousBackups"],
        "update_continuous_backups" => &["dynamodb:UpdateContinuousBackups"],
        "list_tags_of_resource" => &["dynamodb:ListTagsOfResource"],
        "tag_resource" => &["dynamodb:TagResource"],
        "describe_stream" => &["dynamodb:DescribeStream"],
        "get_shard_iterator" => &["dynamodb:GetShardIterator"],
        "get_records" => &["dynamodb:GetRecords"],
        "list_streams" => &["dynamodb:ListStreams"],
        _ => &[],
    }
}

/// The policy document for tables named `<prefix>curity-*`, optionally
/// narrowed to one region and account, with what `grants` adds.
pub fn document(
    prefix: &str,
    region: Option<&str>,
    account: Option<&str>,
    grants: Grants<'_>,
) -> Value {
    let arn = |suffix: &str| {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{prefix}curity-*{suffix}",
            region.unwrap_or("*"),
            account.unwrap_or("*")
        )
    };
    fn allow(sid: &str, actions: &[&str], resources: &[&str]) -> serde_json::Value {
        json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources
        })
    }
    let mut statements = vec![allow(
        "CurityDataSource",
        SERVICE_ACTIONS,
        &[&arn(""), &arn("/index/*")],
    )];
    if grants.admin {
        statements.push(allow("CurityTableAdmin", ADMIN_ACTIONS, &[&arn("")]));
        if let Some(key) = grants.kms_key {
            let mut only_via_dynamodb = allow("CurityTableKey", KMS_KEY_ACTIONS, &[key]);
            only_via_dynamodb["Condition"] =
                json!({ "StringLike": { "kms:ViaService": "dynamodb.*.amazonaws.com" } });
            statements.push(only_via_dynamodb);
        }
    }
    if grants.streams {
        statements.push(allow(
            "CurityCacheStreams",
            STREAM_ACTIONS,
            &[&arn("/stream/*")],
        ));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// Every DynamoDB operation the SDK client offers (snake_case).
    const OPERATIONS: &[&str] = &[
        "batch_execute_statement",
        "batch_get_item",
        "batch_write_item",
        "create_backup",
        "create_global_table",
        "create_table",
        "delete_backup",
        "delete_item",
        "delete_resource_policy",
        "delete_table",
        "describe_backup",
        "describe_continuous_backups",
        "describe_endpoints",
        "describe_limits",
        "describe_table",
        "describe_time_to_live",
        "execute_statement",
        "execute_transaction",
        "get_item",
        "list_tables",
        "put_item",
        "query",
        "scan",
        "transact_get_items",
        "transact_write_items",
        "update_item",
        "update_table",
        "update_time_to_live",
        // DynamoDB Streams (its own client).
        "describe_stream",
        "get_records",
        "get_shard_iterator",
        "list_streams",
    ];

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Source text without `#[cfg(test)]` modules (they call what they like).
    fn non_test_source(path: &Path) -> String {
        let text = std::fs::read_to_string(path).expect("read source");
        match text.find("#[cfg(test)]") {
            Some(i) => text[..i].to_string(),
            None => text,
        }
    }

    #[test]
    fn the_policy_grants_every_dynamodb_operation_the_code_calls() {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen = 0;
        for file in files {
            let text = non_test_source(&file);
            let admin_code = file.parent().is_some_and(|d| d.ends_with("store/tables"))
                || file.ends_with("doctor/tables.rs");
            let stream_code = file.ends_with("cache/streams.rs");
            for op in OPERATIONS {
                if !text.contains(&format!(".{op}()")) {
                    continue;
                }
                seen += 1;
                let needed = actions_for(op);
                assert!(
                    !needed.is_empty(),
                    "{}: no IAM mapping for {op}",
                    file.display()
                );
                for action in needed {
                    let granted = SERVICE_ACTIONS.contains(action)
                        || (admin_code && ADMIN_ACTIONS.contains(action))
                        || (stream_code && STREAM_ACTIONS.contains(action));
                    assert!(
                        granted,
                        "{} calls {op}, which needs {action}: add it to the policy",
                        file.display()
                    );
                }
            }
        }
        assert!(
            seen >= 8,
            "the scan found the code's DynamoDB calls ({seen})"
        );
    }

    #[test]
    fn resources_are_the_prefixed_tables_and_their_indexes() {
        let d = document(
            "dev-",
            Some("eu-west-1"),
            Some("111122223333"),
            Grants::default(),
        );
        assert_eq!(
            d["Statement"][0]["Resource"],
            json!([
                "arn:aws:dynamodb:eu-west-1:111122223333:table/dev-curity-*",
                "arn:aws:dynamodb:eu-west-1:111122223333:table/dev-curity-*/index/*"
            ])
        );
        assert_eq!(d["Statement"].as_array().map(Vec::len), Some(1));
        let d = document(
            "",
            None,
            None,
            Grants {
                admin: true,
                streams: true,
                kms_key: None,
            },
        );
        assert_eq!(
            d["Statement"][2]["Resource"][0],
            "arn:aws:dynamodb:*:*:table/curity-*/stream/*"
        );
        assert_eq!(
            d["Statement"][1]["Resource"][0],
            "arn:aws:dynamodb:*:*:table/curity-*"
        );
        for st in d["Statement"].as_array().into_iter().flatten() {
            for a in st["Action"].as_array().into_iter().flatten() {
                assert_ne!(a, "dynamodb:*", "no wildcard actions");
            }
        }
    }

    #[test]
    fn a_kms_key_adds_what_dynamodb_needs_of_it_only_with_admin() {
        let key = "arn:aws:kms:eu-west-1:111122223333:key/abcd";
        let with = |admin| {
            document(
                "",
                None,
                None,
                Grants {
                    admin,
                    streams: false,
                    kms_key: Some(key),
                },
            )
        };
        let d = with(true);
        let st = &d["Statement"][2];
        assert_eq!(st["Sid"], "CurityTableKey");
        assert_eq!(st["Resource"], json!([key]));
        assert_eq!(st["Action"], json!(KMS_KEY_ACTIONS));
        assert_eq!(
            st["Condition"]["StringLike"]["kms:ViaService"],
            "dynamodb.*.amazonaws.com"
        );
        assert_eq!(with(false)["Statement"].as_array().map(Vec::len), Some(1));
    }
}
