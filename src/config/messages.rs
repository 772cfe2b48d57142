//! Configuration errors in the user's words: the environment variable as
//! they wrote it when one set the key, the nearest known key for a typo,
//! the fix for a host name where an address belongs; one line each.

use super::{ENV_PREFIX, EnvLookup};

pub(super) fn describe_figment_error(e: figment::Error) -> String {
    let key = e.path.join(".");
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    let source = e
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .map(|s| format!(" (from {s})"))
        .unwrap_or_default();
    let kind = match &e.kind {
        figment::error::Kind::UnknownField(found, expected) => {
            let what = if from_env { "variable" } else { "key" };
            match nearest(found, expected) {
                Some(near) if from_env => {
                    let mut path = e.path.clone();
                    path.pop();
                    path.push(near.to_owned());
                    let written = format!("{ENV_PREFIX}{}", e.path.join("__"));
                    let tail = env_var_name(&e.path)
                        .get(written.len()..)
                        .unwrap_or_default()
                        .to_owned();
                    format!(
                        "unknown {what}; did you mean {}{tail}?",
                        format!("{ENV_PREFIX}{}", path.join("__")).to_ascii_uppercase()
                    )
                }
                Some(near) => format!("unknown {what}; did you mean `{near}`?"),
                None => format!("unknown {what}; known here: {}", expected.join(", ")),
            }
        }
        figment::error::Kind::UnknownVariant(found, expected) => {
            format!("{found:?} is not one of {}", expected.join(", "))
        }
        // Render only the kind: figment's own Display repeats key and
        // source. TOML parse errors come with a multi-line source excerpt;
        // keep the message lines so the error stays on one line.
        kind => kind
            .to_string()
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty() && !l.contains('|'))
            .collect::<Vec<_>>()
            .join(": "),
    };
    let kind = if key.ends_with("listen") && kind.contains("socket address") {
        format!(
            "{kind}: use an IP address and port, e.g. 127.0.0.1:50051 (host names are not resolved)"
        )
    } else {
        kind
    };
    match (key.is_empty(), from_env) {
        (true, _) => format!("{kind}{source}"),
        (false, true) => format!("{} ({key}): {kind}", env_var_name(&e.path)),
        (false, false) => format!("{key}: {kind}{source}"),
    }
}

/// `aws.region: ...` becomes `CURITY_DYNAMODB_AWS__REGION (aws.region): ...`
/// when that variable is what set the key, so the user finds what to fix.
pub(super) fn name_variable(problem: String, env: EnvLookup<'_>) -> String {
    let Some((key, rest)) = problem.split_once(':') else {
        return problem;
    };
    if key.contains(' ') || !key.contains('.') {
        return problem;
    }
    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
    let name = format!("{ENV_PREFIX}{}", path.join("__")).to_ascii_uppercase();
    match env(&name) {
        Some(_) => format!("{name} ({key}):{rest}"),
        None => problem,
    }
}

/// Variables read by the command line, not by the configuration.
pub(super) const COMMAND_LINE_VARIABLES: &[&str] = &["config", "addr", "token_file"];

/// The environment variable that sets a key (or a key below it), spelled
/// as the process has it (`CURITY_DYNAMODB_SERVER__LISTEN` for
/// `server.listen`).
fn env_var_name(path: &[String]) -> String {
    let upper = format!("{ENV_PREFIX}{}", path.join("__")).to_ascii_uppercase();
    let below = format!("{upper}__");
    std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .find(|name| {
            let name = name.to_ascii_uppercase();
            name == upper || name.starts_with(&below)
        })
        .unwrap_or(upper)
}

/// The known name closest to a misspelt one, when one is close.
fn nearest<'a>(found: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(found, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}
