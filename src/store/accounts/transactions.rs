//! Versioned multi-item writes: every item of an account is put or deleted
//! in one `TransactWriteItems` (`Table::transact`, the one transaction
//! path), each guarded by the version read (or, for a new unique key, by
//! its absence). Only which items and which conditions are the account's.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::{Account, Accounts, Change, PK, Stored, WRITE_ATTEMPTS};
use crate::store::{
    StoreError,
    codec::{Item, n, now_epoch, s},
    expr::Cond,
    keys::{self, Tenant},
    table::OnConflict,
};

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
            if self
                .attempt(self.update_actions(tenant, &old, &new)?)
                .await?
            {
                return Ok(Some(new.account));
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
    ) -> Result<Vec<(TransactWriteItem, OnConflict)>, StoreError> {
        let common = self.common_item(tenant, new);
        let mut actions = vec![(
            self.put_versioned(self.main_item(tenant, &common, new), old)?,
            OnConflict::Moved,
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
                    actions.push((self.put_versioned(item_for(a), old)?, OnConflict::Moved));
                }
                (b, a) => {
                    if let Some(b) = b {
                        actions.push((self.delete_versioned(b, old)?, OnConflict::Moved));
                    }
                    if let Some(a) = a {
                        actions.push((
                            self.put_new(item_for(a))?,
                            OnConflict::Unique(conflict_field(kind)),
                        ));
                    }
                }
            }
        }
        Ok(actions)
    }

    /// A put of a new unique key: only where no item has it.
    pub(super) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        self.0
            .tx_put(item, Some(&Cond::NotExists(self.0.def().hash.name)))
    }

    /// A put of an item the account wrote before, under the version read.
    pub(super) fn put_versioned(
        &self,
        item: Item,
        old: &Stored,
    ) -> Result<TransactWriteItem, StoreError> {
        self.0.tx_put(item, Some(&unchanged_since(old)))
    }

    /// A delete of an item the account wrote, under the version read.
    pub(super) fn delete_versioned(
        &self,
        pk: &str,
        old: &Stored,
    ) -> Result<TransactWriteItem, StoreError> {
        self.0
            .tx_delete(self.0.key(pk), Some(&unchanged_since(old)))
    }

    /// One attempt of a write, through the table's one transaction path:
    /// `true` written, `false` another writer got there first (read again
    /// and retry). A taken unique key is `AlreadyExists` naming its field.
    pub(super) async fn attempt(
        &self,
        actions: Vec<(TransactWriteItem, OnConflict)>,
    ) -> Result<bool, StoreError> {
        match self.0.transact(actions, "account").await {
            Ok(()) => Ok(true),
            Err(StoreError::VersionConflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
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
