//! TLS and mutual TLS on the gRPC port: a client trusting the CA gets in;
//! with a client CA, only clients presenting a certificate it issued (and
//! still valid) are served, the others get `UNAUTHENTICATED`; rotated files are picked up
//! without a restart; mutual TLS counts as caller authentication for a
//! network address.

use crate::support;

use std::time::Duration;

use curity_dynamodb::proto::{GetSessionRequest, session_service_client::SessionServiceClient};
use support::{
    app::TestApp,
    pki::{Ca, connect, json_status_with, write},
    service::{Env, run_cli, stderr},
};

async fn json_status(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    identity: Option<&(String, String)>,
) -> Result<u16, String> {
    json_status_with(addr, ca_pem, identity, &[]).await
}

async fn call(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    identity: Option<&(String, String)>,
) -> Result<(), String> {
    SessionServiceClient::new(connect(addr, ca_pem, identity).await?)
        .get_session(GetSessionRequest { id: "s".into() })
        .await
        .map(|_| ())
        .map_err(|s| format!("{s:?}"))
}

#[tokio::test]
async fn tls_serves_clients_that_trust_the_ca_and_picks_up_a_rotated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("server-ca");
    let (cert, key) = ca.leaf(&["localhost"], false);
    let cert_file = write(dir.path(), "tls.crt", &cert);
    let key_file = write(dir.path(), "tls.key", &key);
    let (c, k) = (cert_file.clone(), key_file.clone());
    let mut app = TestApp::start_with(move |cfg| {
        cfg.server.tls.cert_file = Some(c);
        cfg.server.tls.key_file = Some(k);
        cfg.server.auth.reload_seconds = 1;
    })
    .await;
    call(app.addr, &ca.pem(), None).await.expect("TLS call");
    let other = Ca::new("someone-else");
    assert!(
        call(app.addr, &other.pem(), None).await.is_err(),
        "an untrusted server cert fails"
    );

    // Rotation: a certificate from another CA replaces the files.
    let rotated = Ca::new("rotated-ca");
    let (cert, key) = rotated.leaf(&["localhost"], false);
    std::fs::write(&key_file, key).unwrap();
    std::fs::write(&cert_file, cert).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while call(app.addr, &rotated.pem(), None).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "rotated certificate never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_admits_only_valid_client_certificates_of_the_client_ca() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let (cert, key) = server_ca.leaf(&["localhost"], false);
    let cert_file = write(dir.path(), "tls.crt", &cert);
    let key_file = write(dir.path(), "tls.key", &key);
    let ca_file = write(dir.path(), "clients.crt", &client_ca.pem());
    let mut app = TestApp::start_with(move |cfg| {
        cfg.server.tls.cert_file = Some(cert_file);
        cfg.server.tls.key_file = Some(key_file);
        cfg.server.tls.client_ca_file = Some(ca_file);
    })
    .await;
    let good = client_ca.leaf(&["curity"], false);
    call(app.addr, &server_ca.pem(), Some(&good))
        .await
        .expect("a client certificate of the client CA");
    let stranger = Ca::new("stranger").leaf(&["curity"], false);
    let expired = client_ca.leaf(&["curity"], true);
    for (what, identity) in [
        ("no certificate", None),
        ("another CA's certificate", Some(&stranger)),
        ("an expired certificate", Some(&expired)),
    ] {
        let refused = call(app.addr, &server_ca.pem(), identity).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("code: Unauthenticated")),
            "{what} must get UNAUTHENTICATED, got {refused:?}"
        );
    }
    // Probes carry no client certificate: health stays open to them.
    let probe = connect(app.addr, &server_ca.pem(), None).await.unwrap();
    let health = tonic_health::pb::health_client::HealthClient::new(probe)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health without a client certificate");
    assert_eq!(
        health.into_inner().status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    // Mutual TLS is caller authentication: a network address is allowed.
    let settings = &app.config.server;
    assert_eq!(
        settings.exposure_problem("0.0.0.0:50051".parse().unwrap()),
        None
    );
    app.shutdown().await;
}

#[tokio::test]
async fn with_tls_on_the_port_probes_get_plain_health_on_the_health_listener() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("server-ca");
    let (cert, key) = ca.leaf(&["localhost"], false);
    let cert_file = write(dir.path(), "tls.crt", &cert);
    let key_file = write(dir.path(), "tls.key", &key);
    let port = support::free_port();
    let health_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut app = TestApp::start_with(move |cfg| {
        cfg.server.tls.cert_file = Some(cert_file);
        cfg.server.tls.key_file = Some(key_file);
        cfg.server.health_listen = Some(health_addr);
    })
    .await;
    let plain = support::channel(health_addr).await;
    assert!(support::wait_serving(&plain, Duration::from_secs(20)).await);
    assert!(
        SessionServiceClient::new(plain)
            .get_session(GetSessionRequest { id: "s".into() })
            .await
            .is_err(),
        "the health listener serves nothing but health"
    );
    call(app.addr, &ca.pem(), None)
        .await
        .expect("TLS port serves");
    app.shutdown().await;
}

#[tokio::test]
async fn unusable_tls_files_stop_serve_naming_the_key() {
    let env = Env::new();
    let half = env.write(
        "half.toml",
        "[server.tls]\ncert_file = \"/nonexistent/tls.crt\"\n",
    );
    let out = run_cli(&env, Some(&half), &["serve", "--embedded"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cert_file and key_file go together"),
        "{}",
        stderr(&out)
    );

    let missing = env.write(
        "missing.toml",
        "[server.tls]\ncert_file = \"/nonexistent/tls.crt\"\nkey_file = \"/nonexistent/tls.key\"\n",
    );
    let out = run_cli(&env, Some(&missing), &["serve", "--embedded"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("server.tls.cert_file"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn serve_reports_every_unusable_file_the_config_names_at_once() {
    let env = Env::new();
    let not_pem = env.write("not-a-certificate.crt", "hello");
    let short = env.write("short-token", "short");
    let ca = Ca::new("files");
    let (cert, key) = ca.leaf(&["localhost"], false);
    let (other_cert, _) = Ca::new("other").leaf(&["localhost"], false);
    let cert = env.write("tls.crt", &cert);
    let other_cert = env.write("other.crt", &other_cert);
    let key = env.write("tls.key", &key);
    let config = env.write(
        "files.toml",
        &format!(
            "[server.auth]\nbearer_token_file = {short:?}\n\
             [server.tls]\ncert_file = {not_pem:?}\nkey_file = \"/nonexistent/tls.key\"\n\
             [json_ds]\nlisten = \"127.0.0.1:0\"\n\
             [json_ds.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n\
             client_ca_file = \"/nonexistent/clients.crt\"\n"
        ),
    );
    let out = run_cli(&env, Some(&config), &["serve", "--embedded"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for problem in [
        "server.auth.bearer_token_file: ",
        "shorter than 16",
        "server.tls.cert_file: ",
        "holds no certificate",
        "server.tls.key_file: cannot read /nonexistent/tls.key",
        "json_ds.tls.client_ca_file: cannot read /nonexistent/clients.crt",
    ] {
        assert!(err.contains(problem), "{problem:?} missing from: {err}");
    }

    // Files that read well but do not fit together: both ports' problems
    // in one report too.
    let mismatch = env.write(
        "mismatch.toml",
        &format!(
            "[server.tls]\ncert_file = {other_cert:?}\nkey_file = {key:?}\n\
             [json_ds]\nlisten = \"127.0.0.1:0\"\n\
             [json_ds.tls]\ncert_file = {other_cert:?}\nkey_file = {key:?}\n"
        ),
    );
    let out = run_cli(&env, Some(&mismatch), &["serve", "--embedded"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for problem in [
        "server.tls: the key does not fit the certificate",
        "json_ds.tls: the key does not fit the certificate",
    ] {
        assert!(err.contains(problem), "{problem:?} missing from: {err}");
    }
}

/// One JSON data source request over TLS, with or without a client
/// certificate; the reply's status.
#[tokio::test]
async fn the_json_port_speaks_tls_and_mutual_tls_authenticates_curity() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let (cert, key) = server_ca.leaf(&["localhost"], false);
    let cert_file = write(dir.path(), "tls.crt", &cert);
    let key_file = write(dir.path(), "tls.key", &key);
    let ca_file = write(dir.path(), "clients.crt", &client_ca.pem());
    let app = TestApp::start_with(move |cfg| {
        cfg.json_ds.listen = Some("127.0.0.1:0".parse().unwrap());
        cfg.json_ds.tls.cert_file = Some(cert_file);
        cfg.json_ds.tls.key_file = Some(key_file);
        cfg.json_ds.tls.client_ca_file = Some(ca_file);
    })
    .await;
    let addr = app.json_addr.expect("json port");
    let good = client_ca.leaf(&["curity"], false);
    // Through authentication to the handler: no such subject, 404.
    assert_eq!(
        json_status(addr, &server_ca.pem(), Some(&good)).await,
        Ok(404)
    );
    let stranger = Ca::new("stranger").leaf(&["curity"], false);
    for (what, identity) in [("no certificate", None), ("another CA's", Some(&stranger))] {
        // Refused by the authentication layer, before any work.
        let status = json_status(addr, &server_ca.pem(), identity).await;
        assert_eq!(status, Ok(401), "{what}");
    }
    let json = &app.config.json_ds;
    let public = "0.0.0.0:8443".parse().unwrap();
    assert_eq!(
        json.exposure_problem(public, false),
        None,
        "mTLS is authentication"
    );
    let mut plain = json.clone();
    plain.tls = Default::default();
    assert!(
        plain.exposure_problem(public, false).is_some(),
        "TLS is required off loopback"
    );
}
