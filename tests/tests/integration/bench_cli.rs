//! The benchmark binary's command line: `--help` prints its options instead of running.

use std::process::Command;

#[test]
fn bench_help_prints_the_options_and_runs_nothing() {
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--help")
        .output()
        .expect("bench --help runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Usage: bench [--quick] [--skip PARTS]"),
        "{stdout}"
    );
    assert!(!stdout.contains("P1 clients"), "it measured: {stdout}");

    let wrong = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--quik")
        .output()
        .expect("bench --quik runs");
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unknown argument `--quik`"));
}
