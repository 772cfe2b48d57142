//! Opaque pagination cursors: which query of a plan to resume and the
//! DynamoDB key to resume after, bound to the request that made them and
//! checksummed, so an edited, truncated or foreign cursor is refused with
//! `INVALID_ARGUMENT` instead of silently paging something else.
//!
//! The checksum is not a secret-keyed MAC: a forged cursor can only move
//! the start position inside the same key condition and tenant filter, so
//! it cannot reach data the request could not reach anyway.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{StoreError, codec::Item};

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Index of the query in the plan.
    pub query: usize,
    /// Resume after this key; `None` starts the query from its beginning.
    pub after: Option<Item>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u8,
    q: usize,
    k: Option<Vec<KeyPart>>,
}

/// Same shape as the plugin's cursor entries (`name`, `type`, `value`).
#[derive(Serialize, Deserialize)]
struct KeyPart {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    value: String,
}

const TAG_LEN: usize = 12;

fn tag(payload: &[u8], binding: &str) -> [u8; TAG_LEN] {
    let mut h = Sha256::new();
    h.update(b"curity-dynamodb cursor v1\0");
    h.update(binding.as_bytes());
    h.update([0]);
    h.update(payload);
    let digest = h.finalize();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&digest[..TAG_LEN]);
    out
}

/// `binding` identifies the request (operation, tenant, filter): a cursor
/// only resumes the listing it came from.
pub fn encode(cursor: &Cursor, binding: &str) -> String {
    let k = cursor.after.as_ref().map(|item| {
        let mut parts: Vec<KeyPart> = item
            .iter()
            .filter_map(|(name, v)| {
                let (ty, value) = match v {
                    AttributeValue::S(s) => ("s", s.clone()),
                    AttributeValue::N(n) => ("n", n.clone()),
                    _ => return None,
                };
                Some(KeyPart {
                    name: name.clone(),
                    ty: ty.into(),
                    value,
                })
            })
            .collect();
        parts.sort_by(|a, b| a.name.cmp(&b.name));
        parts
    });
    let wire = Wire {
        v: 1,
        q: cursor.query,
        k,
    };
    // Serialising plain strings and numbers cannot fail.
    let mut payload = serde_json::to_vec(&wire).unwrap_or_default();
    let t = tag(&payload, binding);
    payload.extend_from_slice(&t);
    URL_SAFE_NO_PAD.encode(payload)
}

pub fn decode(text: &str, binding: &str) -> Result<Cursor, StoreError> {
    let bad = |why: &str| StoreError::invalid("page.cursor", why.to_string());
    let raw = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| bad("not a cursor this service issued"))?;
    if raw.len() <= TAG_LEN {
        return Err(bad("not a cursor this service issued"));
    }
    let (payload, t) = raw.split_at(raw.len() - TAG_LEN);
    if tag(payload, binding) != t {
        return Err(bad(
            "altered, or issued for a different request (tenant, filter)",
        ));
    }
    let wire: Wire =
        serde_json::from_slice(payload).map_err(|_| bad("not a cursor this service issued"))?;
    if wire.v != 1 {
        return Err(bad("unsupported cursor version"));
    }
    let after = wire
        .k
        .map(|parts| {
            parts
                .into_iter()
                .map(|p| {
                    let v = match p.ty.as_str() {
                        "s" => AttributeValue::S(p.value),
                        "n" => AttributeValue::N(p.value),
                        _ => return Err(bad("unsupported key type")),
                    };
                    Ok((p.name, v))
                })
                .collect::<Result<Item, StoreError>>()
        })
        .transpose()?;
    Ok(Cursor {
        query: wire.q,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor {
            query: 1,
            after: Some(Item::from([
                ("pk".to_string(), AttributeValue::S("un#jane".into())),
                ("created".to_string(), AttributeValue::N("17".into())),
            ])),
        }
    }

    #[test]
    fn round_trips() {
        let text = encode(&sample(), "accounts|t|filter");
        assert_eq!(decode(&text, "accounts|t|filter").unwrap(), sample());
        let start = Cursor {
            query: 2,
            after: None,
        };
        assert_eq!(decode(&encode(&start, "b"), "b").unwrap(), start);
    }

    #[test]
    fn refuses_tampering_garbage_and_other_requests() {
        let text = encode(&sample(), "accounts|t|filter");
        assert!(decode(&text, "accounts|other-tenant|filter").is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        bytes[5] ^= 1;
        assert!(decode(&URL_SAFE_NO_PAD.encode(bytes), "accounts|t|filter").is_err());
        for junk in ["", "!!!", "abc", "eyJ2IjoxfQ"] {
            let err = decode(junk, "x").unwrap_err();
            assert!(matches!(
                err,
                StoreError::InvalidArgument {
                    field: "page.cursor",
                    ..
                }
            ));
        }
    }
}
