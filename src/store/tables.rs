//! `tables create` and `tables check`: make the live tables match
//! `schema`, or report every way they differ.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        LocalSecondaryIndex, Projection as SdkProjection, ProjectionType, ProvisionedThroughput,
        StreamSpecification, StreamViewType, TableDescription, TableStatus,
        TimeToLiveSpecification, TimeToLiveStatus,
    },
};

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
}

impl CreateReport {
    pub fn changed_anything(&self) -> bool {
        self.created + self.ttl_enabled + self.streams_enabled > 0
    }
}

#[derive(Debug)]
pub struct TableCheck {
    pub table: String,
    /// Ways the live table is incompatible with the plugin's layout.
    pub differences: Vec<String>,
    /// Not incompatible, but worth an operator's attention.
    pub warnings: Vec<String>,
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
        let mut report = CreateReport::default();
        for def in schema::ALL {
            let name = def.name(self.prefix);
            let stream = streams && crate::cache::Kind::of(def).is_some();
            if let Some(existing) = self.describe(&name).await? {
                let has_stream = existing
                    .stream_specification()
                    .is_some_and(|s| s.stream_enabled());
                if stream && !has_stream {
                    self.enable_stream(&name).await?;
                    self.wait_active(&name).await?;
                    report.streams_enabled += 1;
                    report
                        .lines
                        .push(format!("{name}: stream (KEYS_ONLY) enabled"));
                } else {
                    report.lines.push(format!("{name}: exists, unchanged"));
                }
            } else {
                self.create(def, &name, billing, stream).await?;
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
        }
        Ok(report)
    }

    async fn create(
        &self,
        def: &TableDef,
        name: &str,
        billing: Billing,
        stream: bool,
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
        self.client
            .update_table()
            .table_name(name)
            .stream_specification(keys_only_stream()?)
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:UpdateTable", name)))?;
        Ok(())
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
            };
            match self.describe(&name).await? {
                None => check.differences.push("table does not exist".into()),
                Some(live) => {
                    compare(def, &live, &mut check);
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

fn describe_keys(keys: &[KeySchemaElement]) -> String {
    let name = |t: KeyType| {
        keys.iter()
            .find(|k| *k.key_type() == t)
            .map(|k| k.attribute_name().to_string())
    };
    match (name(KeyType::Hash), name(KeyType::Range)) {
        (Some(h), Some(r)) => format!("({h}, {r})"),
        (Some(h), None) => format!("({h})"),
        _ => "(none)".into(),
    }
}

fn expected_keys(hash: KeyAttr, range: Option<KeyAttr>) -> String {
    match range {
        Some(r) => format!("({}, {})", hash.name, r.name),
        None => format!("({})", hash.name),
    }
}

fn describe_projection(p: Option<&SdkProjection>) -> (String, Vec<String>) {
    let ty = p
        .and_then(|p| p.projection_type())
        .map(|t| t.as_str().to_string())
        .unwrap_or_else(|| "NONE".into());
    let mut attrs: Vec<String> = p
        .map(|p| p.non_key_attributes().to_vec())
        .unwrap_or_default();
    attrs.sort();
    (ty, attrs)
}

fn expected_projection(p: Projection) -> (String, Vec<String>) {
    match p {
        Projection::All => ("ALL".into(), Vec::new()),
        Projection::Include(a) => {
            let mut attrs: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            attrs.sort();
            ("INCLUDE".into(), attrs)
        }
    }
}

/// One live index, whichever kind, reduced to what the layout fixes.
struct LiveIndex {
    name: String,
    keys: String,
    projection: (String, Vec<String>),
}

fn compare(def: &TableDef, live: &TableDescription, check: &mut TableCheck) {
    let want = expected_keys(def.hash, def.range);
    let got = describe_keys(live.key_schema());
    if want != got {
        check
            .differences
            .push(format!("key schema is {got}, expected {want}"));
    }
    for attr in def.key_attributes() {
        match live
            .attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == attr.name)
        {
            Some(d) if *d.attribute_type() == attr.ty.sdk() => {}
            Some(d) => check.differences.push(format!(
                "attribute {} has type {}, expected {}",
                attr.name,
                d.attribute_type().as_str(),
                attr.ty.sdk().as_str()
            )),
            None => check
                .differences
                .push(format!("attribute {} is not defined", attr.name)),
        }
    }
    let live_gsis: Vec<LiveIndex> = live
        .global_secondary_indexes()
        .iter()
        .map(|g| LiveIndex {
            name: g.index_name().unwrap_or_default().to_string(),
            keys: describe_keys(g.key_schema()),
            projection: describe_projection(g.projection()),
        })
        .collect();
    let live_lsis: Vec<LiveIndex> = live
        .local_secondary_indexes()
        .iter()
        .map(|l| LiveIndex {
            name: l.index_name().unwrap_or_default().to_string(),
            keys: describe_keys(l.key_schema()),
            projection: describe_projection(l.projection()),
        })
        .collect();
    compare_indexes("global index", def.global_indexes, &live_gsis, check);
    compare_indexes("local index", def.local_indexes, &live_lsis, check);
}

fn compare_indexes(kind: &str, want: &[IndexDef], live: &[LiveIndex], check: &mut TableCheck) {
    for index in want {
        let Some(got) = live.iter().find(|l| l.name == index.name) else {
            check
                .differences
                .push(format!("{kind} {} is missing", index.name));
            continue;
        };
        let keys = expected_keys(index.hash, index.range);
        if got.keys != keys {
            check.differences.push(format!(
                "{kind} {} has keys {}, expected {keys}",
                index.name, got.keys
            ));
        }
        let proj = expected_projection(index.projection);
        if got.projection != proj {
            check.differences.push(format!(
                "{kind} {} projects {} {:?}, expected {} {:?}",
                index.name, got.projection.0, got.projection.1, proj.0, proj.1
            ));
        }
    }
    for extra in live
        .iter()
        .filter(|l| !want.iter().any(|w| w.name == l.name))
    {
        check.warnings.push(format!(
            "{kind} {} is not part of the layout (harmless, but unused)",
            extra.name
        ));
    }
}
