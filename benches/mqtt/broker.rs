//! The bench's own Mosquitto: a free loopback port, a generated configuration, a temporary
//! persistence directory, and the office's window settings from `ops/mosquitto/vedetta.conf`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

const MOSQUITTO: &str = "/usr/sbin/mosquitto";
const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Broker {
    port: u16,
    _dir: TempDir,
    child: Option<Child>,
}

impl Broker {
    /// Starts a fresh broker; every part of the bench gets its own, so no session or retained
    /// message of one part loads the broker in another.
    pub fn start() -> Broker {
        let dir = tempfile::tempdir().expect("broker dir");
        // Mosquitto started as root drops to its own user, which must be able to write here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod broker dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(&config, config_text(port, &dir)).expect("write mosquitto.conf");
        let mut child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto is installed (apt-get install mosquitto)");
        let stderr = child.stderr.take().expect("stderr piped");
        // Owned before waiting, so a broker that fails to start is still killed on the panic.
        let broker = Broker {
            port,
            _dir: dir,
            child: Some(child),
        };
        wait_until_running(stderr);
        broker
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Resident memory of the broker process, from /proc.
    pub fn resident_bytes(&self) -> u64 {
        let Some(child) = &self.child else { return 0 };
        let statm = std::fs::read_to_string(format!("/proc/{}/statm", child.id()));
        statm
            .ok()
            .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |pages| pages * 4096)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The office's settings (`ops/mosquitto/vedetta.conf`) without logins and TLS: no Nagle,
/// persistence, a window of 20 messages in flight per client, and a queue that holds the
/// whole backlog.
fn config_text(port: u16, dir: &TempDir) -> String {
    format!(
        "listener {port} 127.0.0.1\n\
         allow_anonymous true\n\
         set_tcp_nodelay true\n\
         persistence true\n\
         persistence_location {dir}/\n\
         autosave_interval 30\n\
         persistent_client_expiration 30d\n\
         max_inflight_messages 20\n\
         max_queued_messages {queue}\n\
         max_packet_size 3178496\n\
         log_dest stderr\n\
         log_type error\nlog_type warning\nlog_type notice\nlog_type information\n",
        dir = dir.path().display(),
        queue = crate::backlog::REPORTS * 2,
    )
}

/// Reads the broker's log until it says it is running (or fails), then keeps draining it and
/// echoes its warnings and errors.
fn wait_until_running(stderr: std::process::ChildStderr) {
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent && (line.contains(" running") || line.contains("Error")) {
                let _ = ready_tx.send(line.clone());
                sent = true;
            } else if line.contains("Error") || line.contains("Warning") {
                eprintln!("mosquitto: {line}");
            }
        }
    });
    let line = ready_rx
        .recv_timeout(READY_TIMEOUT)
        .expect("mosquitto did not start in time");
    assert!(
        line.contains(" running"),
        "mosquitto failed to start: {line}"
    );
}
