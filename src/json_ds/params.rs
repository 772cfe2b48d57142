//! Reading what Curity sends: a flat JSON object of strings, a form body,
//! or a query string; subjects in path segments form-encoded by Java's
//! `URLEncoder` (`+` is a space, `%2F` a slash inside the segment);
//! subjects in headers as base64 of their UTF-8 bytes.

use std::collections::HashMap;

use base64::Engine;

/// Why a request cannot be read: answered `400` with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

pub type Params = HashMap<String, String>;

/// `a=1&b=x+y` (form body or query string): `+` and `%XX` decoded. A
/// name given twice is refused (which one Curity meant is unclear).
pub fn form(text: &[u8]) -> Result<Params, BadRequest> {
    let mut out = Params::new();
    for (k, v) in form_urlencoded::parse(text) {
        if out.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(BadRequest(format!("parameter {k} given twice")));
        }
    }
    Ok(out)
}

/// A JSON object whose members are strings (Curity sends every value as a
/// string); `null` members are absent.
pub fn json(body: &[u8]) -> Result<Params, BadRequest> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| BadRequest("the body is not JSON".into()))?;
    let serde_json::Value::Object(map) = value else {
        return Err(BadRequest("the body is not a JSON object".into()));
    };
    let mut out = Params::new();
    for (k, v) in map {
        match v {
            serde_json::Value::String(s) => {
                out.insert(k, s);
            }
            serde_json::Value::Null => {}
            _ => return Err(BadRequest(format!("parameter {k} is not a string"))),
        }
    }
    Ok(out)
}

/// One path segment as Java's `URLEncoder` wrote it: `+` is a space, then
/// `%XX` escapes. Invalid UTF-8 is refused.
pub fn segment(raw: &str) -> Result<String, BadRequest> {
    crate::config::url_path::decode_segment(raw).map_err(|e| BadRequest(e.0))
}

/// A header value carrying base64 (standard, padded) of UTF-8 text.
pub fn base64_header(value: &[u8]) -> Result<String, BadRequest> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| BadRequest("a subject header is not base64".into()))?;
    String::from_utf8(bytes).map_err(|_| BadRequest("a subject header is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_decode_as_java_form_encoding() {
        assert_eq!(segment("alice%40example.com").unwrap(), "alice@example.com");
        assert_eq!(segment("bj%C3%B6rn+%C3%B6l").unwrap(), "björn öl");
        assert_eq!(segment("a%2Fb%2Bc").unwrap(), "a/b+c");
        assert!(segment("%FF").is_err());
    }

    #[test]
    fn form_bodies_and_queries_decode_plus_and_escapes_and_refuse_repeats() {
        let p = form(b"username=j+doe&tenantId=acme%2F1").unwrap();
        assert_eq!(p["username"], "j doe");
        assert_eq!(p["tenantId"], "acme/1");
        assert!(form(b"username=a&username=b").is_err());
    }

    #[test]
    fn json_bodies_take_string_members_and_refuse_others() {
        let p = json(br#"{"username":"alice","tenantId":null}"#).unwrap();
        assert_eq!(p.get("username").map(String::as_str), Some("alice"));
        assert!(!p.contains_key("tenantId"));
        assert!(json(br#"{"username":1}"#).is_err());
        assert!(json(b"[1]").is_err());
        assert!(json(b"not json").is_err());
    }

    #[test]
    fn header_subjects_are_base64_of_utf8() {
        assert_eq!(base64_header(b"ZG9l").unwrap(), "doe");
        assert_eq!(base64_header(b"YmrDtnJuIMO2bA==").unwrap(), "björn öl");
        assert!(base64_header(b"***").is_err());
    }
}
