//! The real `curity-dynamodb` binary, run with a temp config and a cleared
//! environment: only what a test passes reaches the SDK, so nothing leaks
//! in from the developer's machine (profiles, IMDS, real STS).

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_curity-dynamodb");

/// Environment for a child process. Starts hygienic: temp HOME and AWS
/// files that do not exist, IMDS disabled, STS pointed at a dead local
/// port unless the test sets it.
pub struct Env {
    pub home: TempDir,
    vars: Vec<(String, String)>,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Self {
        let home = tempfile::tempdir().expect("temp home");
        let h = home.path().to_path_buf();
        let mut env = Self {
            home,
            vars: Vec::new(),
        };
        env.set("PATH", std::env::var("PATH").unwrap_or_default());
        env.set("HOME", h.display().to_string());
        // `serve --embedded` keeps its state file in the temporary
        // directory: one per test.
        env.set("TMPDIR", h.display().to_string());
        env.set(
            "AWS_CONFIG_FILE",
            h.join("aws-config").display().to_string(),
        );
        env.set(
            "AWS_SHARED_CREDENTIALS_FILE",
            h.join("aws-credentials").display().to_string(),
        );
        env.set("AWS_EC2_METADATA_DISABLED", "true");
        env.set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
        env.set("RUST_LOG", "info,dynoxide=error");
        env
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.vars.retain(|(key, _)| key != k);
        self.vars.push((k.to_string(), v.into()));
        self
    }

    pub fn remove(&mut self, k: &str) -> &mut Self {
        self.vars.retain(|(key, _)| key != k);
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Writes the service's configuration file (`c.toml`).
    pub fn config(&self, toml: &str) -> PathBuf {
        self.write("c.toml", toml)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env_clear();
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
    }
}

/// Runs a CLI command to completion, without blocking the test's runtime
/// (fakes such as the IMDS endpoint run on it).
pub async fn run_cli(env: &Env, config: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    env.apply(&mut cmd);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.args(args);
    tokio::process::Command::from(cmd)
        .output()
        .await
        .expect("run curity-dynamodb")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running `curity-dynamodb serve`, killed on drop.
pub struct Service {
    child: Child,
    pub addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Starts `serve` on a free port with JSON logs; returns once the gRPC
    /// port is bound.
    pub async fn start(env: &Env, config: &Path, extra: &[&str]) -> Service {
        Self::start_on(env, config, "127.0.0.1:0", extra).await
    }

    /// `start` on another listen address.
    pub async fn start_on(env: &Env, config: &Path, listen: &str, extra: &[&str]) -> Service {
        let mut cmd = Command::new(BIN);
        env.apply(&mut cmd);
        cmd.env("CURITY_DYNAMODB_SERVER__LOG_FORMAT", "json");
        cmd.arg("--config")
            .arg(config)
            .arg("serve")
            .arg("--listen")
            .arg(listen)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn serve");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log lock").push(line);
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found = logs.lock().expect("log lock").iter().find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                let f = v.get("fields")?;
                (f.get("message")?.as_str()? == "serving gRPC")
                    .then(|| f.get("listen")?.as_str()?.parse().ok())
                    .flatten()
            });
            if let Some(addr) = found {
                return Service { child, addr, logs };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "serve exited with {status} before listening:\n{}",
                    logs.lock().expect("log lock").join("\n")
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not start listening:\n{}",
                logs.lock().expect("log lock").join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id, for reading its memory in `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("log lock").clone()
    }

    /// Log events (parsed JSON) whose message is `message`.
    pub fn events(&self, message: &str) -> Vec<serde_json::Value> {
        self.logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["message"] == message)
            .collect()
    }

    /// Sends SIGTERM and waits for the exit status, keeping the test's
    /// runtime free meanwhile (its gRPC connections must see the GOAWAY).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for serve") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
