//! The `savecorp` process itself: zero-configuration start, reuse, SIGTERM, bad configuration.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const BINARY: &str = env!("CARGO_BIN_EXE_savecorp-under-test");

/// `savecorp serve` with a clean environment: no DATABASE_URL, a port picked by the OS.
fn serve(data_dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("SAVECORP_DATA_DIR", data_dir)
        .env("SAVECORP_LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Waits for the "listening" log line and returns the address.
fn wait_for_address(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("stderr piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("address=").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send(address);
            }
        }
    });
    receiver
        .recv_timeout(Duration::from_secs(90))
        .expect("the server logs the address it listens on")
}

async fn wait_ready(address: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("http://{address}/readyz")).send().await {
            if response.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "/readyz never turned 200");
        // sleep-ok: poll interval of a bounded wait (/readyz is 200)
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM sent");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        // sleep-ok: poll interval of a bounded wait (the process exited)
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Postgres processes serving the cluster in `dir` (their command line names the data folder).
fn postgres_processes_for(dir: &Path) -> usize {
    let needle = dir.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains("postgres") && cmdline.contains(&needle))
        .count()
}

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("savecorp-cli-")
        .tempdir()
        .expect("temp dir");
    // As root the cluster runs as `postgres`, which must reach the folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

#[tokio::test]
async fn serve_with_an_empty_data_dir_creates_the_cluster_reuses_it_and_stops_it_on_sigterm() {
    let data = data_dir();

    let mut first = serve(data.path()).spawn().expect("server starts");
    let address = wait_for_address(&mut first);
    wait_ready(&address).await;
    let pg_version = data.path().join("pg/data/PG_VERSION");
    assert!(pg_version.exists(), "the cluster was created in <data>/pg");
    let created = std::fs::metadata(&pg_version)
        .expect("PG_VERSION")
        .modified()
        .expect("mtime");
    // Something written in the first run must still be there in the second.
    let marker = uuid::Uuid::new_v4().to_string();
    let pool = sqlx::PgPool::connect(&format!(
        "postgres:///savecorp?host={}&port=5432&user=postgres",
        data.path().join("pg").display()
    ))
    .await
    .expect("connect over the socket");
    sqlx::query("INSERT INTO checkpoints (name) VALUES ($1)")
        .bind(&marker)
        .execute(&pool)
        .await
        .expect("marker written");
    pool.close().await;

    let status = terminate(&mut first);
    assert!(status.success(), "clean exit after SIGTERM, got {status}");
    assert_eq!(
        postgres_processes_for(data.path()),
        0,
        "no postgres left running"
    );

    let mut second = serve(data.path()).spawn().expect("server starts again");
    let address = wait_for_address(&mut second);
    wait_ready(&address).await;
    let modified = std::fs::metadata(&pg_version)
        .expect("PG_VERSION")
        .modified()
        .expect("mtime");
    assert_eq!(
        created, modified,
        "the cluster was reused, not created again"
    );
    let pool = sqlx::PgPool::connect(&format!(
        "postgres:///savecorp?host={}&port=5432&user=postgres",
        data.path().join("pg").display()
    ))
    .await
    .expect("connect over the socket");
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM checkpoints WHERE name = $1")
        .bind(&marker)
        .fetch_one(&pool)
        .await
        .expect("marker read");
    assert_eq!(count, 1);
    pool.close().await;
    let status = terminate(&mut second);
    assert!(status.success());
    assert_eq!(postgres_processes_for(data.path()), 0);
}

/// Runs the command to completion and returns (exit success, non-empty stderr lines).
fn run_to_end(mut command: Command) -> (bool, Vec<String>) {
    let output = command.output().expect("runs");
    let lines = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    (output.status.success(), lines)
}

#[tokio::test]
async fn an_unusable_data_dir_is_one_clear_error_line() {
    let parent = data_dir();
    let file = parent.path().join("a-file");
    std::fs::write(&file, b"not a folder").expect("file");
    let (ok, lines) = run_to_end(serve(&file.join("var")));
    assert!(!ok);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("error: data folder"), "{lines:?}");
}

#[tokio::test]
async fn an_unreachable_database_url_is_one_clear_error_line_without_the_password() {
    let data = data_dir();
    let mut command = serve(data.path());
    command.env(
        "DATABASE_URL",
        "postgres://savecorp:sup3r-secret@127.0.0.1:1/savecorp",
    );
    let (ok, lines) = run_to_end(command);
    assert!(!ok);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("error: cannot connect to DATABASE_URL"),
        "{lines:?}"
    );
    assert!(
        !lines[0].contains("sup3r-secret"),
        "the password is never printed"
    );
    assert!(
        !data.path().join("pg").exists(),
        "no embedded cluster was created"
    );
}

#[tokio::test]
async fn a_port_in_use_is_one_clear_error_line_and_creates_nothing() {
    let data = data_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut command = serve(&data.path().join("var"));
    command.env(
        "SAVECORP_LISTEN",
        taken.local_addr().expect("addr").to_string(),
    );
    let (ok, lines) = run_to_end(command);
    assert!(!ok);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("error: cannot listen on"), "{lines:?}");
    assert!(!data.path().join("var").exists(), "nothing was created");
}

/// `savecorp <args>` with a clean environment and `settings`, run to its end: (exit code, stderr
/// lines).
fn run_with(
    args: &[&str],
    data_dir: &Path,
    settings: &[(&str, &str)],
) -> (Option<i32>, Vec<String>) {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("JWT_SECRET")
        .env("SAVECORP_DATA_DIR", data_dir)
        .env("SAVECORP_LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null());
    for (name, value) in settings {
        command.env(name, value);
    }
    let output = command.output().expect("runs");
    let lines = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    (output.status.code(), lines)
}

#[tokio::test]
async fn a_bad_setting_is_refused_before_anything_starts_with_one_line_naming_it_and_status_2() {
    let parent = data_dir();
    let data = parent.path().join("var");
    let short_secret = "s".repeat(31);
    let cases: [(&[&str], &str, &str, &str); 9] = [
        (&["serve"], "ARI_URL", "::nope", "error: invalid ARI_URL: "),
        (
            &["serve"],
            "ARI_URL",
            "ftp://pbx/ari",
            "error: invalid ARI_URL: ",
        ),
        (
            &["serve"],
            "SAVECORP_DEFAULT_COUNTRY_CODE",
            "abc",
            "error: invalid SAVECORP_DEFAULT_COUNTRY_CODE: ",
        ),
        (
            &["serve"],
            "JWT_SECRET",
            "a",
            "error: invalid JWT_SECRET: too short",
        ),
        (
            &["serve"],
            "JWT_SECRET",
            &short_secret,
            "error: invalid JWT_SECRET: too short",
        ),
        (
            &["serve"],
            "DATABASE_URL",
            "::nope:s3cret@",
            "error: invalid DATABASE_URL: ",
        ),
        (
            &["serve"],
            "SMTP_URL",
            "gopher://mail",
            "error: invalid SMTP_URL: ",
        ),
        (
            &["migrate"],
            "DATABASE_URL",
            "mysql://u:s3cret@host/db",
            "error: invalid DATABASE_URL: ",
        ),
        (
            &["projections", "status"],
            "SAVECORP_DB_CONNECTIONS",
            "0",
            "error: invalid SAVECORP_DB_CONNECTIONS: ",
        ),
    ];
    for (args, name, value, expected) in cases {
        let (code, lines) = run_with(args, &data, &[(name, value)]);
        assert_eq!(code, Some(2), "{args:?} {name}={value}: {lines:?}");
        assert_eq!(lines.len(), 1, "{args:?} {name}={value}: {lines:?}");
        assert!(lines[0].starts_with(expected), "{name}={value}: {lines:?}");
        if (name == "JWT_SECRET" || name == "DATABASE_URL") && value.len() > 8 {
            assert!(
                !lines[0].contains(value),
                "the value is never printed: {lines:?}"
            );
        }
        assert!(!data.exists(), "{name}={value}: nothing was created");
    }
}

#[tokio::test]
async fn a_jwt_secret_of_32_bytes_is_accepted() {
    let postgres = tests::TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let data = data_dir();
    let mut command = serve(data.path());
    command
        .env("DATABASE_URL", postgres.url(&database))
        .env("JWT_SECRET", "s".repeat(32));
    let mut child = command.spawn().expect("server starts");
    let address = wait_for_address(&mut child);
    wait_ready(&address).await;
    assert!(terminate(&mut child).success());
}

#[tokio::test]
async fn an_unreachable_database_url_is_named_once() {
    let data = data_dir();
    let (code, lines) = run_with(
        &["migrate"],
        data.path(),
        &[(
            "DATABASE_URL",
            "postgres://savecorp:sup3r-secret@127.0.0.1:1/savecorp",
        )],
    );
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        lines[0].matches("127.0.0.1:1").count(),
        1,
        "the target is named once: {lines:?}"
    );
    let cause = lines[0].rsplit(": ").next().unwrap_or_default();
    assert_eq!(
        lines[0].matches(cause).count(),
        1,
        "the cause is said once: {lines:?}"
    );
    assert!(!lines[0].contains("sup3r-secret"));
}

#[tokio::test]
async fn serve_help_lists_every_variable_the_readme_lists() {
    let output = Command::new(BINARY)
        .args(["serve", "--help"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let table = readme
        .split("## Configuration")
        .nth(1)
        .expect("a Configuration section")
        .split("\n## ")
        .next()
        .expect("section");
    let mut variables = Vec::new();
    for line in table.lines().filter(|line| line.starts_with("| `")) {
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        for name in first_cell.split('`').skip(1).step_by(2) {
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                variables.push(name.to_owned());
            }
        }
    }
    assert!(variables.len() > 20, "{variables:?}");
    let missing: Vec<&String> = variables
        .iter()
        .filter(|name| !help.contains(name.as_str()))
        .collect();
    assert!(missing.is_empty(), "serve --help does not list {missing:?}");
}
