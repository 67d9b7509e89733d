//! A real Mosquitto broker per test, on a free loopback port, with its own config and storage.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Broker {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
    /// Logins required, and the office ACL from `ops/` applied.
    secured: bool,
}

impl Broker {
    /// Starts `mosquitto` with persistence, so a restart keeps sessions and queued messages.
    pub fn start() -> Broker {
        let port = free_port();
        let dir = tempfile::tempdir().expect("broker dir");
        // Mosquitto started as root drops to its own user, which must be able to write here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod broker dir");
        let mut broker = Broker {
            port,
            dir,
            child: None,
            secured: false,
        };
        broker.launch();
        broker
    }

    /// A broker as an office runs it: each account logs in with its password, and
    /// `ops/mosquitto/vedetta.acl` decides what it may publish and read.
    pub fn start_secured(accounts: &[(&str, &str)]) -> Broker {
        let mut broker = Broker::not_started();
        let passwords = broker.dir.path().join("passwd");
        for (name, password) in accounts {
            let mut command = Command::new("mosquitto_passwd");
            if !passwords.exists() {
                command.arg("-c");
            }
            let status = command
                .arg("-b")
                .arg(&passwords)
                .arg(name)
                .arg(password)
                .status()
                .expect("mosquitto_passwd is installed with mosquitto");
            assert!(status.success(), "mosquitto_passwd for {name}");
        }
        // Mosquitto as root drops to its own user, which must read the password file.
        std::fs::set_permissions(&passwords, std::fs::Permissions::from_mode(0o644))
            .expect("chmod passwd");
        broker.secured = true;
        broker.launch();
        broker
    }

    /// A broker that is not running, with a port reserved for it: for "broker down at start".
    pub fn not_started() -> Broker {
        let dir = tempfile::tempdir().expect("broker dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod broker dir");
        Broker {
            port: free_port(),
            dir,
            child: None,
            secured: false,
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the broker cleanly (SIGTERM), so it saves its sessions to disk.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts (again) on the same port with the same storage.
    pub fn launch(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        let config = self.dir.path().join("mosquitto.conf");
        std::fs::write(&config, self.config_text()).expect("write mosquitto.conf");
        let mut child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto is installed (apt-get install mosquitto)");
        wait_until_running(child.stderr.take().expect("stderr piped"));
        self.child = Some(child);
    }

    fn config_text(&self) -> String {
        let access = if self.secured {
            format!(
                "allow_anonymous false\npassword_file {}/passwd\nacl_file {}/ops/mosquitto/vedetta.acl\n",
                self.dir.path().display(),
                env!("CARGO_MANIFEST_DIR"),
            )
        } else {
            "allow_anonymous true\n".to_owned()
        };
        format!(
            "listener {port} 127.0.0.1\n\
             {access}\
             persistence true\n\
             persistence_location {dir}/\n\
             autosave_interval 1\n\
             max_queued_messages 10000\n\
             max_inflight_messages 20\n\
             set_tcp_nodelay true\n\
             max_packet_size 1048576\n\
             log_dest stderr\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n",
            port = self.port,
            dir = self.dir.path().display()
        )
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

/// Reads the broker's log until it says it is running (or fails), then keeps draining it.
fn wait_until_running(stderr: std::process::ChildStderr) {
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent && (line.contains(" running") || line.contains("Error")) {
                let _ = ready_tx.send(line.clone());
                sent = true;
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

/// Debian installs it in /usr/sbin, which a normal user's PATH often lacks.
fn mosquitto_binary() -> &'static str {
    if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
