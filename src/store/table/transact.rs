//! Multi-item writes: `TransactWriteItems` with a client request token,
//! each action's refused condition read back as what it means.

use aws_sdk_dynamodb::{
    operation::transact_write_items::TransactWriteItemsError,
    types::{Delete, Put, TransactWriteItem, Update as TxUpdate},
};

use super::Table;
use crate::{
    aws::error::classify,
    cache::Evict,
    store::{
        Store, StoreError,
        codec::Item,
        expr::{Cond, Update, Write, conditioned},
    },
};

/// What a refused condition of one transaction action means, in order of
/// precedence when several are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum OnConflict {
    /// The item to change does not exist (or no longer matches).
    Missing,
    /// Another writer changed the item meanwhile (retry: a key another
    /// guard found taken may be that writer's doing).
    Moved,
    /// A uniqueness guard: the key is taken, naming the request field.
    Unique(&'static str),
}

impl Table<'_> {
    /// A transaction `Put` of `item`, where `condition` holds.
    pub(crate) fn tx_put(
        &self,
        item: Item,
        condition: Option<&Cond>,
    ) -> Result<TransactWriteItem, StoreError> {
        let write = Write::new(None, condition);
        let put = Put::builder().table_name(self.name()).set_item(Some(item));
        let put = conditioned!(put, write).build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A transaction `Update` of the item at `key`, where `condition` holds.
    pub(crate) fn tx_update(
        &self,
        key: Item,
        update: &Update,
        condition: Option<&Cond>,
    ) -> Result<TransactWriteItem, StoreError> {
        let write = Write::new(Some(update), condition);
        let u = TxUpdate::builder()
            .table_name(self.name())
            .set_key(Some(key));
        let u = conditioned!(u.set_update_expression(write.update), write).build()?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// A transaction `Delete` of the item at `key`, where `condition` holds.
    pub(crate) fn tx_delete(
        &self,
        key: Item,
        condition: Option<&Cond>,
    ) -> Result<TransactWriteItem, StoreError> {
        let write = Write::new(None, condition);
        let d = Delete::builder().table_name(self.name()).set_key(Some(key));
        let d = conditioned!(d, write).build()?;
        Ok(TransactWriteItem::builder().delete(d).build())
    }

    /// One `TransactWriteItems` of `actions` (all or nothing), with a client
    /// request token so that an SDK retry of a write that landed is
    /// answered as done. A cancelled condition is what its action's
    /// [`OnConflict`] says (in that order of precedence); a conflicting
    /// transaction is `VersionConflict` on `what` (retryable: the caller
    /// reads again); throttling stays retryable; a validation reason is the
    /// caller's.
    pub(crate) async fn transact(
        &self,
        actions: Vec<(TransactWriteItem, OnConflict)>,
        what: &'static str,
    ) -> Result<(), StoreError> {
        let (actions, guards): (Vec<_>, Vec<_>) = actions.into_iter().unzip();
        let _evict = transaction_evict(self.store, &actions);
        let client = self.client().await?;
        let result = client
            .transact_write_items()
            .client_request_token(uuid::Uuid::new_v4().to_string())
            .set_transact_items(Some(actions))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error()
        else {
            return Err(classify(&err, self.at("dynamodb:TransactWriteItems")));
        };
        let reasons = c.cancellation_reasons();
        let mut failed: Vec<OnConflict> = reasons
            .iter()
            .zip(&guards)
            .filter(|(r, _)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(_, g)| *g)
            .collect();
        failed.sort();
        match failed.first() {
            Some(OnConflict::Missing) => return Err(StoreError::NotFound { what }),
            Some(OnConflict::Moved) => {
                return Err(StoreError::VersionConflict { what, attempts: 1 });
            }
            Some(OnConflict::Unique(field)) => {
                return Err(StoreError::AlreadyExists { what, field });
            }
            None => {}
        }
        let any = |codes: &[&str]| {
            reasons
                .iter()
                .any(|r| r.code().is_some_and(|code| codes.contains(&code)))
        };
        if any(&["TransactionConflict"]) {
            return Err(StoreError::VersionConflict { what, attempts: 1 });
        }
        if any(&[
            "ThrottlingError",
            "ProvisionedThroughputExceeded",
            "RequestLimitExceeded",
        ]) {
            return Err(StoreError::Throttled {
                action: "dynamodb:TransactWriteItems".into(),
                table: self.name().to_string(),
                message: "a cancellation reason was throttling".into(),
            });
        }
        if any(&["ValidationError", "ItemCollectionSizeLimitExceeded"]) {
            return Err(StoreError::invalid(
                what,
                "DynamoDB does not accept the items (too large or malformed)",
            ));
        }
        Err(classify(&err, self.at("dynamodb:TransactWriteItems")))
    }
}

/// Held across a transaction: the cached keys it writes (see
/// `ItemCache::before_write`), taken before the actions move into the
/// request.
fn transaction_evict(store: &Store, actions: &[TransactWriteItem]) -> Option<Evict> {
    let cache = store.cache()?;
    cache.before_write(actions.iter().filter_map(|a| {
        let (table, item) = if let Some(p) = a.put() {
            (p.table_name(), p.item())
        } else if let Some(u) = a.update() {
            (u.table_name(), u.key())
        } else if let Some(d) = a.delete() {
            (d.table_name(), d.key())
        } else {
            return None;
        };
        Some((store.def_named(table)?, item))
    }))
}
