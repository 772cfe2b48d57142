//! Curity's `url-path` templates (`json_ds.*_path`): a path below the context whose segments
//! may hold placeholders (`/users/:subject`, `/c/:tenantId/:subject`,
//! `/`), optionally followed by a query whose values may be placeholders
//! (`/verify?pwd=:password`). Curity substitutes them with Java's form
//! encoding; requests are matched on the raw path, so a subject holding
//! an encoded `/` stays inside its segment.

use std::collections::HashMap;

/// A request the template matched, but whose placeholders cannot be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BadValue(pub String);

/// Decoded query parameters of a request.
pub type Query = HashMap<String, String>;

/// A raw path segment as Java's `URLEncoder` wrote it: `+` a space, `%XX`
/// a byte, UTF-8 underneath.
pub fn decode_segment(raw: &str) -> Result<String, BadValue> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| BadValue("a path segment is not UTF-8".into()))
}

/// A placeholder Curity substitutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Var {
    Subject,
    Password,
    TenantId,
    Purpose,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        match name {
            "subject" => Some(Var::Subject),
            "password" => Some(Var::Password),
            "tenantId" => Some(Var::TenantId),
            "purpose" => Some(Var::Purpose),
            _ => None,
        }
    }
}

/// One segment of a template: literal text, possibly around a placeholder
/// (`:subject`, `user-:subject.json`).
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Var {
        prefix: String,
        var: Var,
        suffix: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    segments: Vec<Segment>,
    /// `(query parameter, placeholder)` pairs of the template's query.
    query: Vec<(String, Var)>,
}

/// The placeholders a request filled in, decoded.
pub type Vars = HashMap<Var, String>;

impl Template {
    /// Parses `raw`; `allowed` are the placeholders this operation knows.
    /// A template without any placeholder gets `implicit` appended as
    /// segments (the paths of earlier versions: `/attributes` meant
    /// `/attributes/:subject`).
    pub fn parse(raw: &str, allowed: &[Var], implicit: &[Var]) -> Result<Template, String> {
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        if !path.starts_with('/') {
            return Err(format!("{raw:?} does not start with /"));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '#' | '%'))
        {
            return Err(format!("{raw:?} holds a character a path cannot"));
        }
        let mut segments = Vec::new();
        for seg in path.split('/').skip(1).filter(|s| !s.is_empty()) {
            segments.push(segment(seg, allowed)?);
        }
        let mut vars = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("query part {pair:?} is not name=:placeholder"))?;
            let var = value
                .strip_prefix(':')
                .and_then(Var::parse)
                .filter(|v| allowed.contains(v))
                .ok_or_else(|| format!("query value {value:?} is not a known placeholder"))?;
            vars.push((name.to_string(), var));
        }
        let mut t = Template {
            segments,
            query: vars,
        };
        if t.placeholders().is_empty() {
            for var in implicit {
                t.segments.push(Segment::Var {
                    prefix: String::new(),
                    var: *var,
                    suffix: String::new(),
                });
            }
        }
        Ok(t)
    }

    /// The template with the segments holding `var` dropped (the
    /// `parameter` form of an attributes path: `/attributes/:subject`
    /// without the subject is `/attributes`).
    pub fn without(&self, var: Var) -> Template {
        Template {
            segments: self
                .segments
                .iter()
                .filter(|s| !matches!(s, Segment::Var { var: v, .. } if *v == var))
                .cloned()
                .collect(),
            query: self
                .query
                .iter()
                .filter(|(_, v)| *v != var)
                .cloned()
                .collect(),
        }
    }

    /// Every placeholder of the template.
    pub fn placeholders(&self) -> Vec<Var> {
        let mut out: Vec<Var> = self
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Var { var, .. } => Some(*var),
                Segment::Literal(_) => None,
            })
            .collect();
        out.extend(self.query.iter().map(|(_, v)| *v));
        out
    }

    /// The placeholders of `path` (raw, below the context) and `query` (the
    /// request's decoded query parameters), when the path matches.
    pub fn matches(&self, path: &str, query: &Query) -> Option<Result<Vars, BadValue>> {
        let given: Vec<&str> = path.split('/').skip(1).filter(|s| !s.is_empty()).collect();
        if given.len() != self.segments.len() || (path.len() > 1 && path.ends_with('/')) {
            return None;
        }
        let mut vars = Vars::new();
        for (template, raw) in self.segments.iter().zip(given) {
            match template {
                Segment::Literal(text) => {
                    if text != raw {
                        return None;
                    }
                }
                Segment::Var {
                    prefix,
                    var,
                    suffix,
                } => {
                    let inner = raw
                        .strip_prefix(prefix.as_str())?
                        .strip_suffix(suffix.as_str())?;
                    if inner.is_empty() {
                        return None;
                    }
                    let value = match decode_segment(inner) {
                        Ok(v) => v,
                        Err(e) => return Some(Err(e)),
                    };
                    if let Some(previous) = vars.insert(*var, value.clone())
                        && previous != value
                    {
                        return Some(Err(BadValue(
                            "a placeholder given twice with two values".into(),
                        )));
                    }
                }
            }
        }
        for (name, var) in &self.query {
            if let Some(value) = query.get(name) {
                vars.insert(*var, value.clone());
            }
        }
        Some(Ok(vars))
    }
}

fn segment(seg: &str, allowed: &[Var]) -> Result<Segment, String> {
    let Some(at) = seg.find(':') else {
        return Ok(Segment::Literal(seg.to_string()));
    };
    let (prefix, rest) = seg.split_at(at);
    let name_len = rest[1..]
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len() - 1);
    let name = &rest[1..1 + name_len];
    let suffix = &rest[1 + name_len..];
    if suffix.contains(':') {
        return Err(format!("segment {seg:?} holds two placeholders"));
    }
    let var = Var::parse(name)
        .filter(|v| allowed.contains(v))
        .ok_or_else(|| {
            let names: Vec<String> = allowed
                .iter()
                .map(|v| format!(":{}", name_of(*v)))
                .collect();
            format!(
                ":{name} is not a placeholder here (use {})",
                names.join(", ")
            )
        })?;
    Ok(Segment::Var {
        prefix: prefix.to_string(),
        var,
        suffix: suffix.to_string(),
    })
}

fn name_of(v: Var) -> &'static str {
    match v {
        Var::Subject => "subject",
        Var::Password => "password",
        Var::TenantId => "tenantId",
        Var::Purpose => "purpose",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Var; 4] = [Var::Subject, Var::Password, Var::TenantId, Var::Purpose];

    fn vars(t: &Template, path: &str, query: &str) -> Option<Vars> {
        let q: Query = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        t.matches(path, &q).map(|r| r.unwrap())
    }

    #[test]
    fn placeholders_may_be_in_any_segment_and_decode_as_java_encodes() {
        let t = Template::parse("/c/:tenantId/users/:subject", &ALL, &[]).unwrap();
        let v = vars(&t, "/c/acme/users/j+doe%2F1", "").unwrap();
        assert_eq!(v[&Var::TenantId], "acme");
        assert_eq!(v[&Var::Subject], "j doe/1");
        assert_eq!(vars(&t, "/c/acme/user/jane", ""), None);
        assert_eq!(vars(&t, "/c/acme/users", ""), None);
    }

    #[test]
    fn the_root_path_matches_only_the_root() {
        let t = Template::parse("/", &ALL, &[]).unwrap();
        assert_eq!(vars(&t, "/", ""), Some(Vars::new()));
        assert_eq!(vars(&t, "", ""), Some(Vars::new()));
        assert_eq!(vars(&t, "/x", ""), None);
    }

    #[test]
    fn text_around_a_placeholder_and_query_placeholders() {
        let t = Template::parse("/u/user-:subject.json?pwd=:password", &ALL, &[]).unwrap();
        let v = vars(&t, "/u/user-jane.json", "pwd=s3cret").unwrap();
        assert_eq!(v[&Var::Subject], "jane");
        assert_eq!(v[&Var::Password], "s3cret");
        assert_eq!(vars(&t, "/u/jane.json", ""), None);
    }

    #[test]
    fn a_template_without_placeholders_gets_the_implicit_ones() {
        let t = Template::parse("/buckets", &ALL, &[Var::Subject, Var::Purpose]).unwrap();
        let v = vars(&t, "/buckets/jane/otp", "").unwrap();
        assert_eq!(v[&Var::Purpose], "otp");
        let fixed = Template::parse("/credentials", &ALL, &[]).unwrap();
        assert_eq!(vars(&fixed, "/credentials", ""), Some(Vars::new()));
    }

    #[test]
    fn unknown_or_misplaced_placeholders_are_refused_naming_the_allowed_ones() {
        let e = Template::parse("/users/:who", &[Var::Subject], &[]).unwrap_err();
        assert!(e.contains(":subject"), "{e}");
        assert!(Template::parse("/users/:password", &[Var::Subject], &[]).is_err());
        assert!(Template::parse("users", &ALL, &[]).is_err());
        assert!(Template::parse("/a/:subject:purpose", &ALL, &[]).is_err());
    }
}
