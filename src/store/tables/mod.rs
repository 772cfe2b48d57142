//! `tables create` and `tables check`: make the live tables match
//! `schema`, or report every way they differ (`compare`); the production
//! settings beyond the layout in `protection`.

mod compare;
mod protection;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::{
    Client,
    operation::update_table::builders::UpdateTableFluentBuilder,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        LocalSecondaryIndex, Projection as SdkProjection, ProjectionType, ProvisionedThroughput,
        StreamSpecification, StreamViewType, TableDescription, TableStatus,
        TimeToLiveSpecification, TimeToLiveStatus,
    },
};

pub use self::protection::{KmsKeyArn, Protected, Protection, Tag};
use super::StoreError;
use crate::aws::error::{CallSite, classify};
use crate::schema::{self, IndexDef, KeyAttr, Projection, TTL_ATTRIBUTE, TableDef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Billing {
    OnDemand,
    Provisioned,
}

/// Administers the `curity-*` tables under one prefix.
pub struct TableAdmin<'a> {
    pub client: &'a Client,
    pub prefix: &'a str,
    /// The access method, for error messages about credentials.
    pub method: &'static str,
}

#[derive(Debug, Default)]
pub struct CreateReport {
    pub lines: Vec<String>,
    pub created: usize,
    pub ttl_enabled: usize,
    pub streams_enabled: usize,
    /// Protection settings changed on existing tables, and PITR turned on.
    pub settings_changed: usize,
}

impl CreateReport {
    pub fn changed_anything(&self) -> bool {
        self.created + self.ttl_enabled + self.streams_enabled + self.settings_changed > 0
    }

    fn changed(&mut self, line: String) {
        self.settings_changed += 1;
        self.lines.push(line);
    }
}

#[derive(Debug)]
pub struct TableCheck {
    pub table: String,
    /// Ways the live table is incompatible with the plugin's layout.
    pub differences: Vec<String>,
    /// Not incompatible, but worth an operator's attention.
    pub warnings: Vec<String>,
    /// The production settings of an existing table (`Protected::lines`).
    pub settings: Vec<String>,
}

const ACTIVE_WAIT: Duration = Duration::from_secs(300);

impl TableAdmin<'_> {
    fn at<'t>(&self, action: &'static str, table: &'t str) -> CallSite<'t> {
        CallSite {
            action,
            table,
            method: self.method,
        }
    }

    async fn describe(&self, table: &str) -> Result<Option<TableDescription>, StoreError> {
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => Ok(out.table),
            Err(e) => match classify(&e, self.at("dynamodb:DescribeTable", table)) {
                StoreError::TableMissing { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Creates every missing table, waits for it to become ACTIVE and turns
    /// TTL on where the layout has `deletableAt`. With `streams`, the
    /// tables the cache holds get a `KEYS_ONLY` stream (existing ones
    /// too), for the cache's cross-replica invalidation. Existing tables
    /// are otherwise left as they are: a second run changes nothing.
    pub async fn create_all(
        &self,
        billing: Billing,
        streams: bool,
    ) -> Result<CreateReport, StoreError> {
        self.create_protected(billing, streams, &Protection::default())
            .await
    }

    /// `create_all`, and each table brought to `protection` (new ones at
    /// CreateTable, existing ones where they differ).
    pub async fn create_protected(
        &self,
        billing: Billing,
        streams: bool,
        protection: &Protection,
    ) -> Result<CreateReport, StoreError> {
        self.preflight(protection).await?;
        let mut report = CreateReport::default();
        for def in schema::ALL {
            let name = def.name(self.prefix);
            let stream = streams && crate::cache::Kind::of(def).is_some();
            if let Some(existing) = self.describe(&name).await? {
                let has_stream = existing
                    .stream_specification()
                    .is_some_and(|s| s.stream_enabled());
                let before = report.lines.len();
                if stream && !has_stream {
                    self.enable_stream(&name).await?;
                    report.streams_enabled += 1;
                    report
                        .lines
                        .push(format!("{name}: stream (KEYS_ONLY) enabled"));
                }
                self.protect_existing(&name, &existing, protection, &mut report)
                    .await?;
                if report.lines.len() == before {
                    report.lines.push(format!("{name}: exists, unchanged"));
                }
            } else {
                self.create(def, &name, billing, stream, protection).await?;
                self.wait_active(&name).await?;
                report.created += 1;
                report.lines.push(if stream {
                    format!("{name}: created, with a KEYS_ONLY stream")
                } else {
                    format!("{name}: created")
                });
            }
            if def.ttl {
                if self.ttl_enabled(&name).await? {
                    report
                        .lines
                        .push(format!("{name}: TTL on {TTL_ATTRIBUTE} already enabled"));
                } else {
                    self.enable_ttl(&name).await?;
                    report.ttl_enabled += 1;
                    report
                        .lines
                        .push(format!("{name}: TTL on {TTL_ATTRIBUTE} enabled"));
                }
            }
            if protection.pitr {
                self.protect_pitr(&name, &mut report).await?;
            }
        }
        Ok(report)
    }

    async fn create(
        &self,
        def: &TableDef,
        name: &str,
        billing: Billing,
        stream: bool,
        protection: &Protection,
    ) -> Result<(), StoreError> {
        let throughput = || {
            ProvisionedThroughput::builder()
                .read_capacity_units(schema::PROVISIONED_READ)
                .write_capacity_units(schema::PROVISIONED_WRITE)
                .build()
                .map_err(StoreError::from)
        };
        let mut req = self
            .client
            .create_table()
            .table_name(name)
            .set_key_schema(Some(key_schema(def.hash, def.range)?))
            .set_attribute_definitions(Some(
                def.key_attributes()
                    .into_iter()
                    .map(|k| {
                        AttributeDefinition::builder()
                            .attribute_name(k.name)
                            .attribute_type(k.ty.sdk())
                            .build()
                            .map_err(StoreError::from)
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ));
        req = match billing {
            Billing::OnDemand => req.billing_mode(BillingMode::PayPerRequest),
            Billing::Provisioned => req
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(throughput()?),
        };
        for index in def.global_indexes {
            let mut g = GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(key_schema(index.hash, index.range)?))
                .projection(projection(index));
            if billing == Billing::Provisioned {
                g = g.provisioned_throughput(throughput()?);
            }
            req = req.global_secondary_indexes(g.build()?);
        }
        if stream {
            req = req.stream_specification(keys_only_stream()?);
        }
        if protection.deletion_protection {
            req = req.deletion_protection_enabled(true);
        }
        req = req
            .set_sse_specification(protection.sse())
            .set_tags(Some(protection.sdk_tags()?).filter(|t| !t.is_empty()));
        for index in def.local_indexes {
            req = req.local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name(index.name)
                    .set_key_schema(Some(key_schema(index.hash, index.range)?))
                    .projection(projection(index))
                    .build()?,
            );
        }
        match req.send().await {
            Ok(_) => Ok(()),
            // Created concurrently by someone else: that is what we wanted.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(classify(&e, self.at("dynamodb:CreateTable", name))),
        }
    }

    async fn enable_stream(&self, name: &str) -> Result<(), StoreError> {
        self.update_table(name, |u| Ok(u.stream_specification(keys_only_stream()?)))
            .await
    }

    /// One UpdateTable of `name` (what `change` sets), then waits for the
    /// table to be ACTIVE again.
    async fn update_table(
        &self,
        name: &str,
        change: impl FnOnce(UpdateTableFluentBuilder) -> Result<UpdateTableFluentBuilder, StoreError>,
    ) -> Result<(), StoreError> {
        change(self.client.update_table().table_name(name))?
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:UpdateTable", name)))?;
        self.wait_active(name).await
    }

    async fn wait_active(&self, name: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        loop {
            if let Some(t) = self.describe(name).await? {
                let indexes_active = t
                    .global_secondary_indexes()
                    .iter()
                    .all(|g| g.index_status().is_none_or(|s| s.as_str() == "ACTIVE"));
                if t.table_status() == Some(&TableStatus::Active) && indexes_active {
                    return Ok(());
                }
            }
            if started.elapsed() > ACTIVE_WAIT {
                return Err(StoreError::Unavailable {
                    action: "dynamodb:DescribeTable".into(),
                    table: name.into(),
                    message: format!("table not ACTIVE after {ACTIVE_WAIT:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn ttl_enabled(&self, name: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:DescribeTimeToLive", name)))?;
        Ok(out.time_to_live_description().is_some_and(|d| {
            matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            ) && d.attribute_name() == Some(TTL_ATTRIBUTE)
        }))
    }

    async fn enable_ttl(&self, name: &str) -> Result<(), StoreError> {
        self.client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:UpdateTimeToLive", name)))?;
        Ok(())
    }

    /// Compares every live table with the layout: key schema, key attribute
    /// types, and every index's keys and projection.
    pub async fn check_all(&self) -> Result<Vec<TableCheck>, StoreError> {
        let mut out = Vec::new();
        for def in schema::ALL {
            let name = def.name(self.prefix);
            let mut check = TableCheck {
                table: name.clone(),
                differences: Vec::new(),
                warnings: Vec::new(),
                settings: Vec::new(),
            };
            match self.describe(&name).await? {
                None => check.differences.push("table does not exist".into()),
                Some(live) => {
                    compare::compare(def, &live, &mut check);
                    check.settings = self.protected(&name, &live).await?.lines();
                    if def.ttl && !self.ttl_enabled(&name).await? {
                        check.warnings.push(format!(
                            "TTL is not enabled on {TTL_ATTRIBUTE}: expired items are never removed"
                        ));
                    }
                }
            }
            out.push(check);
        }
        Ok(out)
    }
}

/// What the cache needs of a stream: which keys changed.
fn keys_only_stream() -> Result<StreamSpecification, StoreError> {
    Ok(StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::KeysOnly)
        .build()?)
}

fn key_schema(hash: KeyAttr, range: Option<KeyAttr>) -> Result<Vec<KeySchemaElement>, StoreError> {
    let mut out = vec![
        KeySchemaElement::builder()
            .attribute_name(hash.name)
            .key_type(KeyType::Hash)
            .build()?,
    ];
    if let Some(r) = range {
        out.push(
            KeySchemaElement::builder()
                .attribute_name(r.name)
                .key_type(KeyType::Range)
                .build()?,
        );
    }
    Ok(out)
}

fn projection(index: &IndexDef) -> SdkProjection {
    match index.projection {
        Projection::All => SdkProjection::builder()
            .projection_type(ProjectionType::All)
            .build(),
        Projection::Include(attrs) => SdkProjection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(attrs.iter().map(|a| a.to_string()).collect()))
            .build(),
    }
}
