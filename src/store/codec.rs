//! Items and their layout types: `decode` / `encode` between an item and a
//! serde struct (serde_dynamo), with errors that name the table and
//! attribute when an item does not have the layout's shape; serde helpers
//! for what serde_dynamo cannot express alone (epoch numbers written by
//! other tools, JSON object text); and the few single-value readers the
//! multi-item layouts (accounts) still use.

use std::{
    collections::HashMap,
    time::{SystemTime, UNIX_EPOCH},
};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Serialize, de::DeserializeOwned};

use super::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A list of strings as the plugin writes them: L of S (not a string set).
pub fn string_list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().map(|v| s(v.as_str())).collect())
}

pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An item as its layout type `T`.
pub fn decode<T: DeserializeOwned>(table: &str, item: Item) -> Result<T, StoreError> {
    let de = serde_dynamo::Deserializer::from_attribute_value(AttributeValue::M(item).into());
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let reason = if path == "." {
            e.inner().to_string()
        } else {
            format!("attribute {path}: {}", e.inner())
        };
        StoreError::MalformedItem {
            table: table.to_string(),
            reason,
        }
    })
}

/// A layout type as an item.
pub fn encode<T: Serialize>(table: &str, value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Internal {
        what: "encoding an item",
        table: table.to_string(),
        message: e.to_string(),
    })
}

/// Seconds since the epoch, now (0 if the clock is before 1970).
pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Epoch seconds (`N`) for `#[serde(with = "codec::epoch")]`: read also when
/// another tool wrote them with a fraction or exponent (`1.7e9`).
pub mod epoch {
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(Epoch)
    }

    /// `Option<i64>` with `#[serde(default, with = "codec::epoch::option")]`.
    pub mod option {
        use serde::{Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_some(v),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }

    struct Epoch;

    impl de::Visitor<'_> for Epoch {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number (N) of epoch seconds")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            Ok(i64::try_from(v).unwrap_or(i64::MAX))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // Saturating, as `as` is for floats.
            Ok(v as i64)
        }
    }
}

/// A JSON object stored as `S` text (`tokenData`, bucket `attributes`,
/// account `attributes`): the plugin's layout, which serde_dynamo alone would
/// write as `M`. Text that is not a JSON object is malformed.
pub mod json_text {
    use serde::{Deserialize, Deserializer, Serializer, de};
    use serde_json::{Map, Value};

    pub fn serialize<S: Serializer>(v: &Map<String, Value>, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
        let text = String::deserialize(d)?;
        super::json_object(&text).ok_or_else(|| de::Error::custom("is not a JSON object"))
    }
}

/// JSON text as an object map; `None` when it is not a JSON object.
/// `{}`: what an absent JSON map is stored as.
pub fn empty_object() -> String {
    "{}".into()
}

/// JSON object text a caller sent for `field`, kept as given (numbers and
/// key order exactly); empty becomes `{}`. Anything but an object is
/// `INVALID_ARGUMENT` naming `field`. Returns the parsed object.
pub fn object_text(
    field: &'static str,
    text: &mut String,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    if text.trim().is_empty() {
        *text = empty_object();
        return Ok(serde_json::Map::new());
    }
    json_object(text).ok_or_else(|| StoreError::invalid(field, "must be a JSON object"))
}

/// An item DynamoDB would refuse for its size is the caller's: `field`.
pub fn check_item_size(field: &'static str, item: &Item) -> Result<(), StoreError> {
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(StoreError::invalid(
            field,
            "larger than DynamoDB's 400 KB item limit",
        ));
    }
    Ok(())
}

pub fn json_object(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// Removes the string attribute `name` from `item` (it is moved out, not
/// cloned).
pub fn take_s(item: &mut Item, table: &str, name: &str) -> Result<String, StoreError> {
    match item.remove(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        other => Err(malformed(table, name, "S", other.as_ref())),
    }
}

/// Reads the number attribute `name` (left in place).
pub fn get_n(item: &Item, table: &str, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse::<i64>().or_else(|_| {
            // Numbers written by other tools may carry a fraction ("1.7e9").
            v.parse::<f64>()
                .map(|f| f as i64)
                .map_err(|_| malformed(table, name, "N", item.get(name)))
        }),
        other => Err(malformed(table, name, "N", other)),
    }
}

fn malformed(table: &str, name: &str, want: &str, got: Option<&AttributeValue>) -> StoreError {
    let got = match got {
        None => "absent".to_string(),
        Some(v) => format!("{v:?}")
            .split('(')
            .next()
            .unwrap_or("?")
            .to_string(),
    };
    StoreError::MalformedItem {
        table: table.to_string(),
        reason: format!("attribute {name} should be {want}, is {got}"),
    }
}

/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// An item's size as DynamoDB counts it, near enough for a limit check:
/// names plus string and number text (lists and maps count their strings).
pub fn item_size(item: &Item) -> usize {
    fn value_size(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => l.iter().map(value_size).sum(),
            AttributeValue::M(m) => item_size(m),
            AttributeValue::Ss(l) | AttributeValue::Ns(l) => l.iter().map(String::len).sum(),
            AttributeValue::B(b) => b.as_ref().len(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// `deletableAt`: an expiry plus a retain duration, saturating (a retain of
/// years never overflows).
pub fn plus_retain(at: i64, retain_seconds: u64) -> i64 {
    at.saturating_add(i64::try_from(retain_seconds).unwrap_or(i64::MAX))
}

/// DynamoDB limits partition keys to 2048 bytes and refuses empty strings.
pub fn check_key(field: &'static str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if value.len() > 2048 {
        return Err(StoreError::invalid(field, "longer than 2048 bytes"));
    }
    Ok(())
}

/// `check_key` on each (field, value) pair, first failure first.
pub fn check_keys(pairs: &[(&'static str, &str)]) -> Result<(), StoreError> {
    pairs
        .iter()
        .try_for_each(|(field, value)| check_key(field, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_retain_adds_the_retain_duration_and_saturates() {
        assert_eq!(plus_retain(1_000, 86_400), 87_400);
        assert_eq!(plus_retain(i64::MAX - 1, 10), i64::MAX);
        assert_eq!(plus_retain(5, u64::MAX), i64::MAX);
    }
}
