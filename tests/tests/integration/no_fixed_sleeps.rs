//! A lint kept as a test: no fixed sleep in `tests/`. A test waits for an observable condition
//! with a deadline (`tests::wait`, the one place that sleeps: its poll interval), never a fixed
//! time; a `sleep(` anywhere else needs a `// sleep-ok: <reason>` comment on its line or in
//! the comment block right above it (a poll interval inside a bounded loop, a scenario's own
//! timing, a benchmark's duration), so that a new one is a decision, not an accident.

use std::path::{Path, PathBuf};

/// Where sleeping is the point: the poll interval of the bounded waits.
const ALLOWED: &[&str] = &["src/wait.rs"];
const MARKER: &str = "sleep-ok:";

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// The `sleep(` lines of `text` with no `sleep-ok:` reason (1-based line numbers).
fn unexplained_sleeps(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut unexplained = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if !line.contains("sleep(") || line.trim_start().starts_with("//") {
            continue;
        }
        let explained = |line: &str| {
            line.split_once(MARKER)
                .is_some_and(|(_, reason)| !reason.trim().is_empty())
        };
        let mut above = lines[..index]
            .iter()
            .rev()
            .take_while(|line| line.trim_start().starts_with("//"));
        if !explained(line) && !above.any(|line| explained(line)) {
            unexplained.push(index + 1);
        }
    }
    unexplained
}

#[test]
fn no_fixed_sleep_in_the_tests_without_a_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    assert!(files.len() > 20, "the tests' sources are found: {files:?}");
    let this_file = Path::new(file!()).file_name().expect("a file name");
    let mut offenders = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root).expect("under the crate");
        if ALLOWED.iter().any(|allowed| relative == Path::new(allowed))
            || file.file_name() == Some(this_file)
        {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("a readable file");
        for line in unexplained_sleeps(&text) {
            offenders.push(format!("{}:{line}", relative.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "a fixed sleep: wait for an observable condition with `tests::wait` instead (or say \
         why it must sleep with a `// sleep-ok: <reason>` comment): {offenders:#?}"
    );
}

#[test]
fn the_lint_finds_a_bare_sleep_and_accepts_a_reason() {
    let bare = "fn f() {\n    tokio::time::sleep(Duration::from_millis(300)).await;\n}\n";
    assert_eq!(unexplained_sleeps(bare), vec![2]);
    let explained = "    // sleep-ok: the scenario holds the lock a while\n    \
                     std::thread::sleep(Duration::from_millis(50));\n";
    assert_eq!(unexplained_sleeps(explained), Vec::<usize>::new());
    let empty_reason = "    // sleep-ok:\n    std::thread::sleep(Duration::from_millis(50));\n";
    assert_eq!(unexplained_sleeps(empty_reason), vec![2]);
}
