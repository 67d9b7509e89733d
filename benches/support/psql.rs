//! psql against the local PostgreSQL server the benchmarks measure PostGIS on (127.0.0.1, user
//! postgres): one command, optional stdin, the unaligned output or psql's error.

use std::io::Write;
use std::process::{Command, Stdio};

pub fn psql(database: &str, command: &str) -> Result<String, String> {
    psql_with_input(database, command, "")
}

/// Runs one psql command (with `input` on stdin) and returns its unaligned output.
pub fn psql_with_input(database: &str, command: &str, input: &str) -> Result<String, String> {
    let mut child = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", database])
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            command,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("psql: {err}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .map_err(|err| err.to_string())?;
    let output = child.wait_with_output().map_err(|err| err.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
