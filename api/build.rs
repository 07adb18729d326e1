//! Builds the web app (`web/`, see ARCHITECTURE.md) into `OUT_DIR/web` with npm and writes
//! `OUT_DIR/web_assets.rs`, the list of its files embedded by `src/webapp.rs`, so a deployed
//! server is one file. Without npm (or with `SAVECORP_SKIP_WEB=1`), or when the build fails,
//! the list is empty and `/` serves a page saying how to get the UI: the server still builds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let web = manifest.join("..").join("web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let dist = out.join("web");
    for input in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        // Only paths that exist: cargo reruns the script on every build for a missing one.
        if web.join(input).exists() {
            println!("cargo:rerun-if-changed={}", web.join(input).display());
        }
    }
    println!("cargo:rerun-if-env-changed=SAVECORP_SKIP_WEB");

    let outcome = if std::env::var_os("SAVECORP_SKIP_WEB").is_some_and(|value| value == "1") {
        Err("SAVECORP_SKIP_WEB=1".to_owned())
    } else {
        build(&web, &dist)
    };
    let files = match outcome {
        Ok(()) => {
            let mut files = Vec::new();
            list(&dist, &dist, &mut files);
            files.sort();
            files
        }
        Err(reason) => {
            println!("cargo:warning=the web app is not embedded ({reason}); `/` explains how to build it");
            Vec::new()
        }
    };
    let mut code = String::from("/// The web app's files: (URL path, contents).\n");
    code.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (url, path) in &files {
        writeln!(code, "    ({url:?}, include_bytes!({:?})),", path.display()).expect("write");
    }
    code.push_str("];\n");
    std::fs::write(out.join("web_assets.rs"), code).expect("write web_assets.rs");
}

/// `npm ci` when `web/node_modules` is missing, then `vite build` into `dist`.
fn build(web: &Path, dist: &Path) -> Result<(), String> {
    if !web.join("package.json").exists() {
        return Err("no web/ folder".into());
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    match Command::new(npm).arg("--version").output() {
        Ok(output) if output.status.success() => {}
        _ => return Err("npm not found: install Node.js 20+ and npm".into()),
    }
    if !web.join("node_modules").join(".package-lock.json").exists() {
        run(Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(web))?;
    }
    let _ = std::fs::remove_dir_all(dist);
    run(Command::new(npm)
        .args(["run", "build", "--", "--outDir"])
        .arg(dist)
        .arg("--emptyOutDir")
        .current_dir(web))?;
    if dist.join("index.html").exists() {
        Ok(())
    } else {
        Err("vite produced no index.html".into())
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|error| format!("{command:?}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().chain(stderr.lines()).rev().take(20) {
        println!("cargo:warning={line}");
    }
    Err(format!("{command:?} failed ({})", output.status))
}

/// Every file under `dir` as (`/relative/path`, absolute path).
fn list(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            list(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let url = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((format!("/{url}"), path));
        }
    }
}
