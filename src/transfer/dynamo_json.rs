//! DynamoDB's own JSON form of an item (`{"id":{"S":"a"},"n":{"N":"1"}}`),
//! as `aws dynamodb scan` prints it and DynamoDB's S3 export writes it: a
//! file `export` writes can be read by AWS's tools, and theirs by `import`.

use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use crate::store::codec::Item;

/// The item as one JSON object, attributes in name order.
pub fn to_json(item: &Item) -> Result<Value, String> {
    let mut out = Map::new();
    for (name, value) in item {
        out.insert(name.clone(), value_to_json(value)?);
    }
    Ok(Value::Object(out))
}

fn value_to_json(v: &AttributeValue) -> Result<Value, String> {
    let b64 = |b: &Blob| STANDARD.encode(b.as_ref());
    Ok(match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(s) => json!({ "SS": s }),
        AttributeValue::Ns(n) => json!({ "NS": n }),
        AttributeValue::Bs(b) => json!({ "BS": b.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(l) => {
            json!({ "L": l.iter().map(value_to_json).collect::<Result<Vec<_>, _>>()? })
        }
        AttributeValue::M(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), value_to_json(v)?);
            }
            json!({ "M": out })
        }
        other => {
            return Err(format!(
                "an attribute type this version does not know: {other:?}"
            ));
        }
    })
}

/// The item of one JSON object; `Err` says what is wrong and where.
pub fn from_json(v: &Value) -> Result<Item, String> {
    let obj = v.as_object().ok_or("an item must be a JSON object")?;
    obj.iter()
        .map(|(name, value)| {
            value_from_json(value)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("attribute {name:?}: {e}"))
        })
        .collect()
}

fn value_from_json(v: &Value) -> Result<AttributeValue, String> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or("expected one type tag, e.g. {\"S\": \"text\"} or {\"N\": \"1\"}")?;
    let (tag, inner) = obj.iter().next().ok_or("no type tag")?;
    let text = || {
        inner
            .as_str()
            .map(str::to_string)
            .ok_or(format!("{tag} wants a string"))
    };
    let texts = || {
        inner
            .as_array()
            .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
            .ok_or(format!("{tag} wants an array of strings"))
    };
    let blob = |s: &str| {
        STANDARD
            .decode(s)
            .map(Blob::new)
            .map_err(|_| format!("{tag} wants base64"))
    };
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(text()?),
        "B" => AttributeValue::B(blob(&text()?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL wants true or false")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts()?),
        "NS" => AttributeValue::Ns(texts()?),
        "BS" => AttributeValue::Bs(texts()?.iter().map(|s| blob(s)).collect::<Result<_, _>>()?),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or("L wants an array")?
                .iter()
                .map(value_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(from_json(inner)?),
        other => return Err(format!("unknown type tag {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_type_survives_the_round_trip() {
        let mut nested = Item::new();
        nested.insert("flag".into(), AttributeValue::Bool(false));
        nested.insert("none".into(), AttributeValue::Null(true));
        let item: Item = [
            ("s", AttributeValue::S("tëxt \"quoted\"".into())),
            ("n", AttributeValue::N("12345678901234567890.5".into())),
            ("b", AttributeValue::B(Blob::new(vec![0, 255, 10]))),
            ("ss", AttributeValue::Ss(vec!["a".into(), "b".into()])),
            ("ns", AttributeValue::Ns(vec!["1".into(), "-2.5".into()])),
            (
                "bs",
                AttributeValue::Bs(vec![Blob::new(vec![1]), Blob::new(vec![2, 3])]),
            ),
            (
                "l",
                AttributeValue::L(vec![
                    AttributeValue::S("x".into()),
                    AttributeValue::M(nested.clone()),
                ]),
            ),
            ("m", AttributeValue::M(nested)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let json = to_json(&item).expect("to json");
        assert_eq!(
            json["n"],
            json!({"N": "12345678901234567890.5"}),
            "numbers stay text"
        );
        assert_eq!(json["b"], json!({"B": "AP8K"}));
        let line = serde_json::to_string(&json).expect("line");
        let back = from_json(&serde_json::from_str(&line).expect("parse")).expect("from json");
        assert_eq!(back, item);
    }

    #[test]
    fn a_malformed_item_names_the_attribute_and_the_problem() {
        for (text, says) in [
            (r#"[1]"#, "JSON object"),
            (
                r#"{"id": "plain"}"#,
                "attribute \"id\": expected one type tag",
            ),
            (r#"{"id": {"S": "a", "N": "1"}}"#, "expected one type tag"),
            (r#"{"n": {"N": 1}}"#, "N wants a string"),
            (r#"{"b": {"B": "***"}}"#, "B wants base64"),
            (r#"{"x": {"Q": "1"}}"#, "unknown type tag \"Q\""),
            (
                r#"{"m": {"M": {"in": {"SS": [1]}}}}"#,
                "attribute \"in\": SS wants an array",
            ),
        ] {
            let err = from_json(&serde_json::from_str(text).expect("json")).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
