//! The extra top-level attributes a delegation carries for operators'
//! own indexes and filters: for each configured dot path (`a.b.c`) into
//! the `claims` map (or `customClaimValues`), the value found there as
//! `claims_a_b_c` (`customClaimValues_a_b_c`), typed natively. Written at
//! create only; nothing reads them back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

use super::Delegation;
use crate::{config::DelegationsConfig, store::codec::Item};

pub(super) fn add_attributes(item: &mut Item, d: &Delegation, config: &DelegationsConfig) {
    for (prefix, text, paths) in [
        ("claims", &d.claims, &config.attributes_from_claims),
        (
            "customClaimValues",
            &d.custom_claim_values,
            &config.attributes_from_custom_claim_values,
        ),
    ] {
        if paths.is_empty() {
            continue;
        }
        let Ok(map) = serde_json::from_str::<Map<String, Value>>(text) else {
            continue;
        };
        for path in paths {
            // A null at the path is not stored (only nulls inside lists
            // and maps are).
            if let Some(value) = lookup(&map, path).and_then(native)
                && !matches!(value, AttributeValue::Null(_))
            {
                item.insert(attribute_name(prefix, path), value);
            }
        }
    }
}

/// `claims` + `a.b.c` → `claims_a_b_c`.
pub(super) fn attribute_name(prefix: &str, path: &str) -> String {
    let mut name = String::from(prefix);
    for segment in path.split('.') {
        name.push('_');
        name.push_str(segment);
    }
    name
}

/// The value at a dot path; `None` for a missing, empty or non-map step.
pub(super) fn lookup<'m>(map: &'m Map<String, Value>, path: &str) -> Option<&'m Value> {
    if path.is_empty() {
        return None;
    }
    let mut segments = path.split('.');
    let mut current = map.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

/// JSON → DynamoDB, natively: S, N, BOOL, NULL, L, M.
pub(super) fn native(value: &Value) -> Option<AttributeValue> {
    Some(match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().filter_map(native).collect()),
        Value::Object(entries) => AttributeValue::M(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), native(v)?)))
                .collect::<HashMap<_, _>>(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_dot_path_finds_nested_values_and_nothing_on_missing_empty_or_non_map_steps() {
        let claims = json!({"a": {"b": {"c": 1}}, "s": "x", "list": [1]});
        let map = claims.as_object().unwrap();
        assert_eq!(lookup(map, "a.b.c"), Some(&json!(1)));
        assert_eq!(lookup(map, "a.b"), Some(&json!({"c": 1})));
        for missing in ["", "a.x", "s.t", "list.0", "a..b", "nope"] {
            assert_eq!(lookup(map, missing), None, "{missing}");
        }
        assert_eq!(attribute_name("claims", "a.b.c"), "claims_a_b_c");
    }

    #[test]
    fn values_are_typed_natively_with_nulls_only_inside_lists_and_maps() {
        let v = json!({"n": 1.5, "b": true, "l": ["x", null, {"k": 2}]});
        let AttributeValue::M(m) = native(&v).unwrap() else {
            panic!("a map")
        };
        assert_eq!(m["n"], AttributeValue::N("1.5".into()));
        assert_eq!(m["b"], AttributeValue::Bool(true));
        let AttributeValue::L(l) = &m["l"] else {
            panic!("a list")
        };
        assert_eq!(l[1], AttributeValue::Null(true));

        let d = Delegation {
            id: "d".into(),
            status: "issued".into(),
            owner: "o".into(),
            created: 1,
            expires: 2,
            client_id: "c".into(),
            redirect_uri: None,
            authorization_code_hash: None,
            scope: String::new(),
            authentication_attributes: "{}".into(),
            consent_result: None,
            claim_map: "{}".into(),
            custom_claim_values: r#"{"org":{"unit":"x"}}"#.into(),
            claims: r#"{"a":null,"b":{"c":[1,null]}}"#.into(),
            mtls_client_certificate: None,
            mtls_client_certificate_x5t_s256: None,
            mtls_client_certificate_dn: None,
        };
        let config = DelegationsConfig {
            attributes_from_claims: vec!["a".into(), "b.c".into(), "missing".into()],
            attributes_from_custom_claim_values: vec!["org.unit".into()],
        };
        let mut item = Item::new();
        add_attributes(&mut item, &d, &config);
        assert!(
            !item.contains_key("claims_a"),
            "a top-level null is not stored"
        );
        assert_eq!(
            item["claims_b_c"],
            AttributeValue::L(vec![
                AttributeValue::N("1".into()),
                AttributeValue::Null(true)
            ])
        );
        assert_eq!(
            item["customClaimValues_org_unit"],
            AttributeValue::S("x".into())
        );
        assert_eq!(item.len(), 2);
    }
}
