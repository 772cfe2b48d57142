//! One table's handle: its layout from `schema`, its prefixed name and the
//! shared pool. Every per-table handle (`store.sessions()`, ...) wraps one
//! and derefs to it, so the single-item calls every table makes (consistent
//! get, conditional put, conditional update, put, delete) and the item
//! codec live here once.

use std::{borrow::Cow, sync::Arc};

use aws_sdk_dynamodb::{
    operation::{delete_item::DeleteItemError, put_item::PutItemError},
    types::ReturnValuesOnConditionCheckFailure,
};

use serde::{Serialize, de::DeserializeOwned};

use super::{
    Store, StoreError,
    codec::{Item, s},
    expr::{Cond, Update, Write, conditioned},
};
use crate::schema::TableDef;

mod transact;

use crate::{
    aws::{
        PooledClient,
        attempts::Attempts,
        error::{CallSite, SdkResultExt, classify, condition_failed},
    },
    cache::Evict,
    config::DynamoDbConfig,
};
pub(crate) use transact::OnConflict;

/// Sends a conditioned write that answers a refusal with the item the
/// condition saw, counting the SDK's attempts: a write refused after a
/// retry may be the first attempt's own (its reply lost).
macro_rules! send_watched {
    ($builder:expr, $write:ident, $attempts:ident) => {
        conditioned!($builder, $write)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .customize()
            .interceptor($attempts.clone())
            .send()
            .await
    };
}

#[derive(Debug, Clone)]
pub struct Table<'s> {
    store: &'s Store,
    def: &'static TableDef,
    name: Cow<'s, str>,
}

impl<'s> Table<'s> {
    pub(super) fn new(store: &'s Store, def: &'static TableDef, name: Cow<'s, str>) -> Self {
        Self { store, def, name }
    }

    /// The table's name with the configured prefix.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn def(&self) -> &'static TableDef {
        self.def
    }

    /// The store, to reach the other tables (`self.tables().accounts()`).
    pub fn tables(&self) -> &'s Store {
        self.store
    }

    pub fn settings(&self) -> &'s DynamoDbConfig {
        self.store.settings()
    }

    pub(crate) async fn client(&self) -> Result<PooledClient, StoreError> {
        self.store.client().await
    }

    /// Where a failing call happened, for `classify`.
    pub(crate) fn at(&self, action: &'static str) -> CallSite<'_> {
        self.store.at(action, &self.name)
    }

    /// The key of the item whose hash key is `value` (hash-only tables).
    pub(crate) fn key(&self, value: &str) -> Item {
        Item::from([(self.def.hash.name.to_string(), s(value))])
    }

    /// The key of a table with a range key.
    pub(crate) fn key2(&self, hash: &str, range: &str) -> Item {
        let mut key = self.key(hash);
        if let Some(r) = self.def.range {
            key.insert(r.name.to_string(), s(range));
        }
        key
    }

    /// The condition "an item with this key exists".
    pub(crate) fn exists(&self) -> Cond {
        Cond::Exists(self.def.hash.name)
    }

    /// Consistent `GetItem`; the pooled client is returned before the
    /// caller goes on.
    pub(crate) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let client = self.client().await?;
        // Boxed: the SDK's future is tens of kilobytes, which every future
        // holding this one would otherwise carry and move.
        let out = Box::pin(
            client
                .get_item()
                .table_name(self.name())
                .set_key(Some(key))
                .consistent_read(true)
                .send(),
        )
        .await
        .classify(self.at("dynamodb:GetItem"))?;
        Ok(out.item)
    }

    /// The hot read: `get` through the cache where this table's data type
    /// is cached (README: the consistency contract of each type), as
    /// `decode` makes the item (decoded once per cached entry). Never for a
    /// read-modify-write: its condition needs the item as stored. Shared
    /// (`Arc`): a hit hands out the cached value without copying it.
    pub(crate) async fn get_cached<T, D>(
        &self,
        key: Item,
        decode: D,
    ) -> Result<Option<Arc<T>>, StoreError>
    where
        T: Send + Sync + 'static,
        D: Fn(Item) -> Result<T, StoreError>,
    {
        let decode = |item| decode(item).map(Arc::new);
        match self.store.cache() {
            Some(cache) => cache
                .read(self.def, &key, || self.get(key.clone()), decode)
                .await
                .map(|(value, _)| value),
            None => match self.get(key).await? {
                Some(item) => decode(item).map(Some),
                None => Ok(None),
            },
        }
    }

    /// `get_cached` decoded as the layout type `T`.
    pub(crate) async fn read_cached<T>(&self, key: Item) -> Result<Option<Arc<T>>, StoreError>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        self.get_cached(key, |item| self.decode(item)).await
    }

    /// Held across a write to `item` (or a key): see
    /// `ItemCache::before_write`.
    fn evict_on_drop(&self, item: &Item) -> Option<Evict> {
        self.store.cache()?.before_write([(self.def, item)])
    }

    /// Consistent `GetItem` decoded as the layout type `T`.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        key: Item,
    ) -> Result<Option<T>, StoreError> {
        match self.get(key).await? {
            Some(item) => self.decode(item).map(Some),
            None => Ok(None),
        }
    }

    /// Unconditional `PutItem` (a full replace).
    pub(crate) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.put_when(item, None).await.map(|_| ())
    }

    /// `PutItem` only when no item has that key; a taken key is
    /// `AlreadyExists` naming `field`. When the SDK retried (the first
    /// reply was lost) and the key holds exactly this item, the earlier
    /// attempt wrote it: success, not a conflict. A caller sending the same
    /// create twice still gets `AlreadyExists`: its second call's first
    /// attempt meets the item.
    pub(crate) async fn put_if_absent(
        &self,
        item: Item,
        what: &'static str,
        field: &'static str,
    ) -> Result<(), StoreError> {
        let write = Write::new(None, Some(&Cond::NotExists(self.def.hash.name)));
        let attempts = Attempts::default();
        let _evict = self.evict_on_drop(&item);
        let client = self.client().await?;
        let put = client.put_item().table_name(self.name());
        let sent = send_watched!(put.set_item(Some(item.clone())), write, attempts);
        match sent {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => {
                let current = match err.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(c)) => c.item(),
                    _ => None,
                };
                if attempts.retried() && current == Some(&item) {
                    Ok(())
                } else {
                    Err(StoreError::AlreadyExists { what, field })
                }
            }
            Err(err) => Err(classify(&err, self.at("dynamodb:PutItem"))),
        }
    }

    /// `PutItem` only where `condition` holds: `false` when it does not.
    pub(crate) async fn put_if(&self, item: Item, condition: &Cond) -> Result<bool, StoreError> {
        self.put_when(item, Some(condition)).await
    }

    /// Unconditional `UpdateItem` (creates the item when missing).
    pub(crate) async fn update(&self, key: Item, update: &Update) -> Result<(), StoreError> {
        self.update_when(key, update, None).await.map(|_| ())
    }

    /// `UpdateItem` only where `condition` holds: `false` when it does not
    /// (nothing is written).
    pub(crate) async fn update_if(
        &self,
        key: Item,
        update: &Update,
        condition: &Cond,
    ) -> Result<bool, StoreError> {
        self.update_when(key, update, Some(condition)).await
    }

    /// Unconditional `DeleteItem`; deleting nothing is not an error.
    pub(crate) async fn delete(&self, key: Item) -> Result<(), StoreError> {
        let _evict = self.evict_on_drop(&key);
        let client = self.client().await?;
        let sent = client
            .delete_item()
            .table_name(self.name())
            .set_key(Some(key))
            .send()
            .await;
        sent.classify(self.at("dynamodb:DeleteItem"))?;
        Ok(())
    }

    /// `DeleteItem` only where `condition` holds: `false` when it does not.
    /// When the SDK retried (the first reply was lost) and the item is
    /// gone, the earlier attempt deleted it: `true`.
    pub(crate) async fn delete_if(&self, key: Item, condition: &Cond) -> Result<bool, StoreError> {
        let write = Write::new(None, Some(condition));
        let attempts = Attempts::default();
        let _evict = self.evict_on_drop(&key);
        let client = self.client().await?;
        let delete = client.delete_item().table_name(self.name());
        let sent = send_watched!(delete.set_key(Some(key)), write, attempts);
        match sent {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => {
                let gone = match err.as_service_error() {
                    Some(DeleteItemError::ConditionalCheckFailedException(c)) => {
                        c.item().is_none_or(|i| i.is_empty())
                    }
                    _ => false,
                };
                Ok(attempts.retried() && gone)
            }
            Err(err) => Err(classify(&err, self.at("dynamodb:DeleteItem"))),
        }
    }

    // The single-item writes: `false` when the condition refused the
    // write (nothing was written).

    async fn put_when(&self, item: Item, condition: Option<&Cond>) -> Result<bool, StoreError> {
        let write = Write::new(None, condition);
        let _evict = self.evict_on_drop(&item);
        let client = self.client().await?;
        let put = client.put_item().table_name(self.name());
        let sent = conditioned!(put.set_item(Some(item)), write).send().await;
        let written = sent.conditional(self.at("dynamodb:PutItem"))?;
        Ok(written.is_some())
    }

    async fn update_when(
        &self,
        key: Item,
        update: &Update,
        condition: Option<&Cond>,
    ) -> Result<bool, StoreError> {
        let write = Write::new(Some(update), condition);
        let _evict = self.evict_on_drop(&key);
        let client = self.client().await?;
        let update = client
            .update_item()
            .table_name(self.name())
            .set_key(Some(key));
        let sent = conditioned!(update.set_update_expression(write.update), write)
            .send()
            .await;
        let updated = sent.conditional(self.at("dynamodb:UpdateItem"))?;
        Ok(updated.is_some())
    }

    /// An item as its layout type; a missing or wrongly typed attribute is
    /// `MalformedItem` naming this table and the attribute.
    pub(crate) fn decode<T: DeserializeOwned>(&self, item: Item) -> Result<T, StoreError> {
        super::codec::decode(self.name(), item)
    }

    /// A layout type as an item.
    pub(crate) fn encode<T: Serialize>(&self, value: &T) -> Result<Item, StoreError> {
        super::codec::encode(self.name(), value)
    }
}
