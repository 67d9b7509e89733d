//! Independent clients the outbox is checked against, run as child processes: a webhook
//! receiver verifying with Python's `standardwebhooks`, a real SMTP server (aiosmtpd), and the
//! npm `web-push-testing` push service. Each prints JSON lines the test waits on.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

use serde_json::Value;

/// The venv with the pinned Python packages, made once per machine (and re-made when the
/// requirements change).
pub fn python() -> PathBuf {
    static READY: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut ready = READY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(python) = ready.as_ref() {
        return python.clone();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/test-venv");
    let requirements = root.join("tests/tools/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/tools/requirements.txt");
    let marker = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv));
        run(Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements));
        std::fs::write(&marker, &wanted).expect("write the venv marker");
    }
    let python = venv.join("bin/python");
    *ready = Some(python.clone());
    python
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        status.success(),
        "{command:?} failed ({status}); the tests need python3-venv and access to PyPI"
    );
}

/// A free port on loopback (bound and released: the tools bind it themselves).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process printing one JSON value per line. Waiting on it is async: the hub runs on
/// the test's own runtime and must go on while the test waits.
pub struct JsonLines {
    child: Child,
    lines: mpsc::UnboundedReceiver<Value>,
}

impl JsonLines {
    pub fn start(command: &mut Command) -> JsonLines {
        let mut child = command
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    let _ = tx.send(value);
                }
            }
        });
        JsonLines { child, lines }
    }

    /// The next line, within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Value> {
        timeout(within, self.lines.recv()).await.ok().flatten()
    }

    /// Lines until `count` matched `wanted` or `within` passed.
    pub async fn collect(
        &mut self,
        count: usize,
        within: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        let mut found = Vec::new();
        while found.len() < count {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) if wanted(&line) => found.push(line),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        found
    }

    /// Whatever arrives within `quiet` (to show that nothing more comes).
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut found = Vec::new();
        while let Ok(Some(line)) = timeout(quiet, self.lines.recv()).await {
            found.push(line);
        }
        found
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for JsonLines {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The webhook receiver on `port`; the first line says it listens.
pub async fn webhook_receiver(port: u16) -> JsonLines {
    python_tool("webhook_receiver.py", port).await
}

/// A real SMTP server on `port`.
pub async fn smtp_sink(port: u16) -> JsonLines {
    python_tool("smtp_sink.py", port).await
}

async fn python_tool(script: &str, port: u16) -> JsonLines {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tools")
        .join(script);
    let python = tokio::task::spawn_blocking(python)
        .await
        .expect("the venv is ready");
    let mut tool = JsonLines::start(Command::new(python).arg(&script).arg(port.to_string()));
    let ready = tool.next(Duration::from_secs(20)).await;
    let ready = ready.unwrap_or_else(|| panic!("{} did not start", script.display()));
    assert_eq!(ready["listening"], port);
    tool
}

/// The npm `web-push-testing` push service on `port`: it checks VAPID and decrypts payloads.
pub struct PushService {
    child: Child,
    pub port: u16,
}

impl PushService {
    pub fn start(port: u16) -> PushService {
        let server = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("ui/node_modules/web-push-testing/src/bin/server.js");
        let child = Command::new("node")
            .arg(server)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("start web-push-testing (ui/node_modules, npm ci)");
        PushService { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
