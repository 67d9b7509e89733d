//! The real `vedetta serve` binary as a child process: started, watched, killed or stopped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// How long the binary may take to open its database and bind its port (a debug build on a
/// busy machine is slow to start).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a SIGTERM'd hub may take to drain; above the hub's own 10 s drain timeout.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Log lines kept for failure messages.
const TAIL_LINES: usize = 40;
const LISTENING: &str = "listening on http://";

/// A running `vedetta serve --no-mqtt` on a free port. Dropping it kills the process.
pub struct ChildHub {
    child: Child,
    addr: SocketAddr,
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl ChildHub {
    /// Starts the hub on `data_dir` with quotas off and waits until it listens.
    pub fn start(data_dir: &Path) -> ChildHub {
        ChildHub::start_with(data_dir, |_| {})
    }

    /// Starts the hub after letting the test add arguments or variables to its command line.
    pub fn start_with(data_dir: &Path, adjust: impl FnOnce(&mut Command)) -> ChildHub {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vedetta"));
        // The hub sees only the variables chosen here, never the developer's own.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("VEDETTA_")) {
            command.env_remove(name);
        }
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--no-mqtt",
                "--data-dir",
            ])
            .arg(data_dir)
            .env("VEDETTA_LOG", "info")
            .env("VEDETTA_LIMITS__REPORTS_PER_MINUTE_PER_IP", "0")
            .env("VEDETTA_LIMITS__REPORTS_PER_MINUTE_PER_DEVICE", "0")
            .env("VEDETTA_LIMITS__HTTP_REQUESTS_PER_SECOND_PER_IP", "0")
            .env("VEDETTA_WS__FRAMES_PER_SECOND", "0")
            .env("VEDETTA_WS__QUERIES_PER_MINUTE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        adjust(&mut command);
        let mut child = command.spawn().expect("start the vedetta binary");
        let stderr = child.stderr.take().expect("the child's stderr");
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let (addr_tx, addr_rx) = mpsc::channel();
        let kept = tail.clone();
        std::thread::spawn(move || {
            // Drained to the end, so the hub never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split(LISTENING).nth(1) {
                    let addr = addr.split_whitespace().next().unwrap_or_default();
                    let _ = addr_tx.send(addr.parse::<SocketAddr>());
                }
                let mut kept = kept.lock().unwrap();
                if kept.len() == TAIL_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let mut hub = ChildHub {
            child,
            // Replaced below; the hub is not usable before its address is known.
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tail,
        };
        hub.addr = match addr_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(addr)) => addr,
            Ok(Err(err)) => panic!("unreadable address in the log ({err}):\n{}", hub.log_tail()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = hub.child.wait().expect("wait for the hub");
                panic!(
                    "the hub exited ({status}) before listening:\n{}",
                    hub.log_tail()
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "the hub did not listen within {START_TIMEOUT:?}:\n{}",
                    hub.log_tail()
                )
            }
        };
        hub
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines the hub logged, for failure messages.
    pub fn log_tail(&self) -> String {
        let tail = self.tail.lock().unwrap();
        tail.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills the hub with SIGKILL, as a power cut or the OOM killer would, and reaps it.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL the hub");
        self.child.wait().expect("reap the killed hub");
    }

    /// Stops the hub with SIGTERM and returns how it exited; fails if it does not stop in time.
    pub fn terminate(&mut self) -> ExitStatus {
        assert!(signal(self.pid(), "-TERM"), "SIGTERM the hub");
        let (stopped_tx, stopped_rx) = mpsc::channel::<()>();
        let pid = self.pid();
        // The hub is not reaped while the watchdog can fire, so the pid is still the hub's.
        let watchdog = std::thread::spawn(move || {
            let late = stopped_rx.recv_timeout(STOP_TIMEOUT).is_err();
            if late {
                signal(pid, "-KILL");
            }
            late
        });
        let status = self.child.wait().expect("wait for the hub");
        let _ = stopped_tx.send(());
        let late = watchdog.join().expect("the watchdog thread");
        assert!(
            !late,
            "the hub did not stop within {STOP_TIMEOUT:?} of SIGTERM:\n{}",
            self.log_tail()
        );
        status
    }

    /// A `kB` field of `/proc/<pid>/status`, such as `VmRSS` (resident now) or `VmHWM` (peak).
    pub fn status_kb(&self, field: &str) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
        let prefix = format!("{field}:");
        status
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|value| value.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in kB in {path}:\n{status}"))
    }
}

impl Drop for ChildHub {
    fn drop(&mut self) {
        // A failed test never leaves a hub running; an exited one makes these no-ops.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal with kill(1); true if it was delivered.
fn signal(pid: u32, which: &str) -> bool {
    Command::new("kill")
        .arg(which)
        .arg(pid.to_string())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `vedetta users ARGS --data-dir DIR` with `stdin`; returns success and what it printed.
pub fn users_cli(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vedetta"))
        .arg("users")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// A client for a hub in another process.
pub fn http_client() -> reqwest::Client {
    choose_tls_provider();
    reqwest::Client::new()
}

/// A test whose hub runs in another process has no hub here to choose the TLS provider reqwest
/// needs, so it chooses it before building clients (the same one the hub uses).
pub fn choose_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
