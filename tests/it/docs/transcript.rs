//! Transcripts: `$ ` commands run in order against one embedded server,
//! their output matched against what the document shows.

use std::{
    collections::HashMap,
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::BIN;

/// A `$ ` command (continuations joined) and the lines shown under it.
struct Step {
    command: String,
    expected: Vec<String>,
}

fn steps(block: &str, at: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut continuing = false;
    for line in block.lines() {
        if continuing {
            let step = out.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
            continuing = line.ends_with('\\');
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(Step {
                command: cmd.to_owned(),
                expected: Vec::new(),
            });
            continuing = cmd.ends_with('\\');
        } else {
            let step = out
                .last_mut()
                .unwrap_or_else(|| panic!("{at}: output before any `$ ` command"));
            step.expected.push(line.to_owned());
        }
    }
    out
}

/// A fresh embedded server and a working directory for one file.
pub(super) struct Session {
    dir: tempfile::TempDir,
    server: Child,
    ports: HashMap<String, String>,
    background: Vec<Child>,
}

impl Session {
    pub(super) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let json = free_port();
        let server = Command::new(BIN)
            .args(["serve", "--embedded", "--listen", "127.0.0.1:0"])
            .process_group(0)
            .env_clear()
            .envs(base_env(dir.path()))
            .env(
                "CURITY_DYNAMODB_JSON_DS__LISTEN",
                format!("127.0.0.1:{json}"),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap())
            .spawn()
            .unwrap();
        let mut session = Self {
            ports: HashMap::new(),
            background: Vec::new(),
            server,
            dir,
        };
        let state = session.dir.path().join("curity-dynamodb/embedded.json");
        let state = session.wait_for(|| {
            std::fs::read_to_string(&state)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        });
        let grpc = state["grpc"].as_str().unwrap().to_owned();
        session.ports.insert("127.0.0.1:50051".into(), grpc);
        session
            .ports
            .insert("127.0.0.1:50052".into(), format!("127.0.0.1:{json}"));
        session
    }

    /// Polls `ready` until it yields (the server writes its state once it
    /// serves); a server that exits first fails the test with its log.
    fn wait_for<T>(&mut self, mut ready: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = ready() {
                return v;
            }
            if let Ok(Some(status)) = self.server.try_wait() {
                panic!("the server exited ({status}): {}", self.log("server.log"));
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start: {}",
                self.log("server.log")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// Documented addresses become this session's; each other documented
    /// port gets a free one of its own.
    fn localize(&mut self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("127.0.0.1:5") {
            out.push_str(&rest[..i]);
            let tail = &rest[i + "127.0.0.1:".len()..];
            let digits = tail.chars().take_while(char::is_ascii_digit).count();
            let doc_addr = &rest[i..i + "127.0.0.1:".len() + digits];
            let ours = self
                .ports
                .entry(doc_addr.to_owned())
                .or_insert_with(|| format!("127.0.0.1:{}", free_port()))
                .clone();
            out.push_str(&ours);
            rest = &rest[i + doc_addr.len()..];
        }
        out.push_str(rest);
        out
    }

    pub(super) fn run_block(&mut self, block: &str, at: &str) {
        for step in steps(block, at) {
            let command = self.localize(&step.command);
            if let Some(cmd) = command.trim_end().strip_suffix('&') {
                self.start_background(cmd, at);
                continue;
            }
            let out = Command::new("bash")
                .arg("-c")
                .arg(format!("exec 2>&1\n{command}"))
                .current_dir(self.dir.path())
                .env_clear()
                .envs(base_env(self.dir.path()))
                .env("CURITY_DYNAMODB_ADDR", &self.ports["127.0.0.1:50051"])
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let actual = String::from_utf8_lossy(&out.stdout).into_owned();
            let expected: Vec<String> = step.expected.iter().map(|l| self.localize(l)).collect();
            let expected = trim_end_lines(expected);
            let shows_error = expected.iter().any(|l| l.starts_with("error:"));
            assert!(
                matches(&expected, &lines(&actual)),
                "{at}: `{}` printed\n{actual}\nbut the document shows\n{}",
                step.command,
                expected.join("\n")
            );
            assert_eq!(
                out.status.success(),
                !shows_error,
                "{at}: `{}` exited {} (the document shows {})",
                step.command,
                out.status,
                if shows_error { "a failure" } else { "success" }
            );
        }
        for mut child in self.background.drain(..) {
            stop(&mut child);
        }
    }

    fn start_background(&mut self, cmd: &str, at: &str) {
        let log = self
            .dir
            .path()
            .join(format!("background-{}.log", self.background.len()));
        let child = Command::new("bash")
            .arg("-c")
            .arg(cmd)
            .process_group(0)
            .current_dir(self.dir.path())
            .env_clear()
            .envs(base_env(self.dir.path()))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
            .spawn()
            .unwrap();
        self.background.push(child);
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let listen = words
            .windows(2)
            .find(|w| w[0] == "--listen")
            .map(|w| w[1].to_owned())
            .unwrap_or_else(|| panic!("{at}: a background command names its --listen address"));
        let addr: SocketAddr = listen.parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(addr).is_err() {
            let child = self.background.last_mut().unwrap();
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{at}: `{cmd}` exited ({status}): {}",
                    std::fs::read_to_string(log.with_extension("err")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "{at}: `{cmd}` never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for child in &mut self.background {
            stop(child);
        }
        stop(&mut self.server);
    }
}

/// SIGTERM to the child's process group (a background command runs in a
/// bash of its own), then waits for it.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// What commands see: this binary first on the PATH, nothing of the
/// developer's AWS or service environment.
fn base_env(tmp: &Path) -> Vec<(String, String)> {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = vec![
        ("PATH".to_owned(), path),
        ("TMPDIR".to_owned(), tmp.display().to_string()),
        ("HOME".to_owned(), tmp.display().to_string()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
    ];
    if let Ok(level) = std::env::var("RUST_BACKTRACE") {
        env.push(("RUST_BACKTRACE".into(), level));
    }
    env
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

pub(super) fn lines(text: &str) -> Vec<String> {
    trim_end_lines(text.lines().map(str::to_owned).collect())
}

fn trim_end_lines(mut lines: Vec<String>) -> Vec<String> {
    for line in &mut lines {
        line.truncate(line.trim_end().len());
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Expected lines against actual ones: `[..]` any text within a line, a
/// line `...` any number of lines.
pub(super) fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line_matches(first, line) && matches(rest, more)),
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}
