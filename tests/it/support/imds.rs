//! A fake IMDSv2 endpoint: the token handshake the SDK requires (the TTL
//! header echoed back), then the role name and its credentials, which the
//! test obtained from a real MiniStack AssumeRole.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use aws_credential_types::Credentials;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    task::JoinHandle,
};

pub struct FakeImds {
    pub endpoint: String,
    /// Credential documents served (not token or listing requests).
    pub credential_fetches: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

const TOKEN: &str = "fake-imds-session-token";

impl FakeImds {
    pub async fn start(role: &str, creds: Credentials, lifetime: Duration) -> FakeImds {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind imds");
        let addr: SocketAddr = listener.local_addr().expect("imds addr");
        let fetches = Arc::new(AtomicUsize::new(0));
        let role = role.to_string();
        let counter = fetches.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (role, creds, counter) = (role.clone(), creds.clone(), counter.clone());
                tokio::spawn(async move {
                    let (r, mut w) = stream.into_split();
                    let mut lines = BufReader::new(r).lines();
                    // One request per connection is all the SDK needs from us.
                    let Ok(Some(request_line)) = lines.next_line().await else {
                        return;
                    };
                    let mut headers = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                        }
                    }
                    let header = |name: &str| {
                        headers
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                    };
                    let mut parts = request_line.split_whitespace();
                    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    let base = "/latest/meta-data/iam/security-credentials/";
                    let (status, body, extra) = match (method, path) {
                        ("PUT", "/latest/api/token") => {
                            match header("x-aws-ec2-metadata-token-ttl-seconds") {
                                Some(ttl) => (
                                    200,
                                    TOKEN.to_string(),
                                    Some(("X-aws-ec2-metadata-token-ttl-seconds", ttl)),
                                ),
                                None => (400, String::new(), None),
                            }
                        }
                        _ if header("x-aws-ec2-metadata-token").as_deref() != Some(TOKEN) => {
                            (401, String::new(), None)
                        }
                        ("GET", p) if p == base => (200, role.clone(), None),
                        ("GET", p) if p.strip_prefix(base) == Some(role.as_str()) => {
                            counter.fetch_add(1, Ordering::SeqCst);
                            (200, credential_document(&creds, lifetime), None)
                        }
                        _ => (404, String::new(), None),
                    };
                    let reason = match status {
                        200 => "OK",
                        400 => "Bad Request",
                        401 => "Unauthorized",
                        _ => "Not Found",
                    };
                    let mut resp = format!(
                        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    if let Some((k, v)) = extra {
                        resp.push_str(&format!("{k}: {v}\r\n"));
                    }
                    resp.push_str("\r\n");
                    resp.push_str(&body);
                    let _ = w.write_all(resp.as_bytes()).await;
                    let _ = w.shutdown().await;
                });
            }
        });
        FakeImds {
            endpoint: format!("http://{addr}"),
            credential_fetches: fetches,
            task,
        }
    }
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn credential_document(c: &Credentials, lifetime: Duration) -> String {
    let now = SystemTime::now();
    serde_json::json!({
        "Code": "Success",
        "LastUpdated": rfc3339(now),
        "Type": "AWS-HMAC",
        "AccessKeyId": c.access_key_id(),
        "SecretAccessKey": c.secret_access_key(),
        "Token": c.session_token().unwrap_or_default(),
        "Expiration": rfc3339(now + lifetime),
    })
    .to_string()
}

/// `YYYY-MM-DDTHH:MM:SSZ` without a date crate.
fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    aws_smithy_types::DateTime::from_secs(secs as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}
