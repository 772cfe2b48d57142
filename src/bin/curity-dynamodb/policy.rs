//! `policy`: the least-privilege IAM policy for the configured prefix.

use std::{path::Path, process::ExitCode};

use curity_dynamodb::{
    aws::policy::{Grants, document},
    config::{Config, is_region_name},
    store::tables::KmsKeyArn,
};

use crate::{Failure, args::PolicyArgs, bad_input};

pub fn print(path: Option<&Path>, ask: PolicyArgs) -> Result<ExitCode, Failure> {
    let given = match path {
        Some(_) => Some(Config::parse(path).map_err(bad_input)?),
        None => None,
    };
    // A config that follows the streams needs their actions too.
    let streams = ask.streams
        || given
            .as_ref()
            .is_some_and(|c| c.cache.enabled && c.cache.streams.enabled);
    let prefix = match (ask.prefix, given) {
        (Some(p), _) => p,
        (None, Some(c)) => c.dynamodb.table_name_prefix,
        (None, None) => String::new(),
    };
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(bad_input(anyhow::anyhow!(
            "--prefix: only [A-Za-z0-9_.-] may appear in table names"
        )));
    }
    if let Some(r) = &ask.region
        && !is_region_name(r)
    {
        return Err(bad_input(anyhow::anyhow!(
            "--region: {r:?} is not an AWS region name"
        )));
    }
    if let Some(a) = &ask.account
        && !(a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad_input(anyhow::anyhow!(
            "--account: {a:?} is not a 12-digit AWS account id"
        )));
    }
    let doc = document(
        &prefix,
        ask.region.as_deref(),
        ask.account.as_deref(),
        Grants {
            admin: ask.admin,
            streams,
            kms_key: ask.sse_kms_key.as_ref().map(KmsKeyArn::as_str),
        },
    );
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(ExitCode::SUCCESS)
}
