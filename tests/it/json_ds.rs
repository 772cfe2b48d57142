//! Curity's JSON data source protocol (docs/curity-json-datasource.md):
//! golden request / response pairs for every operation and form, as
//! Curity's HTTP client sends them (raw HTTP/1.1, Java form encoding), in
//! both password modes; authentication of Curity; an unknown user and a
//! wrong password alike, in the same time class.

use crate::support::{self, Answer};

use std::time::{Duration, Instant};

use base64::Engine;
use curity_dynamodb::{
    config::Config,
    proto::{
        CreateAccountRequest, NewAccount, Tenant, account_service_client::AccountServiceClient,
    },
};
use serde_json::{Value, json};
use support::{
    app::TestApp,
    http::{Reply, send},
};

const SECRET: &str = "s3cret";
const BASIC_PASSWORD: &str = "json-ds-basic-password-0123456789abcdef";
const BEARER: &str = "json-ds-bearer-token-0123456789abcdef012345";

fn basic() -> String {
    support::http::basic("curity", BASIC_PASSWORD)
}

struct Ds {
    app: TestApp,
    _dir: tempfile::TempDir,
    /// Account ids by (tenant, user name).
    ids: Vec<((String, String), String)>,
    hash: String,
}

impl Ds {
    fn id(&self, tenant: &str, user: &str) -> String {
        self.ids
            .iter()
            .find(|((t, u), _)| t == tenant && u == user)
            .map(|(_, id)| id.clone())
            .expect("seeded account")
    }

    async fn call(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let auth = basic();
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        send(
            self.app.json_addr.expect("json port"),
            method,
            target,
            &all,
            body.as_bytes(),
        )
        .await
    }
}

/// The JSON port with Basic authentication, a tenant parameter and a
/// subject parameter for attribute lookups; three accounts (an active
/// `j doe/1` with a password and an email, an inactive `bob`, and
/// `j doe/1` in tenant `acme` with another password).
async fn start(adjust: impl FnOnce(&mut Config)) -> Ds {
    let dir = tempfile::tempdir().expect("tempdir");
    let basic_file = dir.path().join("basic");
    let bearer_file = dir.path().join("bearer");
    std::fs::write(&basic_file, BASIC_PASSWORD).expect("write");
    std::fs::write(&bearer_file, BEARER).expect("write");
    let app = TestApp::start_with(|c| {
        let j = &mut c.json_ds;
        j.listen = Some("127.0.0.1:0".parse().expect("addr"));
        j.tenant_id_parameter = Some("tenantId".into());
        j.attributes_subject_parameter = Some("subject".into());
        j.auth.basic_username = Some("curity".into());
        j.auth.basic_password_file = Some(basic_file);
        j.auth.bearer_token_file = Some(bearer_file);
        j.bcrypt_cost = 4;
        adjust(c);
    })
    .await;
    let hash = bcrypt::hash(SECRET, 4).expect("hash");
    let other = bcrypt::hash("acme-secret", 4).expect("hash");
    let mut accounts = AccountServiceClient::new(app.channel.clone());
    let mut ids = Vec::new();
    for (tenant, user, active, hash) in [
        ("", "j doe/1", true, &hash),
        ("", "bob", false, &hash),
        ("acme", "j doe/1", true, &other),
    ] {
        let id = accounts
            .create(CreateAccountRequest {
                tenant: (!tenant.is_empty()).then(|| Tenant { id: tenant.into() }),
                account: Some(NewAccount {
                    user_name: user.into(),
                    active,
                    attributes_json: json!({
                        "emails": [{"value": format!("{}-{tenant}@x.io", user.replace([' ', '/'], "")), "primary": true}],
                        "displayName": "J. Doe"
                    })
                    .to_string(),
                    ..Default::default()
                }),
                password_hash: Some(hash.clone()),
            })
            .await
            .answer("seed account")
            .account
            .expect("account")
            .id;
        ids.push(((tenant.to_string(), user.to_string()), id));
    }
    Ds {
        app,
        _dir: dir,
        ids,
        hash,
    }
}

/// (what, method, target, headers, body, status, JSON answer).
type Golden<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
    u16,
    Value,
);
/// (what, target, headers, status, JSON answer) of a GET.
type GoldenGet<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], u16, Value);

const JSON: (&str, &str) = ("Content-Type", "application/json");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn check(what: &str, r: &Reply, status: u16, body: Value) {
    assert_eq!(
        r.status,
        status,
        "{what}: {:?}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json(), body, "{what}");
    if !r.body.is_empty() {
        assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
    }
}

#[tokio::test]
async fn curity_verifies_mode_answers_the_stored_hash_in_every_submit_as_form() {
    let ds = start(|_| {}).await;
    let id = ds.id("", "j doe/1");
    let found =
        json!({"userName": "j doe/1", "accountId": id, "active": true, "password": ds.hash});
    let unknown = json!({"error": "invalid_credentials"});
    let golden: &[Golden] = &[
        (
            "post-as-json",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1"}"#,
            200,
            found.clone(),
        ),
        (
            "post-as-json; charset",
            "POST",
            "/json-ds/credentials",
            &[("Content-Type", "application/json; charset=UTF-8")],
            r#"{"username":"j doe/1","tenantId":null}"#,
            200,
            found.clone(),
        ),
        (
            "post-as-urlencoded-formdata",
            "POST",
            "/json-ds/credentials",
            &[FORM],
            "username=j+doe%2F1",
            200,
            found.clone(),
        ),
        (
            "get-as-querystring",
            "GET",
            "/json-ds/credentials?username=j+doe%2F1",
            &[],
            "",
            200,
            found.clone(),
        ),
        (
            "get, %20 for space",
            "GET",
            "/json-ds/credentials?username=j%20doe%2F1",
            &[],
            "",
            200,
            found.clone(),
        ),
        (
            "unknown user",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"nobody"}"#,
            401,
            unknown.clone(),
        ),
        (
            "inactive account",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"bob"}"#,
            401,
            unknown.clone(),
        ),
        (
            "no username",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{}"#,
            400,
            json!({"error": "invalid_request", "error_description": "username is required"}),
        ),
        (
            "username not a string",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":1}"#,
            400,
            json!({"error": "invalid_request", "error_description": "parameter username is not a string"}),
        ),
        (
            "body not JSON",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            "username=x",
            400,
            json!({"error": "invalid_request", "error_description": "the body is not JSON"}),
        ),
        (
            "wrong method",
            "DELETE",
            "/json-ds/credentials",
            &[],
            "",
            405,
            json!({"error": "method_not_allowed"}),
        ),
        (
            "unknown path",
            "GET",
            "/json-ds/elsewhere",
            &[],
            "",
            404,
            json!({"error": "not_found"}),
        ),
        (
            "outside the context",
            "GET",
            "/credentials",
            &[],
            "",
            404,
            json!({"error": "not_found"}),
        ),
    ];
    for (what, method, target, headers, body, status, expected) in golden {
        let r = ds.call(method, target, headers, body).await;
        check(what, &r, *status, expected.clone());
    }

    // The tenant parameter selects the tenant's account.
    let r = ds
        .call(
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1","tenantId":"acme"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["accountId"], ds.id("acme", "j doe/1"));
    assert_ne!(r.json()["password"], ds.hash, "the tenant's own hash");
    let r = ds
        .call(
            "POST",
            "/json-ds/credentials",
            &[FORM],
            "username=bob&tenantId=acme",
        )
        .await;
    check("unknown in the tenant", &r, 401, unknown);

    // PUT stores what Curity's credential manager sends, verbatim.
    let new_hash = bcrypt::hash("n3w", 4).expect("hash");
    let body = json!({"username": "j doe/1", "password": new_hash}).to_string();
    let r = ds.call("PUT", "/json-ds/credentials", &[JSON], &body).await;
    check("update", &r, 204, Value::Null);
    let r = ds
        .call(
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1"}"#,
        )
        .await;
    assert_eq!(r.json()["password"], new_hash);
    let r = ds
        .call(
            "PUT",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"nobody","password":"$2b$04$x"}"#,
        )
        .await;
    check(
        "update of an unknown user",
        &r,
        404,
        json!({"error": "not_found"}),
    );
    let r = ds
        .call(
            "PUT",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1"}"#,
        )
        .await;
    check(
        "update without a password",
        &r,
        400,
        json!({"error": "invalid_request", "error_description": "password is required"}),
    );
}

#[tokio::test]
async fn attribute_lookups_take_the_subject_from_the_path_a_header_or_the_query() {
    let ds = start(|_| {}).await;
    let attrs = json!({
        "subject": "j doe/1",
        "userName": "j doe/1",
        "accountId": ds.id("", "j doe/1"),
        "active": true,
        "displayName": "J. Doe",
        "emails": [{"value": "jdoe1-@x.io", "primary": true}],
    });
    let header = base64::engine::general_purpose::STANDARD.encode("j doe/1");
    let golden: &[GoldenGet] = &[
        (
            "url-path, form-encoded segment",
            "/json-ds/attributes/j+doe%2F1",
            &[],
            200,
            attrs.clone(),
        ),
        (
            "header-parameter (base64)",
            "/json-ds/attributes",
            &[("subject", header.as_str())],
            200,
            attrs.clone(),
        ),
        (
            "query-parameter",
            "/json-ds/attributes?subject=j+doe%2F1",
            &[],
            200,
            attrs.clone(),
        ),
        (
            "no such subject: no attributes",
            "/json-ds/attributes/nobody",
            &[],
            404,
            json!({"error": "not_found"}),
        ),
        (
            "no subject",
            "/json-ds/attributes",
            &[],
            400,
            json!({"error": "invalid_request", "error_description": "subject is required"}),
        ),
        (
            "a subject header that is not base64",
            "/json-ds/attributes",
            &[("subject", "***")],
            400,
            json!({"error": "invalid_request", "error_description": "a subject header is not base64"}),
        ),
    ];
    for (what, target, headers, status, expected) in golden {
        let r = ds.call("GET", target, headers, "").await;
        check(what, &r, *status, expected.clone());
    }
    let r = ds
        .call(
            "GET",
            "/json-ds/attributes/j+doe%2F1?tenantId=acme",
            &[],
            "",
        )
        .await;
    assert_eq!(r.json()["accountId"], ds.id("acme", "j doe/1"), "tenant");
}

#[tokio::test]
async fn buckets_are_stored_read_and_cleared_by_subject_and_purpose() {
    let ds = start(|_| {}).await;
    let path = "/json-ds/buckets/j+doe%2F1/login+state";
    let golden: &[(&str, &str, &str, u16, Value)] = &[
        (
            "get before store",
            "GET",
            "",
            404,
            json!({"error": "not_found"}),
        ),
        (
            "store",
            "PUT",
            r#"{"step":2,"seen":["a","b"]}"#,
            200,
            json!({"step": 2, "seen": ["a", "b"]}),
        ),
        (
            "get",
            "GET",
            "",
            200,
            json!({"step": 2, "seen": ["a", "b"]}),
        ),
        (
            "store replaces",
            "PUT",
            r#"{"step":3}"#,
            200,
            json!({"step": 3}),
        ),
        (
            "store a non-object",
            "PUT",
            "[1]",
            400,
            json!({"error": "invalid_request", "error_description": "the body is not a JSON object"}),
        ),
        ("clear", "DELETE", "", 204, Value::Null),
        (
            "get after clear",
            "GET",
            "",
            404,
            json!({"error": "not_found"}),
        ),
        (
            "clear again",
            "DELETE",
            "",
            404,
            json!({"error": "not_found"}),
        ),
    ];
    for (what, method, body, status, expected) in golden {
        let headers: &[(&str, &str)] = if body.is_empty() { &[] } else { &[JSON] };
        let r = ds.call(method, path, headers, body).await;
        check(what, &r, *status, expected.clone());
    }
    // Tenants do not share buckets.
    let r = ds
        .call(
            "PUT",
            &format!("{path}?tenantId=acme"),
            &[JSON],
            r#"{"t":1}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = ds.call("GET", path, &[], "").await;
    check(
        "default tenant after the tenant's store",
        &r,
        404,
        json!({"error": "not_found"}),
    );
    let r = ds
        .call("GET", "/json-ds/buckets/only-subject", &[], "")
        .await;
    check("no purpose", &r, 404, json!({"error": "not_found"}));
}

#[tokio::test]
async fn curity_must_authenticate_with_basic_or_the_bearer_token() {
    let ds = start(|_| {}).await;
    let addr = ds.app.json_addr.expect("json port");
    let body = br#"{"username":"j doe/1"}"#;
    let unauthorized = json!({"error": "unauthorized"});
    let wrong_basic = support::http::basic("curity", "wrong");
    let wrong_user = support::http::basic("other", BASIC_PASSWORD);
    let bearer = format!("Bearer {BEARER}");
    for (what, auth) in [
        ("none", None),
        ("wrong Basic password", Some(wrong_basic.as_str())),
        ("wrong Basic user", Some(wrong_user.as_str())),
        ("wrong bearer", Some("Bearer nope")),
    ] {
        let mut headers = vec![JSON];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        let r = send(addr, "POST", "/json-ds/credentials", &headers, body).await;
        check(what, &r, 401, unauthorized.clone());
        assert!(r.header("www-authenticate").is_some(), "{what}");
    }
    let r = send(
        addr,
        "POST",
        "/json-ds/credentials",
        &[JSON, ("Authorization", bearer.as_str())],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "the bearer token is accepted too");
}

#[tokio::test]
async fn backend_verifies_mode_checks_the_password_and_never_answers_the_hash() {
    let ds = start(|c| c.json_ds.backend_verifies_password = true).await;
    let id = ds.id("", "j doe/1");
    let ok = json!({"userName": "j doe/1", "accountId": id, "active": true});
    let refused = json!({"error": "invalid_credentials"});
    let golden: &[Golden] = &[
        (
            "post-as-json",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1","password":"s3cret"}"#,
            200,
            ok.clone(),
        ),
        (
            "post-as-urlencoded-formdata",
            "POST",
            "/json-ds/credentials",
            &[FORM],
            "username=j+doe%2F1&password=s3cret",
            200,
            ok.clone(),
        ),
        (
            "wrong password",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1","password":"guess"}"#,
            401,
            refused.clone(),
        ),
        (
            "unknown user",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"nobody","password":"s3cret"}"#,
            401,
            refused.clone(),
        ),
        (
            "inactive account, right password",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"bob","password":"s3cret"}"#,
            401,
            refused.clone(),
        ),
        (
            "no password",
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1"}"#,
            400,
            json!({"error": "invalid_request", "error_description": "password is required"}),
        ),
        (
            "password in the query",
            "GET",
            "/json-ds/credentials?username=j+doe%2F1&password=s3cret",
            &[],
            "",
            400,
            json!({"error": "invalid_request", "error_description": "a password may not be sent in the URL; use submit-as post-as-json, or set json_ds.allow_password_in_query = true"}),
        ),
    ];
    for (what, method, target, headers, body, status, expected) in golden {
        let r = ds.call(method, target, headers, body).await;
        check(what, &r, *status, expected.clone());
    }

    // A clear password sent by PUT is hashed (BCrypt) before it is stored.
    let r = ds
        .call(
            "PUT",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1","password":"n3w"}"#,
        )
        .await;
    check("update", &r, 204, Value::Null);
    let r = ds
        .call(
            "POST",
            "/json-ds/credentials",
            &[JSON],
            r#"{"username":"j doe/1","password":"n3w"}"#,
        )
        .await;
    check("verify the new password", &r, 200, ok);
    let stored = ds
        .app
        .raw_get("curity-accounts", &[("pk", &format!("ai#{id}"))])
        .await
        .expect("main item");
    let hash = stored["password"].as_s().expect("password");
    assert!(
        hash.starts_with("$2b$04$") && !hash.contains("n3w"),
        "{hash}"
    );
}

/// `submit-as get-as-querystring` with the backend verifying, allowed by
/// the switch: the password in the query (or in a `:password` placeholder)
/// is verified, and never logged.
#[tokio::test]
async fn get_login_with_the_backend_verifying_is_served_when_allowed() {
    let ds = start(|c| {
        c.json_ds.backend_verifies_password = true;
        c.json_ds.allow_password_in_query = true;
    })
    .await;
    let id = ds.id("", "j doe/1");
    let ok = json!({"userName": "j doe/1", "accountId": id, "active": true});
    let r = ds
        .call(
            "GET",
            "/json-ds/credentials?username=j+doe%2F1&password=s3cret",
            &[],
            "",
        )
        .await;
    check("password in the query", &r, 200, ok.clone());
    let r = ds
        .call(
            "GET",
            "/json-ds/credentials?username=j+doe%2F1&password=guess",
            &[],
            "",
        )
        .await;
    check(
        "wrong password in the query",
        &r,
        401,
        json!({"error": "invalid_credentials"}),
    );
}

/// Curity's `url-path` templates: placeholders in any segment (the
/// subject, the tenant, the password), a query placeholder, and `/`.
#[tokio::test]
async fn url_path_templates_take_placeholders_anywhere_and_the_root_path() {
    let ds = start(|c| {
        let j = &mut c.json_ds;
        j.backend_verifies_password = true;
        j.allow_password_in_query = true;
        j.credentials_path = "/".into();
        j.attributes_path = "/t/:tenantId/people/:subject/profile".into();
        j.attributes_subject_parameter = None;
        j.buckets_path = "/state/:purpose/of/:subject".into();
    })
    .await;
    let id = ds.id("", "j doe/1");
    let r = ds
        .call(
            "POST",
            "/json-ds/",
            &[JSON],
            r#"{"username":"j doe/1","password":"s3cret"}"#,
        )
        .await;
    check(
        "credentials at /",
        &r,
        200,
        json!({"userName": "j doe/1", "accountId": id, "active": true}),
    );
    let acme = ds.id("acme", "j doe/1");
    let r = ds
        .call("GET", "/json-ds/t/acme/people/j+doe%2F1/profile", &[], "")
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json()["accountId"],
        json!(acme),
        "the tenant from the path"
    );
    let r = ds
        .call(
            "PUT",
            "/json-ds/state/otp/of/j+doe%2F1",
            &[JSON],
            r#"{"n":1}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = ds
        .call("GET", "/json-ds/state/otp/of/j+doe%2F1", &[], "")
        .await;
    check("bucket by template", &r, 200, json!({"n": 1}));
    let r = ds
        .call("GET", "/json-ds/state/otp/j+doe%2F1", &[], "")
        .await;
    assert_eq!(r.status, 404, "{r:?}");

    // A subject in the path, a password in a query placeholder.
    let ds = start(|c| {
        let j = &mut c.json_ds;
        j.backend_verifies_password = true;
        j.credentials_path = "/users/:subject/verify?pwd=:password".into();
    })
    .await;
    let r = ds
        .call("GET", "/json-ds/users/j+doe%2F1/verify?pwd=s3cret", &[], "")
        .await;
    check(
        "a :password placeholder is refused without the switch",
        &r,
        400,
        json!({"error": "invalid_request", "error_description": "a password may not be sent in the URL; use submit-as post-as-json, or set json_ds.allow_password_in_query = true"}),
    );
    let r = ds
        .call(
            "POST",
            "/json-ds/users/j+doe%2F1/verify",
            &[JSON],
            r#"{"username":"someone else","password":"s3cret"}"#,
        )
        .await;
    assert_eq!(r.status, 400, "path and body subjects differ: {r:?}");
}

/// Wrong password and unknown user both cost a BCrypt verification: an
/// unknown user is not answered measurably faster (cost 10 here, as
/// Curity's default; the fastest of three tries of each).
#[tokio::test]
async fn an_unknown_user_takes_as_long_as_a_wrong_password() {
    let ds = start(|c| c.json_ds.backend_verifies_password = true).await;
    let hash10 = bcrypt::hash(SECRET, 10).expect("hash");
    let mut creds = curity_dynamodb::proto::credential_service_client::CredentialServiceClient::new(
        ds.app.channel.clone(),
    );
    creds
        .store(curity_dynamodb::proto::StoreCredentialRequest {
            tenant: None,
            subject: "j doe/1".into(),
            password_hash: Some(hash10),
            ..Default::default()
        })
        .await
        .expect("store cost-10 hash");
    let fastest = |body: &'static str| {
        let ds = &ds;
        async move {
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                let r = ds.call("POST", "/json-ds/credentials", &[JSON], body).await;
                assert_eq!(r.status, 401);
                best = best.min(t.elapsed());
            }
            best
        }
    };
    let wrong = fastest(r#"{"username":"j doe/1","password":"guess"}"#).await;
    let unknown = fastest(r#"{"username":"nobody","password":"guess"}"#).await;
    assert!(
        unknown * 3 > wrong && wrong * 3 > unknown,
        "unknown user {unknown:?} vs wrong password {wrong:?}: not the same time class"
    );
}
