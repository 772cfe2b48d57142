//! Reading typed values out of DynamoDB items, with errors that name the
//! table and attribute when an item does not have the layout's shape.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn get_s(item: &mut Item, table: &str, name: &str) -> Result<String, StoreError> {
    match item.remove(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        other => Err(malformed(table, name, "S", other.as_ref())),
    }
}

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

/// A request builder refused its input (a required field missing): a bug
/// in how we build requests, reported rather than panicking.
pub fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Aws {
        action: "build request".into(),
        table: String::new(),
        code: "BuildError".into(),
        message: e.to_string(),
    }
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
