//! Versioned multi-item writes: every item of an account is put or deleted
//! in one `TransactWriteItems`, each guarded by the version read (or, for a
//! new unique key, by its absence); a cancelled guard tells a uniqueness
//! conflict from a concurrent writer.

use aws_sdk_dynamodb::{
    operation::transact_write_items::TransactWriteItemsError,
    types::{Delete, Put, TransactWriteItem},
};

use super::{Account, Accounts, Change, PK, Stored, WRITE_ATTEMPTS};
use crate::{
    aws::error::classify,
    store::{
        StoreError,
        codec::{Item, build_error, n, now_epoch, s},
        expr::{Cond, Expr},
        keys::{self, Tenant},
        table,
    },
};

/// Which condition guards a transaction action, to tell a uniqueness
/// conflict from a concurrent update when the transaction is cancelled.
#[derive(Debug, Clone, Copy)]
pub(super) enum Guard {
    /// `attribute_not_exists(pk)` on a new unique key.
    NewKey(&'static str),
    /// `version` and `accountId` as read.
    Version,
}

pub(super) enum TxOutcome {
    Done,
    VersionMoved,
}

impl Accounts<'_> {
    /// Read-modify-write of one account with up to three attempts: each
    /// re-reads `pk`, applies `change`, and rewrites every item under the
    /// version read. Returns `None` when the account is missing.
    pub(crate) async fn modify(
        &self,
        tenant: Tenant<'_>,
        pk: &str,
        change: &Change<'_>,
    ) -> Result<Option<Account>, StoreError> {
        for _ in 0..WRITE_ATTEMPTS {
            let Some(old) = self.read_stored(pk).await? else {
                return Ok(None);
            };
            let mut new = old.clone();
            change(&mut new)?;
            new.account.id = old.account.id.clone();
            new.account.created = old.account.created;
            new.account.updated = now_epoch();
            new.account.version = old.account.version + 1;
            self.validate(tenant, &new)?;
            match self
                .transact(self.update_actions(tenant, &old, &new)?)
                .await?
            {
                TxOutcome::Done => return Ok(Some(new.account)),
                TxOutcome::VersionMoved => continue,
            }
        }
        Err(StoreError::VersionConflict {
            what: "account",
            attempts: WRITE_ATTEMPTS,
        })
    }

    pub(super) fn update_actions(
        &self,
        tenant: Tenant<'_>,
        old: &Stored,
        new: &Stored,
    ) -> Result<Vec<(TransactWriteItem, Guard)>, StoreError> {
        let common = self.common_item(tenant, new);
        let mut actions = vec![(
            self.put_versioned(self.main_item(tenant, &common, new), old)?,
            Guard::Version,
        )];
        let old_keys = self.written_keys(tenant, old);
        let new_keys = self.unique_keys(tenant, new);
        for kind in [keys::USER_NAME, keys::EMAIL, keys::PHONE] {
            let before = old_keys.iter().find(|(k, _)| *k == kind).map(|(_, v)| v);
            let after = new_keys.iter().find(|(k, _)| *k == kind).map(|(_, v)| v);
            let item_for = |key: &String| {
                let mut item = common.clone();
                item.insert(PK.into(), s(key));
                item
            };
            match (before, after) {
                (Some(b), Some(a)) if a == b => {
                    actions.push((self.put_versioned(item_for(a), old)?, Guard::Version));
                }
                (b, a) => {
                    if let Some(b) = b {
                        actions.push((self.delete_versioned(b, old)?, Guard::Version));
                    }
                    if let Some(a) = a {
                        actions.push((
                            self.put_new(item_for(a))?,
                            Guard::NewKey(conflict_field(kind)),
                        ));
                    }
                }
            }
        }
        Ok(actions)
    }

    pub(super) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let put = Put::builder()
            .table_name(self.name())
            .set_item(Some(item))
            .condition_expression(e.cond(&Cond::NotExists(self.def().hash.name)))
            .set_expression_attribute_names(e.names())
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub(super) fn put_versioned(
        &self,
        item: Item,
        old: &Stored,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let put = Put::builder()
            .table_name(self.name())
            .set_item(Some(item))
            .condition_expression(e.cond(&unchanged_since(old)))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub(super) fn delete_versioned(
        &self,
        pk: &str,
        old: &Stored,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let delete = Delete::builder()
            .table_name(self.name())
            .set_key(Some(self.key(pk)))
            .condition_expression(e.cond(&unchanged_since(old)))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Runs the transaction. A cancelled new-key guard is a uniqueness
    /// conflict naming its field; a cancelled version guard means another
    /// writer got there first.
    pub(super) async fn transact(
        &self,
        actions: Vec<(TransactWriteItem, Guard)>,
    ) -> Result<TxOutcome, StoreError> {
        let guards: Vec<Guard> = actions.iter().map(|(_, g)| *g).collect();
        // One token per attempt: an SDK retry of this request (after a
        // timeout, say) is then recognised by DynamoDB as the same write and
        // not applied twice, nor reported as a failed guard.
        let token = uuid::Uuid::new_v4().to_string();
        let actions: Vec<_> = actions.into_iter().map(|(a, _)| a).collect();
        let _evict = table::transaction_evict(self.tables(), &actions);
        let client = self.client().await?;
        let result = client
            .transact_write_items()
            .client_request_token(token)
            .set_transact_items(Some(actions))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(TxOutcome::Done),
            Err(e) => e,
        };
        let reasons = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                c.cancellation_reasons().to_vec()
            }
            _ => {
                return Err(classify(&err, self.at("dynamodb:TransactWriteItems")));
            }
        };
        let failed: Vec<Guard> = reasons
            .iter()
            .zip(&guards)
            .filter(|(r, _)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(_, g)| *g)
            .collect();
        if let Some(Guard::NewKey(field)) = failed.iter().find(|g| matches!(g, Guard::NewKey(_))) {
            return Err(StoreError::AlreadyExists {
                what: "account",
                field,
            });
        }
        let any = |codes: &[&str]| {
            reasons
                .iter()
                .any(|r| r.code().is_some_and(|c| codes.contains(&c)))
        };
        if !failed.is_empty() || any(&["TransactionConflict"]) {
            return Ok(TxOutcome::VersionMoved);
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
                "account",
                "DynamoDB does not accept the account's items (too large or malformed)",
            ));
        }
        Err(classify(&err, self.at("dynamodb:TransactWriteItems")))
    }
}

pub(super) fn conflict_field(kind: &str) -> &'static str {
    match kind {
        keys::USER_NAME => "account.user_name",
        keys::EMAIL => "account.attributes.emails",
        keys::PHONE => "account.attributes.phoneNumbers",
        _ => "account.id",
    }
}

/// The guard of every versioned write: the item still belongs to the
/// account and nobody wrote it since `old` was read.
fn unchanged_since(old: &Stored) -> Cond {
    Cond::eq("version", n(old.account.version)).and(Cond::eq("accountId", s(&old.account.id)))
}
