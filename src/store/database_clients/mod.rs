//! `curity-database-clients` and `curity-database-service-providers`: one
//! design, two [`Variant`]s. Per profile, a main item (`<id_key>` = the
//! id) holding everything, plus one item per tag (`<id_key>` =
//! `compose(id, tag)`, `tag_key` = `compose(profile, tag)`) holding the
//! same listing attributes. Every write changes all of them in one
//! versioned transaction (3 attempts, each re-reading the main item), with
//! a per-tag diff. Listing: `list.rs`.

pub mod keys;
mod list;
mod variant;

use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde_json::{Map, Value};

pub use list::{Filter, Page};
pub use variant::{CLIENTS, Fields, SERVICE_PROVIDERS, Variant};

use self::keys::compose;
use super::{
    StoreError,
    codec::{self, Item, n, now_epoch, s},
    expr::Cond,
    table::{OnConflict, Table},
};

/// Attempts of a versioned write before `VersionConflict` (as the plugin).
const WRITE_ATTEMPTS: usize = 3;
/// `TransactWriteItems` holds at most 100 actions: the main item and one
/// per tag, old and new.
pub const MAX_ACTIONS: usize = 100;
/// DynamoDB's limit on the items of one transaction.
const MAX_TRANSACTION_BYTES: usize = 4_000_000;

/// A database client or service provider: the listing attributes, the
/// configuration (JSON object text, every other attribute) and the
/// configuration references the main item carries for operators (written,
/// never read back, as the plugin).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    pub id: String,
    /// Empty: none.
    pub name: String,
    pub status: String,
    pub tags: Vec<String>,
    pub attributes: String,
    pub created: i64,
    pub last_modified: i64,
    pub version: i64,
    /// JSON object text: each entry (a string or a list of strings) becomes
    /// a top-level attribute of the main item.
    pub configuration_references: String,
}

/// The handle of one of the two tables.
#[derive(Debug, Clone)]
pub struct Catalog<'s> {
    pub(crate) table: Table<'s>,
    pub(crate) v: &'static Variant,
}

impl<'s> std::ops::Deref for Catalog<'s> {
    type Target = Table<'s>;

    fn deref(&self) -> &Self::Target {
        &self.table
    }
}

/// Keys the attributes blob may not hold (the plugin excludes them from
/// it, and lifts the blob over the columns on read).
const BLOB_RESERVED: &[&str] = &["profile_id", "attributes", "tags", "meta", "schemas"];

/// Attribute names the layout uses itself: configuration references may
/// not take them.
const RESERVED: &[&str] = &[
    "profile_id",
    "tag_key",
    "tags",
    "created",
    "lastModified",
    "attributes",
    "version",
];

impl Catalog<'_> {
    fn check(
        &self,
        profile: &str,
        e: &mut Entry,
    ) -> Result<Option<Map<String, Value>>, StoreError> {
        if profile.is_empty() {
            return Err(StoreError::invalid("profile_id", "must not be empty"));
        }
        if e.id.is_empty() {
            return Err(StoreError::invalid(self.v.fields.id, "must not be empty"));
        }
        // The main item's key is the raw id: an id with `#` could be
        // another entry's tag item (`x#y` is tag `y` of `x`).
        if e.id.contains('#') {
            return Err(StoreError::invalid(
                self.v.fields.id,
                "must not contain '#'",
            ));
        }
        if !self.v.statuses.contains(&e.status.as_str()) {
            return Err(StoreError::invalid(
                self.v.fields.status,
                format!("one of {}", self.v.statuses.join(", ")),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for tag in &e.tags {
            if tag.is_empty() {
                return Err(StoreError::invalid(
                    self.v.fields.tags,
                    "a tag must not be empty",
                ));
            }
            if !seen.insert(tag.as_str()) {
                return Err(StoreError::invalid(
                    self.v.fields.tags,
                    format!("'{tag}' appears twice"),
                ));
            }
        }
        if e.tags.len() + 1 > MAX_ACTIONS {
            return Err(StoreError::invalid(
                self.v.fields.tags,
                format!("at most {} tags (one transaction)", MAX_ACTIONS - 1),
            ));
        }
        let blob = codec::object_text(self.v.fields.attributes, &mut e.attributes)?;
        // The plugin lifts the blob over the stored columns on read: these
        // would make it read another entry than the one stored.
        let own = [self.v.id, self.v.status, "name", self.v.name];
        if let Some(k) = blob
            .keys()
            .find(|k| BLOB_RESERVED.contains(&k.as_str()) || own.contains(&k.as_str()))
        {
            return Err(StoreError::invalid(
                self.v.fields.attributes,
                format!("'{k}' is a field of its own, not part of the attributes"),
            ));
        }
        if e.configuration_references.trim().is_empty() {
            return Ok(None);
        }
        let refs = codec::json_object(&e.configuration_references).ok_or_else(|| {
            StoreError::invalid(self.v.fields.references, "must be a JSON object")
        })?;
        for (k, v) in &refs {
            let layout = RESERVED.contains(&k.as_str())
                || [
                    self.v.id_key,
                    self.v.id,
                    self.v.name,
                    self.v.name_key,
                    self.v.status,
                ]
                .contains(&k.as_str());
            if k.is_empty() || layout {
                return Err(StoreError::invalid(
                    self.v.fields.references,
                    format!("'{k}' is an attribute of the layout"),
                ));
            }
            let ok = match v {
                Value::String(s) => !s.is_empty(),
                Value::Array(items) => items.iter().all(Value::is_string),
                _ => false,
            };
            if !ok {
                return Err(StoreError::invalid(
                    self.v.fields.references,
                    format!("'{k}' must be a non-empty string or a list of strings"),
                ));
            }
        }
        Ok(Some(refs))
    }

    /// The attributes every item of the entry carries.
    fn common(&self, profile: &str, e: &Entry) -> Item {
        let mut item = Item::from([
            ("profile_id".to_string(), s(profile)),
            (self.v.id.to_string(), s(&e.id)),
            ("attributes".to_string(), s(&e.attributes)),
            ("created".to_string(), n(e.created)),
            ("lastModified".to_string(), n(e.last_modified)),
            (self.v.status.to_string(), s(&e.status)),
            ("tags".to_string(), codec::string_list(&e.tags)),
            ("version".to_string(), n(e.version)),
        ]);
        if !e.name.is_empty() {
            item.insert(self.v.name.to_string(), s(&e.name));
        }
        item
    }

    fn main_item(&self, profile: &str, e: &Entry, refs: &Option<Map<String, Value>>) -> Item {
        let mut item = self.common(profile, e);
        item.insert(self.v.id_key.to_string(), s(&e.id));
        item.insert(self.v.name_key.to_string(), s(compose(profile, &e.name)));
        if e.tags.is_empty() {
            item.insert("tag_key".to_string(), s(compose(profile, "")));
        }
        for (k, v) in refs.iter().flatten() {
            let value = match v {
                Value::String(text) => s(text.as_str()),
                Value::Array(items) => {
                    AttributeValue::L(items.iter().filter_map(Value::as_str).map(s).collect())
                }
                _ => continue,
            };
            item.insert(k.clone(), value);
        }
        item
    }

    fn tag_item(&self, profile: &str, e: &Entry, tag: &str) -> Item {
        let mut item = self.common(profile, e);
        item.insert(self.v.id_key.to_string(), s(compose(&e.id, tag)));
        item.insert("tag_key".to_string(), s(compose(profile, tag)));
        item
    }

    /// DynamoDB takes at most 4 MB in one transaction: the main item and
    /// `tag_items` copies of the attributes.
    fn check_transaction_size(
        &self,
        profile: &str,
        e: &Entry,
        refs: &Option<Map<String, Value>>,
        tag_items: usize,
    ) -> Result<(), StoreError> {
        let main = codec::item_size(&self.main_item(profile, e, refs));
        let tag = e
            .tags
            .first()
            .map_or(0, |t| codec::item_size(&self.tag_item(profile, e, t)));
        if main + tag_items * tag > MAX_TRANSACTION_BYTES {
            return Err(StoreError::invalid(
                self.v.fields.attributes,
                "with one copy per tag, larger than DynamoDB's 4 MB per transaction",
            ));
        }
        Ok(())
    }

    fn key_of(&self, profile: &str, id_key: &str) -> Item {
        self.key2(profile, id_key)
    }

    /// A main item's id key is the plain id; a tag item's is composed.
    pub(crate) fn is_main(&self, item: &Item) -> bool {
        matches!(
            (item.get(self.v.id_key), item.get(self.v.id)),
            (Some(k), Some(id)) if k == id
        )
    }

    /// The entry an item holds (main or tag item, from the table or an
    /// index: `version` may be absent from an index).
    pub(crate) fn entry(&self, item: &Item) -> Result<Entry, StoreError> {
        let malformed = |what: &str| StoreError::MalformedItem {
            table: self.name().to_string(),
            reason: format!("{what}: missing or not a string"),
        };
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let num = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let tags = match item.get("tags") {
            Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
            Some(AttributeValue::Ss(l)) => l.clone(),
            _ => Vec::new(),
        };
        Ok(Entry {
            id: text(self.v.id).ok_or_else(|| malformed(self.v.id))?,
            name: text(self.v.name).unwrap_or_default(),
            status: text(self.v.status).ok_or_else(|| malformed(self.v.status))?,
            tags,
            attributes: text("attributes").ok_or_else(|| malformed("attributes"))?,
            created: num("created"),
            last_modified: num("lastModified"),
            version: num("version"),
            configuration_references: String::new(),
        })
    }

    /// Through the cache (the hot read).
    pub async fn get(&self, profile: &str, id: &str) -> Result<Option<Entry>, StoreError> {
        self.fetch(profile, id, true).await
    }

    /// As stored now: what a read-modify-write starts from.
    async fn get_fresh(&self, profile: &str, id: &str) -> Result<Option<Entry>, StoreError> {
        self.fetch(profile, id, false).await
    }

    async fn fetch(
        &self,
        profile: &str,
        id: &str,
        cached: bool,
    ) -> Result<Option<Entry>, StoreError> {
        codec::check_keys(&[("profile_id", profile), ("id", id)])?;
        let key = self.key_of(profile, id);
        // `x#y` is also the key of tag `y` of `x`: only a main item (id key
        // = id) is the entry asked for.
        let main = |item: Item| -> Result<Option<Entry>, StoreError> {
            if self.is_main(&item) {
                self.entry(&item).map(Some)
            } else {
                Ok(None)
            }
        };
        if cached {
            return Ok(self
                .table
                .get_cached(key, main)
                .await?
                .and_then(Arc::unwrap_or_clone));
        }
        match self.table.get(key).await? {
            Some(item) => main(item),
            None => Ok(None),
        }
    }

    fn put(&self, item: Item, condition: &Cond) -> Result<TransactWriteItem, StoreError> {
        codec::check_item_size(self.v.fields.entity, &item)?;
        self.tx_put(item, Some(condition))
    }

    /// The main item and one item per tag, each only where its key is free.
    pub async fn create(&self, profile: &str, mut e: Entry) -> Result<Entry, StoreError> {
        let refs = self.check(profile, &mut e)?;
        let now = now_epoch();
        e.created = now;
        e.last_modified = now;
        e.version = 0;
        let free = Cond::NotExists(self.v.id_key);
        let unique = OnConflict::Unique(self.v.fields.id);
        self.check_transaction_size(profile, &e, &refs, e.tags.len())?;
        let mut actions = vec![(self.put(self.main_item(profile, &e, &refs), &free)?, unique)];
        for tag in &e.tags {
            actions.push((self.put(self.tag_item(profile, &e, tag), &free)?, unique));
        }
        self.transact(actions, self.v.what).await?;
        Ok(e)
    }

    /// Read, change, write under the version read: every item rewritten,
    /// tag items added and removed by the difference of the tag sets (a
    /// tag kept is rewritten in place). `NotFound` when missing.
    pub async fn update(&self, profile: &str, mut e: Entry) -> Result<Entry, StoreError> {
        let refs = self.check(profile, &mut e)?;
        for _ in 0..WRITE_ATTEMPTS {
            let Some(old) = self.get_fresh(profile, &e.id).await? else {
                return Err(StoreError::NotFound { what: self.v.what });
            };
            let touched: std::collections::HashSet<&str> =
                old.tags.iter().chain(&e.tags).map(String::as_str).collect();
            if touched.len() + 1 > MAX_ACTIONS {
                return Err(StoreError::invalid(
                    self.v.fields.tags,
                    "old and new tags together exceed one transaction (99)",
                ));
            }
            let mut new = e.clone();
            new.created = old.created;
            new.last_modified = now_epoch();
            new.version = old.version + 1;
            self.check_transaction_size(profile, &new, &refs, touched.len())?;
            let unchanged = |id_key: &str| {
                Cond::eq("version", n(old.version)).and(Cond::eq(self.v.id_key, s(id_key)))
            };
            let free = Cond::NotExists("profile_id");
            let mut actions = vec![(
                self.put(self.main_item(profile, &new, &refs), &unchanged(&new.id))?,
                OnConflict::Moved,
            )];
            for tag in &old.tags {
                let key = compose(&new.id, tag);
                if new.tags.contains(tag) {
                    actions.push((
                        self.put(self.tag_item(profile, &new, tag), &unchanged(&key))?,
                        OnConflict::Moved,
                    ));
                } else {
                    actions.push((
                        self.tx_delete(self.key_of(profile, &key), Some(&unchanged(&key)))?,
                        OnConflict::Moved,
                    ));
                }
            }
            for tag in new.tags.iter().filter(|t| !old.tags.contains(t)) {
                actions.push((
                    self.put(self.tag_item(profile, &new, tag), &free)?,
                    OnConflict::Unique(self.v.fields.tags),
                ));
            }
            match self.transact(actions, self.v.what).await {
                Ok(()) => return Ok(new),
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::VersionConflict {
            what: self.v.what,
            attempts: WRITE_ATTEMPTS,
        })
    }

    /// Every item of the entry under the version read; `false` when there
    /// was none.
    pub async fn delete(&self, profile: &str, id: &str) -> Result<bool, StoreError> {
        for _ in 0..WRITE_ATTEMPTS {
            let Some(old) = self.get_fresh(profile, id).await? else {
                return Ok(false);
            };
            let unchanged = |id_key: &str| {
                Cond::eq("version", n(old.version)).and(Cond::eq(self.v.id_key, s(id_key)))
            };
            let mut actions = vec![(
                self.tx_delete(self.key_of(profile, &old.id), Some(&unchanged(&old.id)))?,
                OnConflict::Moved,
            )];
            for tag in &old.tags {
                let key = compose(&old.id, tag);
                actions.push((
                    self.tx_delete(self.key_of(profile, &key), Some(&unchanged(&key)))?,
                    OnConflict::Moved,
                ));
            }
            match self.transact(actions, self.v.what).await {
                Ok(()) => return Ok(true),
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::VersionConflict {
            what: self.v.what,
            attempts: WRITE_ATTEMPTS,
        })
    }
}
