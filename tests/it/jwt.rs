//! OAuth access tokens as caller credentials on both ports, with keys the
//! test makes and a local JWKS server: a valid token gets in; a wrong
//! issuer, audience, scope, an expired token, `alg: none` and an HMAC
//! signed with the public key do not; a rotated key is fetched when a
//! token names it, and made-up key ids cost at most one fetch per interval.

use crate::support;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::Engine;
use curity_dynamodb::{
    config::JwtConfig,
    proto::{GetSessionRequest, session_service_client::SessionServiceClient},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use rcgen::KeyPair;
use serde_json::{Value, json};
use support::app::TestApp;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tonic::{Code, Request};

const ISSUER: &str = "https://idsvr.example/oauth/v2/oauth-anonymous";
const AUDIENCE: &str = "curity-dynamodb";
const SCOPE: &str = "curity-dynamodb";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An ES256 key with its JWK.
struct Key {
    pair: KeyPair,
    kid: String,
}

impl Key {
    fn new(kid: &str) -> Self {
        Self {
            pair: KeyPair::generate().expect("p-256 key"),
            kid: kid.into(),
        }
    }

    fn jwk(&self) -> Value {
        // Uncompressed point: 0x04 || x || y.
        let raw = self.pair.public_key_raw();
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": b64(&raw[1..33]), "y": b64(&raw[33..65]),
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(&self.pair.serialize_der()),
        )
        .expect("sign")
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "curity", "client_id": "curity-runtime",
        "scope": format!("openid {SCOPE}"), "exp": now() + 300, "iat": now(),
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// A JWKS endpoint serving whatever `keys` holds, counting its requests.
struct Jwks {
    addr: SocketAddr,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl Jwks {
    async fn start(keys: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let keys = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (Arc::clone(&keys), Arc::clone(&fetches));
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let (k, f) = (Arc::clone(&k), Arc::clone(&f));
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tcp.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    f.fetch_add(1, Ordering::SeqCst);
                    let body = json!({ "keys": *k.lock().unwrap() }).to_string();
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tcp.write_all(reply.as_bytes()).await;
                });
            }
        });
        Self {
            addr,
            keys,
            fetches,
        }
    }

    fn config(&self) -> JwtConfig {
        JwtConfig {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            required_scope: Some(SCOPE.into()),
            jwks_url: Some(format!("http://{}/jwks", self.addr)),
            jwks_min_refresh_seconds: 2,
            ..Default::default()
        }
    }
}

async fn grpc(app: &TestApp, token: &str) -> Result<(), Code> {
    let mut req = Request::new(GetSessionRequest { id: "s".into() });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    SessionServiceClient::new(app.channel.clone())
        .get_session(req)
        .await
        .map(|_| ())
        .map_err(|s| s.code())
}

async fn json(app: &TestApp, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    support::http::send(
        app.json_addr.expect("json port"),
        "GET",
        "/json-ds/attributes/nobody",
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await
    .status
}

async fn start(jwks: &Jwks) -> TestApp {
    let config = jwks.config();
    TestApp::start_with(move |c| {
        c.server.auth.jwt = Some(config.clone());
        c.json_ds.listen = Some("127.0.0.1:0".parse().unwrap());
        c.json_ds.auth.jwt = Some(config);
    })
    .await
}

#[tokio::test]
async fn a_valid_access_token_gets_in_on_both_ports_and_bad_ones_do_not() {
    let key = Key::new("k1");
    let jwks = Jwks::start(vec![key.jwk()]).await;
    let mut app = start(&jwks).await;

    let good = key.sign(&claims());
    assert_eq!(grpc(&app, &good).await, Ok(()));
    assert_eq!(
        json(&app, &good).await,
        404,
        "authenticated: no such subject"
    );

    let stranger = Key::new("k1");
    let forged_hmac = {
        // HS256 keyed with the public key's bytes: what a server that takes
        // the token's word for the algorithm would accept.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(key.pair.public_key_raw()).unwrap(),
        )
        .unwrap()
    };
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        b64(claims().to_string().as_bytes())
    );
    let refused = [
        (
            "another issuer",
            key.sign(&with(claims(), "iss", json!("https://evil.example"))),
        ),
        (
            "another audience",
            key.sign(&with(claims(), "aud", json!("someone-else"))),
        ),
        (
            "no scope",
            key.sign(&with(claims(), "scope", json!("openid"))),
        ),
        (
            "expired",
            key.sign(&with(claims(), "exp", json!(now() - 120))),
        ),
        (
            "not yet valid",
            key.sign(&with(claims(), "nbf", json!(now() + 600))),
        ),
        ("signed by another key", stranger.sign(&claims())),
        ("alg none", unsigned),
        ("HMAC with the public key", forged_hmac),
        ("not a JWT", "not-a-token-at-all".to_string()),
    ];
    for (what, token) in refused {
        assert_eq!(
            grpc(&app, &token).await,
            Err(Code::Unauthenticated),
            "{what}"
        );
        assert_eq!(json(&app, &token).await, 401, "{what}");
    }
    // A scope given as a list is read too; a small clock skew is tolerated.
    let listed = key.sign(&with(claims(), "scope", json!(["openid", SCOPE])));
    assert_eq!(grpc(&app, &listed).await, Ok(()));
    let skewed = key.sign(&with(claims(), "exp", json!(now() - 5)));
    assert_eq!(grpc(&app, &skewed).await, Ok(()));
    app.shutdown().await;
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it_and_made_up_kids_are_rate_limited() {
    let old = Key::new("old");
    let jwks = Jwks::start(vec![old.jwk()]).await;
    let mut app = start(&jwks).await;
    assert_eq!(grpc(&app, &old.sign(&claims())).await, Ok(()));
    let after_first = jwks.fetches.load(Ordering::SeqCst);
    assert!(after_first >= 1);

    // The issuer rotates: the new key is published, a token names it.
    let new = Key::new("new");
    jwks.keys.lock().unwrap().push(new.jwk());
    // Accepted once the keys are fetched again (no sooner than the
    // minimum interval after the last fetch).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while grpc(&app, &new.sign(&claims())).await != Ok(()) {
        assert!(
            std::time::Instant::now() < deadline,
            "a token of the new key was never accepted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after_rotation = jwks.fetches.load(Ordering::SeqCst);
    assert!(after_rotation > after_first, "the new kid fetched the keys");

    // A flood of made-up kids within the interval fetches nothing more.
    for i in 0..50 {
        let bogus = Key::new(&format!("bogus-{i}"));
        assert_eq!(
            grpc(&app, &bogus.sign(&claims())).await,
            Err(Code::Unauthenticated)
        );
    }
    assert!(
        jwks.fetches.load(Ordering::SeqCst) <= after_rotation + 1,
        "made-up kids fetched {} times",
        jwks.fetches.load(Ordering::SeqCst) - after_rotation
    );
    app.shutdown().await;
}

#[tokio::test]
async fn keys_from_a_jwks_file_serve_without_any_fetch() {
    let key = Key::new("file-key");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, json!({ "keys": [key.jwk()] }).to_string()).unwrap();
    let config = JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_file: Some(file),
        ..Default::default()
    };
    let mut app = TestApp::start_with(move |c| c.server.auth.jwt = Some(config)).await;
    assert_eq!(grpc(&app, &key.sign(&claims())).await, Ok(()));
    assert_eq!(
        grpc(&app, &Key::new("other").sign(&claims())).await,
        Err(Code::Unauthenticated)
    );
    app.shutdown().await;
}
