//! The `vedetta` binary as an operator runs it: help, configuration errors, signals, logs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::json;

use crate::support::{MONTEVERDE, TIMEOUT, report};

fn vedetta() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vedetta"));
    // The tests choose every variable themselves.
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("VEDETTA_")) {
        command.env_remove(name);
    }
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("run vedetta");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn serve_help_explains_every_option_and_its_environment_twin() {
    let (code, help, _) = run(vedetta().args(["serve", "--help"]));

    assert_eq!(code, 0);
    for option in ["--data-dir", "--listen", "--mqtt", "--no-mqtt", "--config"] {
        assert!(help.contains(option), "{option} in:\n{help}");
    }
    for variable in [
        "VEDETTA_DATA_DIR",
        "VEDETTA_LISTEN",
        "VEDETTA_MQTT_URL",
        "VEDETTA_NO_MQTT",
        "VEDETTA_CONFIG",
    ] {
        assert!(help.contains(variable), "{variable} in:\n{help}");
    }
}

#[test]
fn a_bad_configuration_is_a_clear_error_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("listen = \"not-an-address\"\n", "listen"),
        ("lisen = \"127.0.0.1:80\"\n", "lisen"),
        ("[mqtt]\nurl = \"http://broker\"\n", "mqtt.url"),
        ("office = \"Bad Office!\"\n", "office"),
        ("[intake]\nmax_body_bytes = 10\n", "intake.max_body_bytes"),
        ("categories = []\n", "categories"),
        (
            "[ui]\ntile_url = \"https://tiles.example/tile.png\"\n",
            "ui.tile_url",
        ),
        ("[ui]\nemergency_number = \"+\"\n", "ui.emergency_number"),
        (
            "[ui]\nemergency_number = \"1 1 2\"\n",
            "ui.emergency_number",
        ),
        ("[limits\n", "TOML"),
    ];
    for (text, named) in cases {
        let file = dir.path().join("vedetta.toml");
        std::fs::write(&file, text).unwrap();

        let (code, _, stderr) = run(vedetta()
            .arg("serve")
            .arg("--config")
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path()));

        assert_eq!(code, 2, "{text}: {stderr}");
        assert!(stderr.contains(named), "{text}: {stderr}");
    }
    let (code, _, stderr) = run(vedetta().args(["serve", "--config", "/no/such/vedetta.toml"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such/vedetta.toml"), "{stderr}");
}

#[test]
fn flags_beat_variables_which_beat_the_file_which_beats_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vedetta.toml");
    std::fs::write(
        &file,
        "office = \"from-file\"\nlisten = \"127.0.0.1:7001\"\n[intake]\nmax_text_chars = 100\n",
    )
    .unwrap();

    let (code, shown, stderr) = run(vedetta()
        .args(["config", "--config"])
        .arg(&file)
        .args(["--listen", "127.0.0.1:7003"])
        .env("VEDETTA_LISTEN", "127.0.0.1:7002")
        .env("VEDETTA_OFFICE", "from-env")
        .env("VEDETTA_INTAKE__MAX_TEXT_CHARS", "300"));

    assert_eq!(code, 0, "{stderr}");
    assert!(shown.contains("office = \"from-env\""), "{shown}");
    assert!(shown.contains("listen = \"127.0.0.1:7003\""), "{shown}");
    assert!(shown.contains("max_text_chars = 300"), "{shown}");
    assert!(shown.contains("data_dir = \"./vedetta-data\""), "{shown}");
}

#[test]
fn a_mistyped_vedetta_variable_is_warned_about() {
    let (code, _, stderr) = run(vedetta().arg("config").env("VEDETTA_LISEN", "127.0.0.1:1"));

    assert_eq!(code, 0);
    assert!(stderr.contains("VEDETTA_LISEN"), "{stderr}");
}

/// The running binary, with its log lines arriving on a channel.
struct Served {
    child: Child,
    log_rx: mpsc::Receiver<String>,
}

impl Served {
    fn start(data_dir: &Path) -> (Served, String) {
        let mut child = vedetta()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--no-mqtt",
                "--data-dir",
            ])
            .arg(data_dir)
            .env("VEDETTA_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (log_tx, log_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = log_tx.send(line);
            }
        });
        let mut served = Served { child, log_rx };
        let line = served.wait_for_log("listening on http://");
        let address = line
            .split("listening on http://")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        (served, address)
    }

    /// Every line up to and including the first that contains `needle`.
    fn wait_for_log(&mut self, needle: &str) -> String {
        loop {
            let line = self
                .log_rx
                .recv_timeout(TIMEOUT)
                .unwrap_or_else(|_| panic!("no log line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn terminate(mut self) -> (i32, Vec<String>) {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        (
            status.code().unwrap_or(-1),
            self.log_rx.try_iter().collect(),
        )
    }
}

#[tokio::test]
async fn sigterm_drains_and_exits_zero_and_logs_carry_no_contact_details() {
    let dir = tempfile::tempdir().unwrap();
    let (served, address) = Served::start(dir.path());
    let mut body = report("signal-1", MONTEVERDE);
    body["text"] = json!("Secret text about Maria");

    let response = crate::support::child::http_client()
        .post(format!("http://{address}/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (code, log) = served.terminate();

    assert_eq!(code, 0, "{log:#?}");
    let log = log.join("\n");
    assert!(log.contains("report received"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    for personal in [
        "maria@example.org",
        "333 1234567",
        "Maria Rossi",
        "Secret text",
        "phone-1",
        "44.45",
    ] {
        assert!(
            !log.contains(personal),
            "the log leaks {personal:?}:\n{log}"
        );
    }
    let db = rusqlite::Connection::open(dir.path().join(vedetta::DATABASE_FILE)).unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM reports", [], |row| row.get(0))
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_backup_taken_while_the_hub_runs_holds_every_acknowledged_report() {
    let app = crate::support::TestApp::spawn().await;
    for n in 0..3 {
        assert_eq!(
            app.post_report(&report(&format!("backup-{n}"), MONTEVERDE))
                .await
                .status(),
            201
        );
    }
    let target = app.data_dir.path().join("copy.sqlite3");

    let (code, stdout, stderr) = run(vedetta()
        .arg("backup")
        .arg(&target)
        .arg("--data-dir")
        .arg(app.data_dir.path()));
    let (again, _, refused) = run(vedetta()
        .arg("backup")
        .arg(&target)
        .arg("--data-dir")
        .arg(app.data_dir.path()));

    assert_eq!(code, 0, "{stdout}{stderr}");
    let copy = rusqlite::Connection::open(&target).unwrap();
    let reports: i64 = copy
        .query_row("SELECT count(*) FROM reports", [], |row| row.get(0))
        .unwrap();
    assert_eq!(reports, 3);
    assert_ne!(again, 0, "an existing backup is never overwritten");
    assert!(refused.contains("already exists"), "{refused}");
}

#[test]
fn the_example_configuration_in_ops_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/vedetta.toml.example");

    let (code, shown, stderr) = run(vedetta().arg("config").arg("--config").arg(example));

    assert_eq!(code, 0, "{stderr}");
    assert!(shown.contains("people_at_risk"), "{shown}");
}

#[test]
fn vedetta_config_shows_no_secret() {
    let (code, shown, stderr) = run(vedetta()
        .arg("config")
        .env("VEDETTA_MQTT_URL", "mqtt://hub:broker-pass@127.0.0.1:1883")
        .env("VEDETTA_OUTBOX__EMAIL__PASSWORD", "smtp-pass")
        .env("VEDETTA_TELEGRAM__TOKEN", "123:bot-token")
        .env("VEDETTA_TELEGRAM__WEBHOOK_SECRET", "hook-secret")
        .env("VEDETTA_WHATSAPP__ACCESS_TOKEN", "EAAG-access")
        .env("VEDETTA_WHATSAPP__APP_SECRET", "app-secret")
        .env("VEDETTA_WHATSAPP__VERIFY_TOKEN", "verify-me"));
    assert_eq!(code, 0, "{stderr}");
    let secrets = [
        "broker-pass",
        "smtp-pass",
        "bot-token",
        "hook-secret",
        "EAAG-access",
        "app-secret",
        "verify-me",
    ];
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret} is shown");
    }
    assert_eq!(shown.matches("********").count(), secrets.len(), "{shown}");
}
