//! Builds the browser UI in `ui/` (npm dependencies from the lockfile, then esbuild) and lists
//! the bundled files for `src/ui` to embed, so `cargo run` and `cargo test` need no other step.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// Copy of the lockfile that `node_modules` was installed from.
const INSTALLED_STAMP: &str = "node_modules/.vedetta-installed-lock.json";

fn main() {
    let ui = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("ui");
    for input in ["src", "build.mjs", "package.json", "package-lock.json"] {
        println!("cargo::rerun-if-changed=ui/{input}");
    }
    println!("cargo::rerun-if-env-changed=VEDETTA_UI_DIST");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    // Packagers and offline builds can hand over a bundle made earlier by `node ui/build.mjs DIR`.
    let bundle = match env::var_os("VEDETTA_UI_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let bundle = out_dir.join("ui");
            install_dependencies(&ui);
            run(
                Command::new("node")
                    .arg("build.mjs")
                    .arg(&bundle)
                    .current_dir(&ui),
                "bundle the UI (node ui/build.mjs)",
            );
            bundle
        }
    };
    fs::write(out_dir.join("ui_assets.rs"), manifest(&bundle)).expect("write the UI asset list");
}

/// Runs `npm ci` when `node_modules` is missing or was installed from another lockfile.
/// Builds running at once (an editor's checker and a test run) take turns.
fn install_dependencies(ui: &Path) {
    let lock = fs::read(ui.join("package-lock.json")).expect("ui/package-lock.json is in the repo");
    let turn = fs::File::open(ui.join("package.json")).expect("ui/package.json is in the repo");
    turn.lock().expect("wait for another build's npm install");
    if fs::read(ui.join(INSTALLED_STAMP)).is_ok_and(|installed| installed == lock) {
        return;
    }
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(ui),
        "install the UI's npm dependencies (npm ci in ui/)",
    );
    fs::write(ui.join(INSTALLED_STAMP), lock).expect("record the installed lockfile");
}

fn run(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|err| {
        panic!("could not {what}: {err}. Install Node.js 18 or later with npm (apt-get install nodejs npm)")
    });
    assert!(status.success(), "could not {what}: {status}");
}

/// A Rust slice of every bundled file with its content type and a version tag for caching.
fn manifest(out: &Path) -> String {
    let mut files = Vec::new();
    collect(out, &mut files);
    files.sort();
    let mut list = String::from("pub(crate) static ASSETS: &[Asset] = &[\n");
    for file in files {
        let bytes = fs::read(&file).expect("read a bundled file");
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let name = file
            .strip_prefix(out)
            .expect("inside out dir")
            .to_string_lossy();
        writeln!(
            list,
            "    Asset {{ path: {name:?}, content_type: {:?}, etag: \"W/\\\"{:016x}\\\"\", bytes: include_bytes!({:?}) }},",
            content_type(&file),
            hasher.finish(),
            file.display().to_string(),
        )
        .expect("write to a string");
    }
    list.push_str("];\n");
    list
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read the bundle directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "text/plain; charset=utf-8",
    }
}
