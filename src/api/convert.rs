//! protobuf `Struct` <-> JSON objects. Attributes travel as `Struct` and are
//! stored as JSON strings, as the plugin stores them.

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

/// The request's tenant, validated.
pub fn tenant(t: &Option<crate::proto::Tenant>) -> Result<Tenant<'_>, StoreError> {
    Tenant::parse(t.as_ref().map(|t| t.id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
