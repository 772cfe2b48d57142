//! The IRSA checks: the webhook's env, the projected token file, and the
//! token's claims against what the role's trust policy expects.

use std::{path::Path, time::SystemTime};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::config::{Config, EnvLookup};

use super::{Expectations, RESTART_FIX, Report, Status};

pub(super) fn check_web_identity(
    config: &Config,
    expect: &Expectations,
    env: EnvLookup<'_>,
    report: &mut Report,
) {
    let w = &config.aws.web_identity;
    let role = w.role_arn.clone().or_else(|| env("AWS_ROLE_ARN"));
    let token_file = w
        .token_file
        .clone()
        .or_else(|| env("AWS_WEB_IDENTITY_TOKEN_FILE").map(Into::into));
    let (Some(role), Some(token_file)) = (role, token_file) else {
        report.fail(
            "webhook env",
            "AWS_ROLE_ARN and/or AWS_WEB_IDENTITY_TOKEN_FILE are not set",
            RESTART_FIX,
        );
        return;
    };
    report.ok(
        "webhook env",
        format!("AWS_ROLE_ARN={role}, token file {}", token_file.display()),
    );
    let token = match std::fs::read_to_string(&token_file) {
        Ok(t) => t,
        Err(e) => {
            let (detail, fix) = token_file_problem(&token_file, &e);
            report.fail("token file", detail, fix);
            return;
        }
    };
    report.ok(
        "token file",
        format!("{} is readable", token_file.display()),
    );
    for (status, name, detail, fix) in check_claims(&token, expect, SystemTime::now()) {
        report.push(name, status, detail, fix);
    }
}

/// What an unreadable token file means, and its fix.
pub fn token_file_problem(path: &Path, e: &std::io::Error) -> (String, String) {
    match e.kind() {
        std::io::ErrorKind::NotFound => (
            format!("{} does not exist", path.display()),
            format!("the projected token volume is not mounted: {RESTART_FIX}"),
        ),
        std::io::ErrorKind::PermissionDenied => (
            format!("{} is not readable by this user", path.display()),
            "set the pod's securityContext.fsGroup (the chart uses 10001) so a non-root \
             user can read the projected token"
                .into(),
        ),
        _ => (
            format!("{}: {e}", path.display()),
            "check the projected token volume".into(),
        ),
    }
}

type ClaimCheck = (Status, &'static str, String, Option<String>);

/// The token's `aud`, `iss`, `sub` and `exp` against expectations. The
/// signature is STS's business; doctor only reads the claims.
pub fn check_claims(token: &str, expect: &Expectations, now: SystemTime) -> Vec<ClaimCheck> {
    let mut out = Vec::new();
    let claims = token
        .trim()
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let Some(claims) = claims else {
        out.push((
            Status::Fail,
            "token claims",
            "the token file does not hold a JWT".into(),
            Some("the file must be the projected service-account token".into()),
        ));
        return out;
    };
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(a) => a == &expect.audience,
        serde_json::Value::Array(a) => a.iter().any(|v| v == expect.audience.as_str()),
        _ => false,
    };
    if aud_ok {
        out.push((
            Status::Ok,
            "token aud",
            format!("contains {}", expect.audience),
            None,
        ));
    } else {
        out.push((
            Status::Fail,
            "token aud",
            format!("aud is {}, expected {}", claims["aud"], expect.audience),
            Some(format!(
                "set the ServiceAccount annotation eks.amazonaws.com/audience to {} (or remove it), \
                 and list that audience on the IAM OIDC provider",
                expect.audience
            )),
        ));
    }
    match claims["iss"].as_str() {
        Some(iss) => out.push((
            Status::Ok,
            "token iss",
            format!(
                "{iss} (the IAM OIDC provider and the role's trust policy must name this issuer)"
            ),
            None,
        )),
        None => out.push((
            Status::Fail,
            "token iss",
            "no iss claim".into(),
            Some("the file must be the projected service-account token".into()),
        )),
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    match &expect.subject {
        Some(want) if want != sub => out.push((
            Status::Fail,
            "token sub",
            format!("sub is {sub:?}, expected {want:?}"),
            Some(format!(
                "run the pod as the service account the role trusts ({want}), or change the \
                 trust policy's :sub condition"
            )),
        )),
        _ => out.push((Status::Ok, "token sub", sub.to_string(), None)),
    }
    let now_s = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match claims["exp"].as_i64() {
        Some(exp) if exp <= now_s => out.push((
            Status::Fail,
            "token exp",
            format!("expired {} s ago", now_s - exp),
            Some("the kubelet refreshes projected tokens; an expired file means the volume is stale: restart the pod".into()),
        )),
        Some(exp) => out.push((Status::Ok, "token exp", format!("valid for {} s", exp - now_s), None)),
        None => out.push((
            Status::Fail,
            "token exp",
            "no exp claim".into(),
            Some("the file must be the projected service-account token".into()),
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn statuses(token: &str, expect: &Expectations) -> Vec<(&'static str, Status)> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        check_claims(token, expect, now)
            .into_iter()
            .map(|(s, n, _, _)| (n, s))
            .collect()
    }

    #[test]
    fn claims_are_checked_against_expectations() {
        let expect = Expectations {
            subject: Some("system:serviceaccount:curity:dynamo-sa".into()),
            ..Expectations::default()
        };
        let good = jwt(
            serde_json::json!({"aud": ["sts.amazonaws.com"], "iss": "https://oidc", "sub": "system:serviceaccount:curity:dynamo-sa", "exp": 2000}),
        );
        assert!(
            statuses(&good, &expect)
                .iter()
                .all(|(_, s)| *s == Status::Ok)
        );
        let bad = jwt(
            serde_json::json!({"aud": "kubernetes", "iss": "https://oidc", "sub": "system:serviceaccount:x:y", "exp": 999}),
        );
        let s = statuses(&bad, &expect);
        for claim in ["token aud", "token sub", "token exp"] {
            assert!(s.contains(&(claim, Status::Fail)), "{claim}: {s:?}");
        }
        assert_eq!(
            statuses("not-a-jwt", &expect),
            [("token claims", Status::Fail)]
        );
    }

    #[test]
    fn unreadable_token_file_points_at_fs_group() {
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let (_, fix) = token_file_problem(Path::new("/t"), &e);
        assert!(fix.contains("fsGroup"), "{fix}");
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        let (_, fix) = token_file_problem(Path::new("/t"), &e);
        assert!(fix.contains("rollout restart"), "{fix}");
    }
}
