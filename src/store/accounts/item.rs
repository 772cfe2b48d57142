//! The account item: the attributes every item of an account carries, the
//! main item's extras (initials), the unique keys, validation against
//! DynamoDB's limits, and reading an item back. Hand-written rather than a
//! serde type: the layout reads leniently (a non-BOOL `active` is false, a
//! non-string `password` absent), copies unknown top-level string
//! attributes into the account's attributes (as the plugin does), and keeps
//! the `attributes` JSON blob apart from the keys it must never hold.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

use super::{Account, Accounts, PK, Stored, Written};
use crate::store::{
    StoreError,
    codec::{self, Item, MAX_ITEM_BYTES, item_size, n, s},
    keys::{self, Tenant},
};

/// GSI range keys (`userName`, `email`) are limited to 1024 bytes.
const MAX_RANGE_KEY_BYTES: usize = 1024;

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
    PK,
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

impl Stored {
    pub(super) fn email(&self) -> Option<String> {
        primary_value(&self.account.attributes, "emails")
    }

    pub(super) fn phone(&self) -> Option<String> {
        primary_value(&self.account.attributes, "phoneNumbers")
    }
}

impl Accounts<'_> {
    /// The attributes every item of the account carries.
    pub(super) fn common_item(&self, tenant: Tenant<'_>, stored: &Stored) -> Item {
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

    pub(super) fn main_item(&self, tenant: Tenant<'_>, common: &Item, stored: &Stored) -> Item {
        let a = &stored.account;
        let mut item = common.clone();
        item.insert(
            PK.into(),
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
    pub(super) fn written_keys(
        &self,
        tenant: Tenant<'_>,
        old: &Stored,
    ) -> Vec<(&'static str, String)> {
        let w = &old.written;
        self.keys_of(
            tenant,
            &old.account.user_name,
            w.email.as_deref(),
            w.phone.as_deref(),
        )
    }

    /// The unique keys an account's items get when written: (kind, key).
    pub(super) fn unique_keys(
        &self,
        tenant: Tenant<'_>,
        stored: &Stored,
    ) -> Vec<(&'static str, String)> {
        let (email, phone) = (stored.email(), stored.phone());
        self.keys_of(
            tenant,
            &stored.account.user_name,
            email.as_deref(),
            phone.as_deref(),
        )
    }

    /// (kind, key) of a user name, email and phone number; the phone's only
    /// where phone numbers are unique.
    fn keys_of(
        &self,
        tenant: Tenant<'_>,
        user_name: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let phone = phone.filter(|_| self.0.settings().unique_phone_numbers);
        [
            (keys::USER_NAME, Some(user_name)),
            (keys::EMAIL, email),
            (keys::PHONE, phone),
        ]
        .into_iter()
        .filter_map(|(kind, value)| Some((kind, keys::account_key(tenant, kind, value?))))
        .collect()
    }

    pub(super) fn validate(&self, tenant: Tenant<'_>, stored: &Stored) -> Result<(), StoreError> {
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

    pub(crate) fn stored_from_item(&self, mut item: Item) -> Result<Stored, StoreError> {
        let table = self.name();
        let get_n = |item: &Item, name: &str| codec::get_n(item, table, name);
        let created = get_n(&item, "created").unwrap_or(0);
        let updated = get_n(&item, "updated").unwrap_or(created);
        let version = get_n(&item, "version").unwrap_or(0);
        let id = codec::take_s(&mut item, table, "accountId")?;
        let user_name = codec::take_s(&mut item, table, "userName")?;
        let active = match item.get("active") {
            Some(AttributeValue::Bool(b)) => *b,
            _ => false,
        };
        let mut attributes = match item.remove("attributes") {
            Some(AttributeValue::S(json)) => match serde_json::from_str::<Value>(&json) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(StoreError::MalformedItem {
                        table: table.to_string(),
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
                rendered: Default::default(),
            },
            password,
            credential_attributes,
            written,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn zone_ids_are_what_java_zone_id_reads() {
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

    pub(super) fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("object expected"),
        }
    }

    #[test]
    pub(super) fn primary_value_prefers_primary_then_first_and_ignores_empty() {
        let a = map(json!({"emails": [{"value": "a@x"}, {"value": "b@x", "primary": true}]}));
        assert_eq!(primary_value(&a, "emails").as_deref(), Some("b@x"));
        let a = map(json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]}));
        assert_eq!(primary_value(&a, "emails").as_deref(), Some("a@x"));
        let a = map(json!({"emails": [{"value": ""}, {"value": "b@x"}]}));
        assert_eq!(primary_value(&a, "emails"), None);
        assert_eq!(primary_value(&Map::new(), "emails"), None);
    }
}
