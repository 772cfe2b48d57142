//! protobuf `Struct` <-> JSON objects. Attributes travel as `Struct` and,
//! beside it, as JSON text (`*_json` fields): a `Struct` number is a
//! double, so 64-bit integers and the integer/double distinction survive
//! only in the text. They are stored as JSON strings, as the plugin stores
//! them.

use prost_types::{ListValue, Struct, Value as PValue, value::Kind};
use serde_json::{Map, Number, Value};

use crate::store::{StoreError, keys::Tenant};

pub fn struct_to_json(s: Option<Struct>) -> Map<String, Value> {
    s.map(|s| {
        s.fields
            .into_iter()
            .map(|(k, v)| (k, value_to_json(v)))
            .collect()
    })
    .unwrap_or_default()
}

fn value_to_json(v: PValue) -> Value {
    match v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(b),
        // Whole numbers stay integers in the stored JSON (`1`, not `1.0`).
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            Value::Number(Number::from(n as i64))
        }
        Some(Kind::NumberValue(n)) => Number::from_f64(n).map_or(Value::Null, Value::Number),
        Some(Kind::StringValue(s)) => Value::String(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.into_iter().map(value_to_json).collect()),
        Some(Kind::StructValue(s)) => Value::Object(struct_to_json(Some(s))),
    }
}

pub fn json_to_struct(m: Map<String, Value>) -> Struct {
    Struct {
        fields: m.into_iter().map(|(k, v)| (k, json_to_value(v))).collect(),
    }
}

fn json_to_value(v: Value) -> PValue {
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Kind::StringValue(s),
        Value::Array(a) => Kind::ListValue(ListValue {
            values: a.into_iter().map(json_to_value).collect(),
        }),
        Value::Object(o) => Kind::StructValue(json_to_struct(o)),
    };
    PValue { kind: Some(kind) }
}

/// The JSON object a request carries, either as `Struct` or as JSON text
/// in the field `json_field` (not both); `None` when neither is given.
pub fn object_in(
    json_field: &'static str,
    json: &str,
    s: Option<Struct>,
) -> Result<Option<Map<String, Value>>, StoreError> {
    if json.is_empty() {
        return Ok(s.map(|s| struct_to_json(Some(s))));
    }
    if s.is_some_and(|s| !s.fields.is_empty()) {
        return Err(StoreError::invalid(
            json_field,
            "give the Struct or its JSON text, not both",
        ));
    }
    match serde_json::from_str(json) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        _ => Err(StoreError::invalid(json_field, "must be a JSON object")),
    }
}

/// A JSON object as the response's `Struct` and JSON text.
pub fn object_out(m: Map<String, Value>) -> (Option<Struct>, String) {
    // A map of JSON values always serialises.
    let json = serde_json::to_string(&m).unwrap_or_default();
    (Some(json_to_struct(m)), json)
}

/// The request's tenant, validated.
pub fn tenant(t: &Option<crate::proto::Tenant>) -> Result<Tenant<'_>, StoreError> {
    Tenant::parse(t.as_ref().map(|t| t.id.as_str()))
}

/// `$to { f: $from.f, .., $extra }` for the fields `[f ..]` a proto message
/// and a stored type share by name; each type names its list once in a
/// `<type>_fields!` macro that both directions use.
macro_rules! same_fields {
    ([$($f:ident)*] $from:ident => $($to:ident)::+ { $($extra:tt)* }) => {
        $($to)::+ { $($f: $from.$f,)* $($extra)* }
    };
}
pub(crate) use same_fields;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_text_keeps_64_bit_integers_and_doubles_exactly() {
        let text =
            r#"{"big":12345678901234567,"n":{"x":[1.5,3]},"neg":-9007199254740993,"two":2.0}"#;
        let m = object_in("a_json", text, None).unwrap().unwrap();
        let (s, back) = object_out(m);
        assert_eq!(back, text);
        assert!(s.is_some());
        assert!(object_in("a_json", "[1]", None).is_err());
        assert!(object_in("a_json", "{", None).is_err());
        let both = object_in(
            "a_json",
            "{}",
            Some(json_to_struct(
                json!({"a": 1}).as_object().cloned().unwrap_or_default(),
            )),
        );
        assert!(both.is_err());
        assert_eq!(object_in("a_json", "", None).unwrap(), None);
    }

    #[test]
    fn json_round_trips_and_whole_numbers_stay_integers() {
        let j = json!({"a": 1, "b": 1.5, "c": [true, null, "x"], "d": {"e": "f"}});
        let Value::Object(m) = j.clone() else {
            panic!()
        };
        let back = struct_to_json(Some(json_to_struct(m)));
        assert_eq!(Value::Object(back), j);
    }
}
