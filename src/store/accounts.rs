//! `curity-accounts`: one account as 2-4 identical items (main `ai#`,
//! user name `un#`, email `em#`, phone `pn#`) written together in one
//! transaction, guarded by `version` (optimistic locking).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::{
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Delete, Put, TransactWriteItem},
};
use serde_json::{Map, Value};

use super::{
    Store, StoreError,
    codec::{Item, build_error, n, s},
    expr::{Cond, Expr},
    keys::{self, Tenant},
};
use crate::aws::error::classify;

/// DynamoDB's item size limit.
const MAX_ITEM_BYTES: usize = 400 * 1024;
/// GSI range keys (`userName`, `email`) are limited to 1024 bytes.
const MAX_RANGE_KEY_BYTES: usize = 1024;
/// Attempts of a read-modify-write before giving up with `VersionConflict`.
pub const WRITE_ATTEMPTS: usize = 3;

/// SCIM attributes never stored in the `attributes` JSON blob: they have
/// top-level attributes of their own, or are not stored at all. Credential
/// attributes are kept out too (the plugin can leak them in via `patch`).
const NOT_IN_BLOB: [&str; 8] = [
    "active",
    "password",
    "userName",
    "id",
    "schemas",
    "linkedAccounts",
    "meta",
    "credentialAttributes",
];

/// Top-level item attributes that are not account attributes when read.
const NOT_COPIED_ON_READ: [&str; 15] = [
    "pk",
    "tenantId",
    "version",
    "accountId",
    "email",
    "phone",
    "created",
    "updated",
    "password",
    "userNameInitial",
    "emailInitial",
    "credentialAttributes",
    "userName",
    "active",
    "attributes",
];

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

/// Which condition guards a transaction action, to tell a uniqueness
/// conflict from a concurrent update when the transaction is cancelled.
#[derive(Debug, Clone, Copy)]
enum Guard {
    /// `attribute_not_exists(pk)` on a new unique key.
    NewKey(&'static str),
    /// `version` and `accountId` as read.
    Version,
}

pub(crate) enum TxOutcome {
    Done,
    VersionMoved,
}

pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The value of the primary entry of a SCIM multi-valued attribute
/// (`emails`, `phoneNumbers`), else of the first. An empty value means
/// none, even if another entry has one (as the plugin does).
pub fn primary_value(attributes: &Map<String, Value>, name: &str) -> Option<String> {
    let list = attributes.get(name)?.as_array()?;
    let entry = list
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| list.first())?;
    let value = entry.get("value")?.as_str()?;
    (!value.is_empty()).then(|| value.to_string())
}

fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    AttributeValue::Bool(_) => 1,
                    _ => 0,
                }
        })
        .sum()
}

impl Stored {
    fn email(&self) -> Option<String> {
        primary_value(&self.account.attributes, "emails")
    }

    fn phone(&self) -> Option<String> {
        primary_value(&self.account.attributes, "phoneNumbers")
    }
}

impl Store {
    /// The attributes every item of the account carries.
    fn common_item(&self, tenant: Tenant<'_>, stored: &Stored) -> Item {
        let a = &stored.account;
        let mut item = Item::new();
        item.insert("accountId".into(), s(&a.id));
        item.insert("userName".into(), s(&a.user_name));
        item.insert("active".into(), AttributeValue::Bool(a.active));
        if let Some(e) = stored.email() {
            item.insert("email".into(), s(e));
        }
        if let Some(p) = stored.phone() {
            item.insert("phone".into(), s(p));
        }
        if let Some(p) = stored.password.as_deref().filter(|p| !p.is_empty()) {
            item.insert("password".into(), s(p));
        }
        if let Some(c) = &stored.credential_attributes {
            item.insert("credentialAttributes".into(), s(c));
        }
        let blob: Map<String, Value> = a
            .attributes
            .iter()
            .filter(|(k, _)| !NOT_IN_BLOB.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !blob.is_empty() {
            item.insert("attributes".into(), s(Value::Object(blob).to_string()));
        }
        item.insert("created".into(), n(a.created));
        item.insert("updated".into(), n(a.updated));
        item.insert("version".into(), n(a.version));
        if let Some(t) = tenant.id() {
            item.insert("tenantId".into(), s(t));
        }
        item
    }

    fn main_item(&self, tenant: Tenant<'_>, common: &Item, stored: &Stored) -> Item {
        let a = &stored.account;
        let mut item = common.clone();
        item.insert(
            "pk".into(),
            s(keys::account_key(tenant, keys::ACCOUNT_ID, &a.id)),
        );
        item.insert(
            "userNameInitial".into(),
            s(keys::initials(tenant, keys::USER_NAME, &a.user_name)),
        );
        if let Some(e) = stored.email() {
            item.insert(
                "emailInitial".into(),
                s(keys::initials(tenant, keys::EMAIL, &e)),
            );
        }
        item
    }

    /// The unique keys an account read from the table has now: from the
    /// top-level attributes every item carries (as the plugin finds them),
    /// not recomputed from the blob.
    fn written_keys(&self, tenant: Tenant<'_>, old: &Stored) -> Vec<(&'static str, String)> {
        let mut out = vec![(
            keys::USER_NAME,
            keys::account_key(tenant, keys::USER_NAME, &old.account.user_name),
        )];
        if let Some(e) = &old.written.email {
            out.push((keys::EMAIL, keys::account_key(tenant, keys::EMAIL, e)));
        }
        if self.settings().unique_phone_numbers
            && let Some(p) = &old.written.phone
        {
            out.push((keys::PHONE, keys::account_key(tenant, keys::PHONE, p)));
        }
        out
    }

    /// The unique keys an account's items get when written: (kind, key).
    fn unique_keys(&self, tenant: Tenant<'_>, stored: &Stored) -> Vec<(&'static str, String)> {
        let mut out = vec![(
            keys::USER_NAME,
            keys::account_key(tenant, keys::USER_NAME, &stored.account.user_name),
        )];
        if let Some(e) = stored.email() {
            out.push((keys::EMAIL, keys::account_key(tenant, keys::EMAIL, &e)));
        }
        if self.settings().unique_phone_numbers
            && let Some(p) = stored.phone()
        {
            out.push((keys::PHONE, keys::account_key(tenant, keys::PHONE, &p)));
        }
        out
    }

    fn validate(&self, tenant: Tenant<'_>, stored: &Stored) -> Result<(), StoreError> {
        let a = &stored.account;
        if a.user_name.is_empty() {
            return Err(StoreError::invalid(
                "account.user_name",
                "must not be empty",
            ));
        }
        if a.user_name.len() > MAX_RANGE_KEY_BYTES {
            return Err(StoreError::invalid(
                "account.user_name",
                format!("longer than {MAX_RANGE_KEY_BYTES} bytes"),
            ));
        }
        if let Some(e) = stored.email()
            && e.len() > MAX_RANGE_KEY_BYTES
        {
            return Err(StoreError::invalid(
                "account.attributes.emails",
                format!("the primary email is longer than {MAX_RANGE_KEY_BYTES} bytes"),
            ));
        }
        if let Some(p) = stored.phone()
            && p.len() > MAX_RANGE_KEY_BYTES
        {
            return Err(StoreError::invalid(
                "account.attributes.phoneNumbers",
                format!("the primary phone number is longer than {MAX_RANGE_KEY_BYTES} bytes"),
            ));
        }
        if let Some(tz) = a.attributes.get("timezone")
            && !tz.as_str().is_some_and(is_zone_id)
        {
            return Err(StoreError::invalid(
                "account.attributes.timezone",
                "must be a time-zone id such as Europe/Stockholm or +01:00 (Curity reads it \
                 with Java's ZoneId, and cannot read the account otherwise)",
            ));
        }
        let common = self.common_item(tenant, stored);
        let size = item_size(&self.main_item(tenant, &common, stored));
        if size > MAX_ITEM_BYTES {
            return Err(StoreError::invalid(
                "account.attributes",
                format!(
                    "the account would take {size} bytes; DynamoDB items hold at most {MAX_ITEM_BYTES}"
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn account_from_item(&self, mut item: Item) -> Result<Stored, StoreError> {
        let table = &self.tables().accounts;
        let get_n = |item: &Item, name: &str| super::codec::get_n(item, table, name);
        let created = get_n(&item, "created").unwrap_or(0);
        let updated = get_n(&item, "updated").unwrap_or(created);
        let version = get_n(&item, "version").unwrap_or(0);
        let id = super::codec::get_s(&mut item, table, "accountId")?;
        let user_name = super::codec::get_s(&mut item, table, "userName")?;
        let active = match item.get("active") {
            Some(AttributeValue::Bool(b)) => *b,
            _ => false,
        };
        let mut attributes = match item.remove("attributes") {
            Some(AttributeValue::S(json)) => match serde_json::from_str::<Value>(&json) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(StoreError::MalformedItem {
                        table: table.clone(),
                        reason: "attribute attributes is not a JSON object".into(),
                    });
                }
            },
            _ => Map::new(),
        };
        for k in NOT_IN_BLOB {
            attributes.remove(k);
        }
        let password = match item.remove("password") {
            Some(AttributeValue::S(p)) => Some(p),
            _ => None,
        };
        let credential_attributes = match item.remove("credentialAttributes") {
            Some(AttributeValue::S(c)) => Some(c),
            _ => None,
        };
        let top_level = |name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) if !v.is_empty() => Some(v.clone()),
            _ => None,
        };
        let written = Written {
            email: top_level("email"),
            phone: top_level("phone"),
        };
        // Unknown top-level string attributes come back as attributes, as
        // the plugin does it.
        for (k, v) in item {
            if NOT_COPIED_ON_READ.contains(&k.as_str()) || attributes.contains_key(&k) {
                continue;
            }
            if let AttributeValue::S(v) = v {
                attributes.insert(k, Value::String(v));
            }
        }
        Ok(Stored {
            account: Account {
                id,
                user_name,
                active,
                attributes,
                created,
                updated,
                version,
            },
            password,
            credential_attributes,
            written,
        })
    }

    /// Consistent read of one account item by its `pk`.
    pub(crate) async fn read_account(&self, pk: &str) -> Result<Option<Stored>, StoreError> {
        let item = self
            .get_consistent(&self.tables().accounts, "pk", pk)
            .await?;
        item.map(|i| self.account_from_item(i)).transpose()
    }

    pub async fn get_account_by_id(
        &self,
        tenant: Tenant<'_>,
        id: &str,
    ) -> Result<Option<Account>, StoreError> {
        self.get_account_by(tenant, keys::ACCOUNT_ID, "id", id)
            .await
    }

    pub async fn get_account_by_user_name(
        &self,
        tenant: Tenant<'_>,
        user_name: &str,
    ) -> Result<Option<Account>, StoreError> {
        self.get_account_by(tenant, keys::USER_NAME, "user_name", user_name)
            .await
    }

    pub async fn get_account_by_email(
        &self,
        tenant: Tenant<'_>,
        email: &str,
    ) -> Result<Option<Account>, StoreError> {
        self.get_account_by(tenant, keys::EMAIL, "email", email)
            .await
    }

    /// Always `None` when phone numbers are not unique (no `pn#` items).
    pub async fn get_account_by_phone(
        &self,
        tenant: Tenant<'_>,
        phone: &str,
    ) -> Result<Option<Account>, StoreError> {
        if !self.settings().unique_phone_numbers {
            return Ok(None);
        }
        self.get_account_by(tenant, keys::PHONE, "phone", phone)
            .await
    }

    async fn get_account_by(
        &self,
        tenant: Tenant<'_>,
        kind: &str,
        field: &'static str,
        value: &str,
    ) -> Result<Option<Account>, StoreError> {
        super::codec::check_key(field, value)?;
        let pk = keys::account_key(tenant, kind, value);
        Ok(self.read_account(&pk).await?.map(|s| s.account))
    }

    /// Writes main, user-name, email and phone items in one transaction,
    /// each only if its key is free.
    pub async fn create_account(
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
            },
            password: password.filter(|p| !p.is_empty()),
            credential_attributes: None,
            written: Written::default(),
        };
        self.validate(tenant, &stored)?;
        let common = self.common_item(tenant, &stored);
        let mut actions = vec![(
            self.put_new(self.main_item(tenant, &common, &stored))?,
            Guard::NewKey("account.id"),
        )];
        for (kind, key) in self.unique_keys(tenant, &stored) {
            let mut item = common.clone();
            item.insert("pk".into(), s(key));
            actions.push((self.put_new(item)?, Guard::NewKey(conflict_field(kind))));
        }
        // Only `attribute_not_exists` guards here, so a failed guard is a
        // uniqueness conflict (reported by `transact`); what is left is a
        // clash with a concurrent transaction on the same keys: try again.
        for _ in 0..WRITE_ATTEMPTS {
            match self.transact(actions.clone()).await? {
                TxOutcome::Done => return Ok(stored.account),
                TxOutcome::VersionMoved => continue,
            }
        }
        Err(StoreError::VersionConflict {
            what: "account",
            attempts: WRITE_ATTEMPTS,
        })
    }

    /// Read-modify-write of one account with up to three attempts: each
    /// re-reads `pk`, applies `change`, and rewrites every item under the
    /// version read. Returns `None` when the account is missing.
    pub(crate) async fn modify_account(
        &self,
        tenant: Tenant<'_>,
        pk: &str,
        change: &Change<'_>,
    ) -> Result<Option<Account>, StoreError> {
        for _ in 0..WRITE_ATTEMPTS {
            let Some(old) = self.read_account(pk).await? else {
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

    fn update_actions(
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
                item.insert("pk".into(), s(key));
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

    /// Deletes every item of the account under the version read, retrying
    /// when it moves. `false` when there is no such account.
    pub async fn delete_account(&self, tenant: Tenant<'_>, id: &str) -> Result<bool, StoreError> {
        super::codec::check_key("id", id)?;
        let pk = keys::account_key(tenant, keys::ACCOUNT_ID, id);
        for _ in 0..WRITE_ATTEMPTS {
            let Some(old) = self.read_account(&pk).await? else {
                return Ok(false);
            };
            let mut actions = vec![(self.delete_versioned(&pk, &old)?, Guard::Version)];
            for (_, key) in self.written_keys(tenant, &old) {
                actions.push((self.delete_versioned(&key, &old)?, Guard::Version));
            }
            match self.transact(actions).await? {
                TxOutcome::Done => return Ok(true),
                TxOutcome::VersionMoved => continue,
            }
        }
        Err(StoreError::VersionConflict {
            what: "account",
            attempts: WRITE_ATTEMPTS,
        })
    }

    pub async fn update_account(
        &self,
        tenant: Tenant<'_>,
        id: &str,
        new: NewAccount,
    ) -> Result<Option<Account>, StoreError> {
        super::codec::check_key("id", id)?;
        let pk = keys::account_key(tenant, keys::ACCOUNT_ID, id);
        self.modify_account(tenant, &pk, &|s: &mut Stored| {
            s.account.user_name = new.user_name.clone();
            s.account.active = new.active;
            s.account.attributes = new.attributes.clone();
            Ok(())
        })
        .await
    }

    pub async fn patch_account(
        &self,
        tenant: Tenant<'_>,
        id: &str,
        patch: &AccountPatch,
    ) -> Result<Option<Account>, StoreError> {
        super::codec::check_key("id", id)?;
        let pk = keys::account_key(tenant, keys::ACCOUNT_ID, id);
        self.modify_account(tenant, &pk, &|s: &mut Stored| {
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

    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let put = Put::builder()
            .table_name(&self.tables().accounts)
            .set_item(Some(item))
            .condition_expression(e.cond(&Cond::NotExists("pk")))
            .set_expression_attribute_names(e.names())
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn put_versioned(&self, item: Item, old: &Stored) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let put = Put::builder()
            .table_name(&self.tables().accounts)
            .set_item(Some(item))
            .condition_expression(e.cond(&unchanged_since(old)))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete_versioned(&self, pk: &str, old: &Stored) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let delete = Delete::builder()
            .table_name(&self.tables().accounts)
            .key("pk", s(pk))
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
    async fn transact(
        &self,
        actions: Vec<(TransactWriteItem, Guard)>,
    ) -> Result<TxOutcome, StoreError> {
        let table = &self.tables().accounts;
        let guards: Vec<Guard> = actions.iter().map(|(_, g)| *g).collect();
        let client = self.client().await?;
        let result = client
            .transact_write_items()
            .set_transact_items(Some(actions.into_iter().map(|(a, _)| a).collect()))
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
                return Err(classify(
                    &err,
                    self.at("dynamodb:TransactWriteItems", table),
                ));
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
        if !failed.is_empty()
            || reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Ok(TxOutcome::VersionMoved);
        }
        Err(classify(
            &err,
            self.at("dynamodb:TransactWriteItems", table),
        ))
    }
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

fn conflict_field(kind: &str) -> &'static str {
    match kind {
        keys::USER_NAME => "account.user_name",
        keys::EMAIL => "account.attributes.emails",
        keys::PHONE => "account.attributes.phoneNumbers",
        _ => "account.id",
    }
}

/// What Java's `ZoneId.of` accepts: an IANA region id, `Z`, or an offset
/// (`+01`, `-05:30`, `+0130`), alone or after `UTC`, `GMT` or `UT`, and
/// those three alone.
fn is_zone_id(v: &str) -> bool {
    if v.parse::<chrono_tz::Tz>().is_ok() || v == "Z" {
        return true;
    }
    let offset = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|p| v.strip_prefix(p))
        .unwrap_or(v);
    if offset.is_empty() {
        return !v.is_empty();
    }
    let Some(rest) = offset.strip_prefix(['+', '-']) else {
        return false;
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    let well_formed = match rest.len() {
        1 | 2 | 4 => !rest.contains(':'),
        5 => rest.as_bytes()[2] == b':',
        _ => false,
    };
    if !well_formed || !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (h, m) = digits.split_at(digits.len().min(2));
    let h: u32 = h.parse().unwrap_or(99);
    let m: u32 = if m.is_empty() {
        0
    } else {
        m.parse().unwrap_or(99)
    };
    h <= 18 && m < 60 && (h < 18 || m == 0)
}

/// The guard of every versioned write: the item still belongs to the
/// account and nobody wrote it since `old` was read.
fn unchanged_since(old: &Stored) -> Cond {
    Cond::eq("version", n(old.account.version)).and(Cond::eq("accountId", s(&old.account.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_are_what_java_zone_id_reads() {
        for ok in [
            "Europe/Stockholm",
            "UTC",
            "GMT",
            "Z",
            "+01:00",
            "-05:30",
            "UTC+2",
            "GMT-0130",
            "+18",
        ] {
            assert!(is_zone_id(ok), "{ok}");
        }
        for bad in [
            "",
            "Mars/Olympus",
            "CEST+",
            "+19",
            "+01:60",
            "1:00",
            "Europe/Stockholm ",
        ] {
            assert!(!is_zone_id(bad), "{bad}");
        }
    }
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("object expected"),
        }
    }

    #[test]
    fn primary_value_prefers_primary_then_first_and_ignores_empty() {
        let a = map(json!({"emails": [{"value": "a@x"}, {"value": "b@x", "primary": true}]}));
        assert_eq!(primary_value(&a, "emails").as_deref(), Some("b@x"));
        let a = map(json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]}));
        assert_eq!(primary_value(&a, "emails").as_deref(), Some("a@x"));
        let a = map(json!({"emails": [{"value": ""}, {"value": "b@x"}]}));
        assert_eq!(primary_value(&a, "emails"), None);
        assert_eq!(primary_value(&Map::new(), "emails"), None);
    }
}
