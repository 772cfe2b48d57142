//! DynamoDB storage in the Curity plugin's layout: one module per table.
//! Knows DynamoDB and the layout, nothing about gRPC.

pub mod accounts;
pub mod buckets;
pub mod codec;
pub mod credentials;
pub mod cursor;
pub mod database_clients;
pub mod delegations;
pub mod devices;
pub mod dynamic_clients;
pub mod expr;
pub mod filter;
pub mod keys;
pub mod links;
pub mod nonces;
pub mod query;
pub mod sessions;
pub mod table;
pub mod tables;
pub mod tokens;

use std::{borrow::Cow, sync::Arc};

pub use self::table::Table;
use self::{
    accounts::Accounts, buckets::Buckets, credentials::Credentials, delegations::Delegations,
    devices::Devices, dynamic_clients::DynamicClients, links::Links, nonces::Nonces,
    sessions::Sessions, tokens::Tokens,
};
pub use crate::error::StoreError;
use crate::schema::{self, TableDef};
use crate::{
    aws::{
        DynamoPool, PooledClient,
        error::{CallSite, SdkResultExt},
    },
    cache::ItemCache,
    config::DynamoDbConfig,
};

/// The shared pool and settings. Tables are reached through their handles
/// (`store.sessions().get(id)`), each owning its name, keys and codec.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: DynamoPool,
    /// Prefixed names, parallel to `schema::ALL`, computed once.
    names: Vec<String>,
    settings: DynamoDbConfig,
    method: &'static str,
    cache: Option<Arc<ItemCache>>,
}

impl Store {
    pub fn new(pool: DynamoPool, settings: DynamoDbConfig, method: &'static str) -> Self {
        Self::cached(pool, settings, method, None)
    }

    /// A store whose hot reads go through `cache` (every write through
    /// this store evicts what it touched).
    pub fn cached(
        pool: DynamoPool,
        settings: DynamoDbConfig,
        method: &'static str,
        cache: Option<Arc<ItemCache>>,
    ) -> Self {
        let names = schema::ALL
            .iter()
            .map(|t| t.name(&settings.table_name_prefix))
            .collect();
        Self {
            inner: Arc::new(Inner {
                names,
                pool,
                settings,
                method,
                cache,
            }),
        }
    }

    /// The handle of any table of the layout.
    /// `curity-database-clients`.
    pub fn database_clients(&self) -> database_clients::Catalog<'_> {
        let v = &database_clients::CLIENTS;
        database_clients::Catalog {
            table: self.table(v.def),
            v,
        }
    }

    /// `curity-database-service-providers` (the same design).
    pub fn database_service_providers(&self) -> database_clients::Catalog<'_> {
        let v = &database_clients::SERVICE_PROVIDERS;
        database_clients::Catalog {
            table: self.table(v.def),
            v,
        }
    }

    pub fn table(&self, def: &'static TableDef) -> Table<'_> {
        let name = schema::ALL
            .iter()
            .position(|t| t.suffix == def.suffix)
            .and_then(|i| self.inner.names.get(i))
            .map_or_else(
                || Cow::Owned(def.name(&self.inner.settings.table_name_prefix)),
                |n| Cow::Borrowed(n.as_str()),
            );
        Table::new(self, def, name)
    }

    pub fn settings(&self) -> &DynamoDbConfig {
        &self.inner.settings
    }

    pub fn cache(&self) -> Option<&Arc<ItemCache>> {
        self.inner.cache.as_ref()
    }

    /// The table of the layout with this (prefixed) name.
    pub(crate) fn def_named(&self, name: &str) -> Option<&'static TableDef> {
        self.inner
            .names
            .iter()
            .position(|n| n == name)
            .and_then(|i| schema::ALL.get(i).copied())
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

    /// The readiness probe: DynamoDB answers a DescribeTable on the
    /// accounts table with the service's own credentials.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let accounts = self.accounts();
        let client = self.client().await?;
        client
            .describe_table()
            .table_name(accounts.name())
            .send()
            .await
            .classify(accounts.0.at("dynamodb:DescribeTable"))?;
        Ok(())
    }
}

/// The per-table handles, each over its table of the layout.
macro_rules! handles {
    ($($(#[$doc:meta])* $name:ident: $handle:ident = $def:ident,)*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> $handle<'_> {
                    $handle(self.table(&schema::$def))
                }
            )*
        }
    };
}

handles! {
    accounts: Accounts = ACCOUNTS,
    /// Passwords live on the account items (`curity-accounts`).
    credentials: Credentials = ACCOUNTS,
    links: Links = LINKS,
    sessions: Sessions = SESSIONS,
    nonces: Nonces = NONCES,
    tokens: Tokens = TOKENS,
    buckets: Buckets = BUCKET,
    delegations: Delegations = DELEGATIONS,
    devices: Devices = DEVICES,
    dynamic_clients: DynamicClients = DYNAMIC_CLIENTS,
}

/// A per-table handle: a newtype over [`Table`] whose inherent methods are
/// that table's operations. It holds the table rather than dereferencing to
/// it: what a handle offers is what it declares (no table method shows
/// through, none can be shadowed by accident), and only `store` reaches
/// the table inside.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<'s>(pub(in crate::store) $crate::store::Table<'s>);

        impl $name<'_> {
            /// The table's full name (prefix included).
            pub fn name(&self) -> &str {
                self.0.name()
            }
        }
    };
}
pub(crate) use handle;
