//! Italy's real zones (`../shared/data/italy`): 20 regions, 107 provinces and 7,899
//! municipalities, imported by the real CLI as an office would.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn shared_data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/italy")
        .join(file)
}

/// Runs `vedetta zones ...` against `data_dir`; returns (success, stdout + stderr).
pub fn zones_cli(data_dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_vedetta"))
        .arg("zones")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run vedetta");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Imports the three Italian levels into `data_dir`, as the README tells an office to.
pub fn import_italy(data_dir: &Path) {
    let levels = [
        ("regions", "region", "reg_istat_code", "reg_name", None, 20),
        (
            "provinces",
            "province",
            "prov_istat_code",
            "prov_name",
            Some("reg_istat_code"),
            107,
        ),
        (
            "municipalities",
            "municipality",
            "com_istat_code",
            "name",
            Some("prov_istat_code"),
            7899,
        ),
    ];
    for (file, level, id, name, parent, count) in levels {
        let path = shared_data(&format!("{file}.geojson.gz"));
        let mut args = vec!["import", path.to_str().unwrap(), "--level", level];
        args.extend(["--id-prop", id, "--name-prop", name]);
        if let Some(parent) = parent {
            args.extend(["--parent-prop", parent]);
        }
        let (ok, out) = zones_cli(data_dir, &args);
        assert!(ok, "{out}");
        assert!(out.contains(&format!("imported {count} zones")), "{out}");
    }
}
