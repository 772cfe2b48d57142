//! A fault-injecting HTTP/1.1 proxy between the service and DynamoDB. It
//! reads each request whole (the SDK sends `Content-Length` bodies) and,
//! as the injected fault says, forwards it, delays it, answers it itself
//! (500, throttling), refuses the connection, or forwards it and cuts the
//! response half way (the server applied the write; the service never
//! hears). Faults can target one DynamoDB operation (`X-Amz-Target`) and a
//! number of requests, so a test can hit the write and spare the probes.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// What happens to a matching request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Forwarded after a wait.
    Delay(Duration),
    /// The connection is closed without an answer; new connections too.
    Refuse,
    /// Forwarded; the response is cut after its head and half its body.
    CutResponse,
    /// Answered by the proxy with `500 InternalServerError`.
    InternalError,
    /// Answered by the proxy with `400 ThrottlingException`.
    Throttle,
}

#[derive(Debug)]
struct Injected {
    fault: Fault,
    /// `X-Amz-Target` suffix (`TransactWriteItems`); `None`: every request.
    operation: Option<String>,
    /// Matching requests let through before the fault starts.
    skip: u32,
    remaining: u32,
}

#[derive(Clone)]
pub struct FaultProxy {
    pub endpoint: String,
    injected: Arc<Mutex<Option<Injected>>>,
    hits: Arc<Mutex<u32>>,
    /// Requests read and not yet answered (a delayed one included).
    in_flight: Arc<std::sync::atomic::AtomicU32>,
}

/// Counts a request in flight until it is answered or dropped.
struct InFlight(Arc<std::sync::atomic::AtomicU32>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl FaultProxy {
    /// Starts on a free loopback port in front of `upstream`
    /// (`http://host:port`). Must be called inside a Tokio runtime.
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("proxy addr");
        let listener = TcpListener::from_std(std_listener).expect("tokio listener");
        let proxy = FaultProxy {
            endpoint: format!("http://{addr}"),
            injected: Arc::new(Mutex::new(None)),
            hits: Arc::new(Mutex::new(0)),
            in_flight: Arc::default(),
        };
        let shared = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if shared.refusing() {
                    *shared.hits.lock().unwrap() += 1;
                    drop(client);
                    continue;
                }
                let (upstream, shared) = (upstream.clone(), shared.clone());
                tokio::spawn(async move { shared.relay(client, &upstream).await });
            }
        });
        proxy
    }

    /// Every request from now on is delayed by `d` (zero: none).
    pub fn set_delay(&self, d: Duration) {
        if d.is_zero() {
            self.clear();
        } else {
            self.inject(Fault::Delay(d), None, u32::MAX);
        }
    }

    /// The next `times` requests for `operation` (every operation when
    /// `None`) meet `fault`.
    pub fn inject(&self, fault: Fault, operation: Option<&str>, times: u32) {
        self.inject_after(0, fault, operation, times);
    }

    /// As `inject`, once `skip` requests for `operation` have gone through:
    /// a long run interrupted part way.
    pub fn inject_after(&self, skip: u32, fault: Fault, operation: Option<&str>, times: u32) {
        *self.hits.lock().unwrap() = 0;
        *self.injected.lock().unwrap() = Some(Injected {
            fault,
            operation: operation.map(str::to_string),
            skip,
            remaining: times,
        });
    }

    /// Back to forwarding everything.
    pub fn clear(&self) {
        *self.injected.lock().unwrap() = None;
    }

    /// Requests (or connections, when refusing) the fault has hit since it
    /// was injected.
    pub fn hits(&self) -> u32 {
        *self.hits.lock().unwrap()
    }

    /// Waits until the fault has hit `n` requests; false past `limit`.
    pub async fn wait_hits(&self, n: u32, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while self.hits() < n {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Waits until no request is in flight (a delayed write has reached
    /// the server and been answered); false past `limit`.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while self.in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    fn refusing(&self) -> bool {
        matches!(
            &*self.injected.lock().unwrap(),
            Some(Injected { fault: Fault::Refuse, operation: None, remaining, .. }) if *remaining > 0
        )
    }

    /// The fault for a request whose head is `head`, counted.
    fn take(&self, head: &str) -> Option<Fault> {
        let mut injected = self.injected.lock().unwrap();
        let i = injected.as_mut()?;
        if i.remaining == 0 {
            return None;
        }
        if let Some(op) = &i.operation {
            let target = header(head, "x-amz-target").unwrap_or_default();
            if !target.ends_with(&format!(".{op}")) {
                return None;
            }
        }
        if i.skip > 0 {
            i.skip -= 1;
            return None;
        }
        if i.remaining != u32::MAX {
            i.remaining -= 1;
        }
        *self.hits.lock().unwrap() += 1;
        Some(i.fault.clone())
    }

    async fn relay(&self, client: TcpStream, upstream: &str) {
        let _ = client.set_nodelay(true);
        let (cr, mut cw) = client.into_split();
        let mut cr = BufReader::new(cr);
        let mut server: Option<(BufReader<tokio::net::tcp::OwnedReadHalf>, _)> = None;
        loop {
            let Some((head, body)) = read_message(&mut cr).await else {
                return;
            };
            self.in_flight
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _in_flight = InFlight(self.in_flight.clone());
            let fault = self.take(&head);
            let answer = match &fault {
                Some(Fault::Refuse) => return,
                Some(Fault::InternalError) => Some(canned(
                    "500 Internal Server Error",
                    "com.amazonaws.dynamodb.v20120810#InternalServerError",
                )),
                Some(Fault::Throttle) => Some(canned(
                    "400 Bad Request",
                    "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                )),
                Some(Fault::Delay(d)) => {
                    tokio::time::sleep(*d).await;
                    None
                }
                Some(Fault::CutResponse) | None => None,
            };
            if let Some(answer) = answer {
                if cw.write_all(&answer).await.is_err() {
                    return;
                }
                continue;
            }
            if server.is_none() {
                let Ok(s) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = s.set_nodelay(true);
                let (sr, sw) = s.into_split();
                server = Some((BufReader::new(sr), sw));
            }
            let Some((sr, sw)) = server.as_mut() else {
                return;
            };
            if sw.write_all(head.as_bytes()).await.is_err() || sw.write_all(&body).await.is_err() {
                return;
            }
            let Some((rhead, rbody)) = read_message(sr).await else {
                return;
            };
            if fault == Some(Fault::CutResponse) {
                let _ = cw.write_all(rhead.as_bytes()).await;
                let _ = cw.write_all(&rbody[..rbody.len() / 2]).await;
                let _ = cw.flush().await;
                return;
            }
            if cw.write_all(rhead.as_bytes()).await.is_err() || cw.write_all(&rbody).await.is_err()
            {
                return;
            }
        }
    }
}

fn canned(status: &str, error_type: &str) -> Vec<u8> {
    let body = format!(r#"{{"__type":"{error_type}","message":"injected by the test proxy"}}"#);
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// One HTTP/1.1 message: its head (through the blank line) and its body,
/// by `Content-Length` or chunked (kept chunked, as received).
async fn read_message<R: AsyncBufRead + Unpin>(r: &mut R) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = Vec::new();
    if let Some(len) = header(&head, "content-length") {
        body.resize(len.parse().ok()?, 0);
        r.read_exact(&mut body).await.ok()?;
    } else if header(&head, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size_line = String::new();
            r.read_line(&mut size_line).await.ok()?;
            body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).await.ok()?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    }
    Some((head, body))
}
