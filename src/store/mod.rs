//! DynamoDB storage in the Curity plugin's layout: one module per table.
//! Knows DynamoDB and the layout, nothing about gRPC.

pub mod accounts;
pub mod accounts_list;
pub mod backfill;
pub mod buckets;
pub mod codec;
pub mod credentials;
pub mod cursor;
pub mod error;
pub mod expr;
pub mod filter;
pub mod keys;
pub mod links;
pub mod nonces;
pub mod query;
pub mod schema;
pub mod sessions;
pub mod tables;
pub mod tokens;

use std::sync::Arc;

use crate::{
    aws::{DynamoPool, PooledClient, error::CallSite},
    config::DynamoDbConfig,
};
pub use error::StoreError;

/// Table names with the configured prefix applied, computed once.
#[derive(Debug, Clone)]
pub struct TableNames {
    pub accounts: String,
    pub bucket: String,
    pub links: String,
    pub nonces: String,
    pub sessions: String,
    pub tokens: String,
}

impl TableNames {
    pub fn new(prefix: &str) -> Self {
        Self {
            accounts: schema::ACCOUNTS.name(prefix),
            bucket: schema::BUCKET.name(prefix),
            links: schema::LINKS.name(prefix),
            nonces: schema::NONCES.name(prefix),
            sessions: schema::SESSIONS.name(prefix),
            tokens: schema::TOKENS.name(prefix),
        }
    }
}

/// Shared by every table module: the client pool, table names, settings.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: DynamoPool,
    tables: TableNames,
    settings: DynamoDbConfig,
    method: &'static str,
}

impl Store {
    pub fn new(pool: DynamoPool, settings: DynamoDbConfig, method: &'static str) -> Self {
        Self {
            inner: Arc::new(Inner {
                tables: TableNames::new(&settings.table_name_prefix),
                pool,
                settings,
                method,
            }),
        }
    }

    pub fn tables(&self) -> &TableNames {
        &self.inner.tables
    }

    pub fn settings(&self) -> &DynamoDbConfig {
        &self.inner.settings
    }

    pub(crate) async fn client(&self) -> Result<PooledClient, StoreError> {
        self.inner.pool.get().await
    }

    pub(crate) fn at<'t>(&self, action: &'static str, table: &'t str) -> CallSite<'t> {
        CallSite {
            action,
            table,
            method: self.inner.method,
        }
    }

    /// Consistent `GetItem` of the item whose key attribute `key` is
    /// `value` (single-attribute keys). The pooled client is returned
    /// before the caller goes on.
    pub(crate) async fn get_consistent(
        &self,
        table: &str,
        key: &str,
        value: &str,
    ) -> Result<Option<codec::Item>, StoreError> {
        let client = self.client().await?;
        let out = client
            .get_item()
            .table_name(table)
            .key(key, codec::s(value))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::aws::error::classify(&e, self.at("dynamodb:GetItem", table)))?;
        Ok(out.item)
    }

    /// `PutItem` only when no item has that key (`key` is the hash key
    /// attribute); a taken key is `AlreadyExists` naming `field`.
    pub(crate) async fn put_if_absent(
        &self,
        table: &str,
        key: &'static str,
        item: codec::Item,
        what: &'static str,
        field: &'static str,
    ) -> Result<(), StoreError> {
        let mut e = expr::Expr::new();
        let client = self.client().await?;
        let result = client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(e.cond(&expr::Cond::NotExists(key)))
            .set_expression_attribute_names(e.names())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if crate::aws::error::condition_failed(&e) => {
                Err(StoreError::AlreadyExists { what, field })
            }
            Err(e) => Err(crate::aws::error::classify(
                &e,
                self.at("dynamodb:PutItem", table),
            )),
        }
    }

    /// `UpdateItem` of the item whose hash key `key` is `value`, only where
    /// `condition` holds: `false` when it does not (nothing is written).
    pub(crate) async fn update_if(
        &self,
        table: &str,
        (key, value): (&'static str, &str),
        update: &expr::Update,
        condition: &expr::Cond,
    ) -> Result<bool, StoreError> {
        let mut e = expr::Expr::new();
        let update = e.update(update);
        let condition = e.cond(condition);
        let (names, values) = e.into_parts();
        let client = self.client().await?;
        let result = client
            .update_item()
            .table_name(table)
            .key(key, codec::s(value))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if crate::aws::error::condition_failed(&e) => Ok(false),
            Err(e) => Err(crate::aws::error::classify(
                &e,
                self.at("dynamodb:UpdateItem", table),
            )),
        }
    }

    /// The readiness probe: DynamoDB answers a DescribeTable on the
    /// accounts table with the service's own credentials.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let table = &self.inner.tables.accounts;
        let client = self.client().await?;
        client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| {
                crate::aws::error::classify(&e, self.at("dynamodb:DescribeTable", table))
            })?;
        Ok(())
    }
}
