//! `curity-accounts`: one account as 2-4 identical items (main `ai#`,
//! user name `un#`, email `em#`, phone `pn#`) written together in one
//! transaction, guarded by `version` (optimistic locking). This module has
//! the operations; `item` the item layout, `transactions` the versioned
//! multi-item writes, `list` the filtered listing, `backfill` the initials
//! back-fill.

pub mod backfill;
mod item;
pub mod list;
pub mod plan;
mod transactions;

use std::sync::Arc;

use serde_json::{Map, Value};

use self::transactions::conflict_field;
pub use self::{
    backfill::{BackfillOptions, BackfillProgress, missing_initials, sample_missing_initials},
    item::primary_value,
    list::AccountPage,
    plan::{PlanSummary, Sort, SortKey},
};
use super::{
    StoreError,
    codec::{self, now_epoch, s},
    handle,
    keys::{self, Tenant},
    table::OnConflict,
};

handle!(
    /// `store.accounts()`.
    Accounts
);

/// The hash key of every account item (`ai#…`, `un#…`, `em#…`, `pn#…`).
const PK: &str = crate::schema::ACCOUNTS.hash.name;

/// Attempts of a read-modify-write before giving up with `VersionConflict`.
pub const WRITE_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    pub user_name: String,
    pub active: bool,
    pub attributes: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub user_name: String,
    pub active: bool,
    /// Every SCIM attribute but id, userName, active and credentials.
    pub attributes: Map<String, Value>,
    pub created: i64,
    pub updated: i64,
    pub version: i64,
    /// The API's rendering of this account, once per cached read.
    pub rendered: crate::rendered::Rendered,
}

/// A patch: optional new user name and active flag, top-level attributes
/// to set, and top-level attribute names to remove.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub user_name: Option<String>,
    pub active: Option<bool>,
    pub set: Map<String, Value>,
    pub remove: Vec<String>,
}

/// An account with what only the store sees: credentials.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub account: Account,
    pub password: Option<String>,
    pub credential_attributes: Option<String>,
    /// The top-level `email` / `phone` as read: the keys of the secondary
    /// items that exist, whatever the blob says (its primary entry may
    /// differ, in case for example, when another writer put it there).
    pub written: Written,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A change to apply to the stored account (update, patch, credentials).
pub(crate) type Change<'a> = dyn Fn(&mut Stored) -> Result<(), StoreError> + Send + Sync + 'a;

/// The unique keys an account can be read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Id,
    UserName,
    Email,
    Phone,
}

impl Lookup {
    /// The key kind (`ai`, `un`, `em`, `pn`) and the request field it names.
    fn key(self) -> (&'static str, &'static str) {
        match self {
            Self::Id => (keys::ACCOUNT_ID, "id"),
            Self::UserName => (keys::USER_NAME, "user_name"),
            Self::Email => (keys::EMAIL, "email"),
            Self::Phone => (keys::PHONE, "phone"),
        }
    }
}

impl Accounts<'_> {
    /// Consistent read of one account item by its `pk`.
    pub(crate) async fn read_stored(&self, pk: &str) -> Result<Option<Stored>, StoreError> {
        let item = self.0.get(self.0.key(pk)).await?;
        item.map(|i| self.stored_from_item(i)).transpose()
    }

    /// The account whose unique key `by` is `value`, through the cache.
    /// By phone it is always
    /// `None` when phone numbers are not unique (no `pn#` items).
    pub async fn get_by(
        &self,
        tenant: Tenant<'_>,
        by: Lookup,
        value: &str,
    ) -> Result<Option<Arc<Account>>, StoreError> {
        if by == Lookup::Phone && !self.0.settings().unique_phone_numbers {
            return Ok(None);
        }
        let (kind, field) = by.key();
        codec::check_key(field, value)?;
        let pk = keys::account_key(tenant, kind, value);
        // Through the cache; credentials are never read from it (nor kept
        // in it: the entry is the account alone).
        self.0
            .get_cached(self.0.key(&pk), |item| {
                self.stored_from_item(item).map(|s| s.account)
            })
            .await
    }

    /// Writes main, user-name, email and phone items in one transaction,
    /// each only if its key is free.
    pub async fn create(
        &self,
        tenant: Tenant<'_>,
        new: NewAccount,
        password: Option<String>,
    ) -> Result<Account, StoreError> {
        let now = now_epoch();
        let stored = Stored {
            account: Account {
                id: uuid::Uuid::new_v4().to_string(),
                user_name: new.user_name,
                active: new.active,
                attributes: new.attributes,
                created: now,
                updated: now,
                version: 0,
                rendered: Default::default(),
            },
            password: password.filter(|p| !p.is_empty()),
            credential_attributes: None,
            written: Written::default(),
        };
        self.validate(tenant, &stored)?;
        let common = self.common_item(tenant, &stored);
        let mut actions = vec![(
            self.put_new(self.main_item(tenant, &common, &stored))?,
            OnConflict::Unique("account.id"),
        )];
        for (kind, key) in self.unique_keys(tenant, &stored) {
            let mut item = common.clone();
            item.insert(PK.into(), s(key));
            actions.push((
                self.put_new(item)?,
                OnConflict::Unique(conflict_field(kind)),
            ));
        }
        // Only `attribute_not_exists` guards here, so a failed guard is a
        // uniqueness conflict (reported by `attempt`); what is left is a
        // clash with a concurrent transaction on the same keys: try again.
        for _ in 0..WRITE_ATTEMPTS {
            if self.attempt(actions.clone()).await? {
                return Ok(stored.account);
            }
        }
        Err(StoreError::VersionConflict {
            what: "account",
            attempts: WRITE_ATTEMPTS,
        })
    }

    /// Deletes every item of the account under the version read, retrying
    /// when it moves. `false` when there is no such account.
    pub async fn delete(&self, tenant: Tenant<'_>, id: &str) -> Result<bool, StoreError> {
        codec::check_key("id", id)?;
        let pk = keys::account_key(tenant, keys::ACCOUNT_ID, id);
        for _ in 0..WRITE_ATTEMPTS {
            let Some(old) = self.read_stored(&pk).await? else {
                return Ok(false);
            };
            let mut actions = vec![(self.delete_versioned(&pk, &old)?, OnConflict::Moved)];
            for (_, key) in self.written_keys(tenant, &old) {
                actions.push((self.delete_versioned(&key, &old)?, OnConflict::Moved));
            }
            if self.attempt(actions).await? {
                return Ok(true);
            }
        }
        Err(StoreError::VersionConflict {
            what: "account",
            attempts: WRITE_ATTEMPTS,
        })
    }

    /// Replaces the account; with `expected_version`, only if the stored
    /// version is still that one (`VersionMoved` otherwise, nothing written).
    pub async fn update(
        &self,
        tenant: Tenant<'_>,
        id: &str,
        new: NewAccount,
        expected_version: Option<i64>,
    ) -> Result<Option<Account>, StoreError> {
        codec::check_key("id", id)?;
        let pk = keys::account_key(tenant, keys::ACCOUNT_ID, id);
        self.modify(tenant, &pk, &|s: &mut Stored| {
            if let Some(expected) = expected_version
                && s.account.version != expected
            {
                return Err(StoreError::VersionMoved {
                    what: "account",
                    expected,
                });
            }
            s.account.user_name = new.user_name.clone();
            s.account.active = new.active;
            s.account.attributes = new.attributes.clone();
            Ok(())
        })
        .await
    }

    pub async fn patch(
        &self,
        tenant: Tenant<'_>,
        id: &str,
        patch: &AccountPatch,
    ) -> Result<Option<Account>, StoreError> {
        codec::check_key("id", id)?;
        let pk = keys::account_key(tenant, keys::ACCOUNT_ID, id);
        self.modify(tenant, &pk, &|s: &mut Stored| {
            if let Some(u) = &patch.user_name {
                s.account.user_name = u.clone();
            }
            if let Some(a) = patch.active {
                s.account.active = a;
            }
            for name in &patch.remove {
                s.account.attributes.remove(name);
            }
            for (k, v) in &patch.set {
                s.account.attributes.insert(k.clone(), v.clone());
            }
            Ok(())
        })
        .await
    }
}
