//! What `tables create` sets for production beyond the layout, and what
//! `tables check` and `doctor` report of it: point-in-time recovery, a
//! customer managed KMS key, deletion protection and tags.
//!
//! None of it changes an item or the layout; the plugin reads and writes
//! such tables as any others.

use std::{fmt, str::FromStr, time::Instant};

use aws_sdk_dynamodb::{
    error::{ProvideErrorMetadata, SdkError},
    types::{
        PointInTimeRecoverySpecification, PointInTimeRecoveryStatus, SseSpecification, SseType,
        TableDescription, Tag as SdkTag,
    },
};

use super::{ACTIVE_WAIT, CreateReport, TableAdmin};
use crate::{aws::error::classify, store::StoreError};

/// The production settings asked of `tables create`.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// Point-in-time recovery on (UpdateContinuousBackups).
    pub pitr: bool,
    /// Encryption at rest under this customer managed key (its ARN).
    pub sse_kms_key: Option<KmsKeyArn>,
    pub deletion_protection: bool,
    pub tags: Vec<Tag>,
}

/// One `K=V` of `--tag`, within DynamoDB's limits (key 1–128 characters,
/// value up to 256, no `aws:` prefix, which AWS reserves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl FromStr for Tag {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (key, value) = s
            .split_once('=')
            .ok_or("expected KEY=VALUE, e.g. team=identity")?;
        let allowed = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
        if key.is_empty() || key.chars().count() > 128 {
            return Err("the key must have 1 to 128 characters".into());
        }
        if value.chars().count() > 256 {
            return Err("the value may have at most 256 characters".into());
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err("keys starting with aws: are reserved by AWS".into());
        }
        if !key.chars().chain(value.chars()).all(allowed) {
            return Err("use letters, digits, spaces and _ . : / = + - @ only".into());
        }
        Ok(Tag {
            key: key.into(),
            value: value.into(),
        })
    }
}

impl Tag {
    fn sdk(&self) -> Result<SdkTag, StoreError> {
        Ok(SdkTag::builder()
            .key(&self.key)
            .value(&self.value)
            .build()?)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// A KMS key's ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`).
/// Not an alias: DescribeTable reports the key's ARN, and comparing with
/// it is what makes a second `tables create` change nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKeyArn(String);

impl FromStr for KmsKeyArn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = matches!(
            parts.as_slice(),
            ["arn", partition, "kms", region, account, resource]
                if !partition.is_empty()
                    && !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && resource.strip_prefix("key/").is_some_and(|id| {
                        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
        );
        if ok {
            Ok(Self(s.into()))
        } else {
            Err(
                "expected a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id> \
                 (not an alias)"
                    .into(),
            )
        }
    }
}

impl KmsKeyArn {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Protection {
    pub fn sse(&self) -> Option<SseSpecification> {
        self.sse_kms_key.as_ref().map(|k| {
            SseSpecification::builder()
                .enabled(true)
                .sse_type(SseType::Kms)
                .kms_master_key_id(k.as_str())
                .build()
        })
    }

    pub fn sdk_tags(&self) -> Result<Vec<SdkTag>, StoreError> {
        self.tags.iter().map(Tag::sdk).collect()
    }
}

/// What `tables check` reads of one table's protection. `Err` says why a
/// setting could not be read (the endpoint lacks the operation, or the
/// identity may not call it): reported, not a failed check.
#[derive(Debug)]
pub struct Protected {
    pub pitr: Result<bool, String>,
    pub deletion_protection: bool,
    /// The customer managed or AWS managed key's ARN; `None` for the
    /// default AWS owned key.
    pub kms_key: Option<String>,
    pub tags: Result<Vec<Tag>, String>,
}

/// A setting `tables check` could not read: why, or the error itself
/// when it is not about reading that setting.
fn unreadable<T>(read: Result<T, StoreError>) -> Result<Result<T, String>, StoreError> {
    match read {
        Ok(v) => Ok(Ok(v)),
        Err(e @ StoreError::AccessDenied { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    }
}

impl Protected {
    /// One line each, as `tables check` prints them.
    pub fn lines(&self) -> Vec<String> {
        let on = |b: bool| if b { "on" } else { "off" };
        vec![
            match &self.pitr {
                Ok(b) => format!("point-in-time recovery: {}", on(*b)),
                Err(why) => format!("point-in-time recovery: unknown ({why})"),
            },
            format!("deletion protection: {}", on(self.deletion_protection)),
            match &self.kms_key {
                Some(k) => format!("encryption at rest: KMS key {k}"),
                None => "encryption at rest: AWS owned key (the default)".into(),
            },
            match &self.tags {
                Ok(tags) if tags.is_empty() => "tags: none".into(),
                Ok(tags) => {
                    let mut tags: Vec<String> = tags.iter().map(Tag::to_string).collect();
                    tags.sort();
                    format!("tags: {}", tags.join(", "))
                }
                Err(why) => format!("tags: unknown ({why})"),
            },
        ]
    }
}

/// The endpoint answered that it has no such operation (Dynoxide has no
/// continuous backups, for one).
fn lacks_operation<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("UnknownOperationException")
}

/// `action` is not offered by the endpoint: said plainly, with the option
/// to leave out, instead of an SDK error code.
fn endpoint_lacks(action: &str, table: &str, option: &str) -> StoreError {
    StoreError::Aws {
        action: action.into(),
        table: table.into(),
        code: "UnknownOperationException".into(),
        message: format!(
            "this DynamoDB endpoint does not offer {action} (AWS DynamoDB does): \
             leave {option} out against it"
        ),
    }
}

impl TableAdmin<'_> {
    /// Refuses `--pitr` before anything is created when the endpoint has no
    /// continuous backups, rather than after the first table. Asked of a
    /// table that need not exist: AWS answers `TableNotFoundException`, an
    /// endpoint without the operation `UnknownOperationException`.
    pub(super) async fn preflight(&self, p: &Protection) -> Result<(), StoreError> {
        if !p.pitr {
            return Ok(());
        }
        let table = crate::schema::ACCOUNTS.name(self.prefix);
        match self
            .client
            .describe_continuous_backups()
            .table_name(&table)
            .send()
            .await
        {
            Err(e) if lacks_operation(&e) => Err(endpoint_lacks(
                "dynamodb:DescribeContinuousBackups",
                &table,
                "--pitr",
            )),
            // Anything else (the table missing, access denied) is met
            // again, and reported, where the table is handled.
            _ => Ok(()),
        }
    }

    /// `None` when the endpoint has no continuous backups at all.
    pub async fn pitr_enabled(&self, name: &str) -> Result<Option<bool>, StoreError> {
        let action = "dynamodb:DescribeContinuousBackups";
        match self
            .client
            .describe_continuous_backups()
            .table_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.continuous_backups_description()
                    .and_then(|d| d.point_in_time_recovery_description())
                    .and_then(|p| p.point_in_time_recovery_status())
                    == Some(&PointInTimeRecoveryStatus::Enabled),
            )),
            Err(e) if lacks_operation(&e) => Ok(None),
            Err(e) => Err(classify(&e, self.at(action, name))),
        }
    }

    /// Turns point-in-time recovery on. Right after CreateTable, AWS may
    /// answer that backups are still being enabled: retried until
    /// `ACTIVE_WAIT`.
    async fn enable_pitr(&self, name: &str) -> Result<(), StoreError> {
        let action = "dynamodb:UpdateContinuousBackups";
        let started = Instant::now();
        loop {
            let sent = self
                .client
                .update_continuous_backups()
                .table_name(name)
                .point_in_time_recovery_specification(
                    PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(true)
                        .build()?,
                )
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(()),
                Err(e) if lacks_operation(&e) => {
                    return Err(endpoint_lacks(action, name, "--pitr"));
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_continuous_backups_unavailable_exception())
                        && started.elapsed() < ACTIVE_WAIT =>
                {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(e) => return Err(classify(&e, self.at(action, name))),
            }
        }
    }

    pub async fn tags_of(&self, name: &str, arn: &str) -> Result<Vec<Tag>, StoreError> {
        let mut tags = Vec::new();
        let mut next = None;
        loop {
            let out = self
                .client
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify(&e, self.at("dynamodb:ListTagsOfResource", name)))?;
            tags.extend(out.tags().iter().map(|t| Tag {
                key: t.key().into(),
                value: t.value().into(),
            }));
            next = out.next_token().map(str::to_string);
            if next.is_none() {
                return Ok(tags);
            }
        }
    }

    /// Brings an existing table to `p` (a new table got all but PITR at
    /// CreateTable): each setting changed only where it differs, so a
    /// second run changes nothing.
    pub(super) async fn protect_existing(
        &self,
        name: &str,
        live: &TableDescription,
        p: &Protection,
        report: &mut CreateReport,
    ) -> Result<(), StoreError> {
        if p.deletion_protection && live.deletion_protection_enabled() != Some(true) {
            self.update_table(name, |u| Ok(u.deletion_protection_enabled(true)))
                .await?;
            report.changed(format!("{name}: deletion protection enabled"));
        }
        if let Some(key) = &p.sse_kms_key {
            let live_key = live.sse_description().and_then(|d| d.kms_master_key_arn());
            if live_key != Some(key.as_str()) {
                self.update_table(name, |u| Ok(u.set_sse_specification(p.sse())))
                    .await?;
                report.changed(format!(
                    "{name}: encryption at rest switched to KMS key {}",
                    key.as_str()
                ));
            }
        }
        if !p.tags.is_empty() {
            let arn = live.table_arn().unwrap_or_default();
            let have = self.tags_of(name, arn).await?;
            let missing: Vec<&Tag> = p.tags.iter().filter(|t| !have.contains(t)).collect();
            if !missing.is_empty() {
                let tags = missing
                    .iter()
                    .map(|t| t.sdk())
                    .collect::<Result<Vec<_>, _>>()?;
                self.client
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| classify(&e, self.at("dynamodb:TagResource", name)))?;
                let names: Vec<String> = missing.iter().map(|t| t.to_string()).collect();
                report.changed(format!("{name}: tags set: {}", names.join(", ")));
            }
        }
        Ok(())
    }

    /// Point-in-time recovery on, new table or old.
    pub(super) async fn protect_pitr(
        &self,
        name: &str,
        report: &mut CreateReport,
    ) -> Result<(), StoreError> {
        match self.pitr_enabled(name).await? {
            Some(true) => report
                .lines
                .push(format!("{name}: point-in-time recovery already on")),
            Some(false) => {
                self.enable_pitr(name).await?;
                report.changed(format!("{name}: point-in-time recovery enabled"));
            }
            None => {
                return Err(endpoint_lacks(
                    "dynamodb:DescribeContinuousBackups",
                    name,
                    "--pitr",
                ));
            }
        }
        Ok(())
    }

    /// What `tables check` reports of one live table.
    pub(super) async fn protected(
        &self,
        name: &str,
        live: &TableDescription,
    ) -> Result<Protected, StoreError> {
        let pitr = unreadable(self.pitr_enabled(name).await)?.and_then(|known| {
            known.ok_or_else(|| "this endpoint does not offer DescribeContinuousBackups".into())
        });
        Ok(Protected {
            pitr,
            deletion_protection: live.deletion_protection_enabled() == Some(true),
            kms_key: live
                .sse_description()
                .and_then(|d| d.kms_master_key_arn())
                .map(str::to_string),
            tags: match live.table_arn() {
                Some(arn) => unreadable(self.tags_of(name, arn).await)?,
                None => Ok(Vec::new()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_key_equals_value_within_the_limits_aws_sets() {
        let t: Tag = "team=identity".parse().expect("tag");
        assert_eq!((t.key.as_str(), t.value.as_str()), ("team", "identity"));
        let t: Tag = "cost-centre=".parse().expect("empty value");
        assert_eq!(t.value, "");
        let t: Tag = "url=a=b".parse().expect("= in value");
        assert_eq!(t.value, "a=b");
        for bad in [
            "team",
            "=x",
            "aws:owner=me",
            "k=v;rm",
            &format!("{}=v", "k".repeat(129)),
        ] {
            assert!(bad.parse::<Tag>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_kms_key_arn_is_taken_not_an_alias() {
        let ok = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(ok.parse::<KmsKeyArn>().map(|k| k.0), Ok(ok.to_string()));
        for bad in [
            "arn:aws:kms:eu-west-1:111122223333:alias/curity",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:1111:key/abc",
            "arn:aws:s3:eu-west-1:111122223333:key/abc",
            "arn:aws:kms:eu-west-1:111122223333:key/",
        ] {
            assert!(bad.parse::<KmsKeyArn>().is_err(), "{bad}");
        }
    }
}
