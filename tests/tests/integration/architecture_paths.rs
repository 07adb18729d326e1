//! ARCHITECTURE.md names files and folders as the way in ("find any behaviour in two hops"):
//! every path it names must exist. A pure file check, no server.
//!
//! What counts as a path: a `code span` or a link target that has a file extension
//! (`.rs`, `.md`, `.sql`, …), ends with `/`, or starts with a top-level folder of the
//! repository and has a `/`. A path that starts with a top-level folder (`api/src/…`,
//! `tests/tests/…`) must exist exactly there; a shorter one (`auth/watch.rs`, `sim/`) must be
//! the end of some path in the repository. Patterns (`*`, `{`, `<`), URLs and routes (`/…`)
//! are not paths.

use std::collections::BTreeSet;
use std::path::Path;

/// Every file and folder of the repository (relative, `/`-separated; folders end with `/`).
fn tree(root: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut files = BTreeSet::new();
    let mut folders = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).expect("the repository is readable");
        for entry in entries {
            let entry = entry.expect("a readable folder entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if matches!(name.as_str(), "target" | ".git" | "node_modules") {
                continue;
            }
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            if entry.file_type().expect("a file type").is_dir() {
                folders.insert(format!("{relative}/"));
                pending.push(path);
            } else {
                files.insert(relative);
            }
        }
    }
    (files, folders)
}

/// The candidate paths of a Markdown text: code spans and link targets.
fn named_paths(text: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (index, span) in text.split('`').enumerate() {
        if index % 2 == 1 && !span.contains(char::is_whitespace) {
            named.insert(span.to_owned());
        }
    }
    for part in text.split("](").skip(1) {
        if let Some(target) = part.split(')').next() {
            let target = target.split('#').next().unwrap_or_default();
            if !target.is_empty() && !target.contains(char::is_whitespace) {
                named.insert(target.to_owned());
            }
        }
    }
    named
}

const EXTENSIONS: &[&str] = &[
    ".rs", ".md", ".sql", ".toml", ".js", ".html", ".css", ".json", ".sh", ".yml", ".yaml",
];

/// The paths of `text` that do not exist in the repository at `root`.
fn missing_paths(root: &Path, text: &str) -> Vec<String> {
    let (files, folders) = tree(root);
    let top: BTreeSet<&str> = files
        .iter()
        .chain(folders.iter())
        .filter_map(|path| path.split('/').next())
        .collect();
    let ends_with = |set: &BTreeSet<String>, path: &str| {
        set.iter()
            .any(|known| known == path || known.ends_with(&format!("/{path}")))
    };
    let mut missing = Vec::new();
    for path in named_paths(text) {
        if path.contains(['*', '{', '}', '<', '>', '$', '…', ':', '?', '='])
            || path.starts_with('/')
        {
            continue;
        }
        let anchored = path.contains('/') && top.contains(path.split('/').next().unwrap_or(""));
        let exists = if EXTENSIONS.iter().any(|extension| path.ends_with(extension)) {
            if anchored {
                files.contains(&path)
            } else {
                ends_with(&files, &path)
            }
        } else if path.ends_with('/') {
            if anchored {
                folders.contains(&path)
            } else if path.trim_end_matches('/').contains('/') {
                // A path under a folder made at run time (`pg/users/`), not in the repository.
                continue;
            } else {
                ends_with(&folders, &path)
            }
        } else if anchored {
            files.contains(&path) || folders.contains(&format!("{path}/"))
        } else {
            continue;
        };
        if !exists {
            missing.push(path);
        }
    }
    missing
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = repository();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let missing = missing_paths(root, &text);
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn a_path_that_does_not_exist_is_reported() {
    let root = repository();
    let text = "the code map names `api/src/nowhere.rs`, `nowhere/`, `tests/nowhere/` and \
                [a link](NOWHERE.md), and also `ARCHITECTURE.md`, `auth/watch.rs`, \
                `/metrics`, `*_read_models.sql` and `pg/users/`";
    assert_eq!(
        missing_paths(root, text),
        vec![
            "NOWHERE.md".to_owned(),
            "api/src/nowhere.rs".to_owned(),
            "nowhere/".to_owned(),
            "tests/nowhere/".to_owned(),
        ]
    );
}
