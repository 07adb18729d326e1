use proptest::prelude::*;

use super::*;

fn entry(path: &str, size: u64, mtime: i64, hash: Option<&str>) -> ManifestEntry {
    ManifestEntry {
        path: path.to_owned(),
        size,
        mtime,
        hash: hash.map(str::to_owned),
    }
}

fn tally(files: u64, bytes: u64) -> Tally {
    Tally { files, bytes }
}

#[test]
fn a_manifest_line_parses_with_or_without_hash() {
    assert_eq!(
        ManifestEntry::parse_json_line(
            r#"{"path":"a/b.txt","size":12,"mtime":1700000000,"hash":"abc"}"#
        ),
        Ok(entry("a/b.txt", 12, 1_700_000_000, Some("abc")))
    );
    assert_eq!(
        ManifestEntry::parse_json_line(
            r#"{"path":"c","size":0,"mtime":-5,"hash":null,"mode":420}"#
        ),
        Ok(entry("c", 0, -5, None))
    );
    assert_eq!(
        ManifestEntry::parse_json_line(r#"{"path":"d","size":1,"mtime":2}"#),
        Ok(entry("d", 1, 2, None))
    );
}

#[test]
fn a_bad_manifest_line_is_a_clear_error() {
    let cases = [
        ("", "EOF while parsing a value at column 0"),
        ("not json", "expected ident at column 2"),
        (r#"{"path":"a","size":-1,"mtime":0}"#, "invalid value"),
        (r#"{"size":1,"mtime":0}"#, "missing field `path`"),
        (r#"{"path":"a","size":1}"#, "missing field `mtime`"),
        (r#"{"path":"a","size":"1","mtime":0}"#, "invalid type"),
    ];
    for (line, fragment) in cases {
        match ManifestEntry::parse_json_line(line) {
            Err(ManifestError::InvalidLine(message)) => {
                assert!(message.contains(fragment), "{line:?}: {message}")
            }
            other => panic!("{line:?} gave {other:?}"),
        }
    }
    assert_eq!(
        ManifestEntry::parse_json_line(r#"{"path":"","size":1,"mtime":0}"#),
        Err(ManifestError::EmptyPath)
    );
}

#[test]
fn diff_classifies_created_modified_deleted_and_unchanged() {
    let old = vec![
        entry("a", 10, 1, Some("h1")),
        entry("b", 20, 1, None),
        entry("c", 30, 1, Some("h3")),
        entry("d", 40, 1, Some("h4")),
        entry("e", 50, 1, Some("h5")),
        entry("f", 60, 1, None),
    ];
    let new = vec![
        entry("a", 10, 1, Some("h1")), // unchanged
        entry("b", 25, 1, None),       // size changed
        entry("c", 30, 2, Some("h3")), // mtime changed
        entry("d", 40, 1, Some("x4")), // hash changed
        entry("e", 50, 1, None),       // hash missing: unchanged
        entry("g", 70, 1, None),       // created
    ];
    let summary = diff_sorted(old, new, 10).unwrap();
    assert_eq!(summary.created, tally(1, 70));
    assert_eq!(summary.modified, tally(3, 25 + 30 + 40));
    assert_eq!(summary.deleted, tally(1, 60));
    assert_eq!(summary.unchanged, tally(2, 60));
    let ranked: Vec<(ChangeKind, &str, u64)> = summary
        .largest_changes
        .iter()
        .map(|c| (c.kind, c.path.as_str(), c.size))
        .collect();
    assert_eq!(
        ranked,
        vec![
            (ChangeKind::Created, "g", 70),
            (ChangeKind::Deleted, "f", 60),
            (ChangeKind::Modified, "d", 40),
            (ChangeKind::Modified, "c", 30),
            (ChangeKind::Modified, "b", 25),
        ]
    );
}

#[test]
fn only_the_n_largest_changes_are_kept_ties_by_path() {
    let new: Vec<ManifestEntry> = ["e", "d", "c", "b", "a"]
        .iter()
        .zip([5, 7, 7, 1, 7])
        .map(|(path, size)| entry(path, size, 0, None))
        .collect();
    let summary = diff_unsorted(vec![], new, 2).unwrap();
    let paths: Vec<&str> = summary
        .largest_changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(paths, vec!["a", "c"]);
    assert_eq!(summary.created, tally(5, 27));
    assert!(diff_unsorted(vec![], vec![entry("a", 1, 0, None)], 0)
        .unwrap()
        .largest_changes
        .is_empty());
}

#[test]
fn unsorted_or_duplicated_input_is_refused() {
    let unsorted = vec![entry("b", 1, 0, None), entry("a", 1, 0, None)];
    assert_eq!(
        diff_sorted(vec![], unsorted, 1),
        Err(ManifestError::NotSorted {
            side: Side::New,
            previous: "b".to_owned(),
            path: "a".to_owned()
        })
    );
    let duplicated = vec![entry("a", 1, 0, None), entry("a", 2, 0, None)];
    assert_eq!(
        diff_sorted(duplicated.clone(), vec![], 1),
        Err(ManifestError::DuplicatePath {
            side: Side::Old,
            path: "a".to_owned()
        })
    );
    assert!(matches!(
        diff_unsorted(duplicated, vec![], 1),
        Err(ManifestError::DuplicatePath { .. })
    ));
    assert_eq!(
        ManifestError::DuplicatePath {
            side: Side::Old,
            path: "a".to_owned()
        }
        .to_string(),
        "previous manifest lists \"a\" twice"
    );
}

#[test]
fn byte_order_is_the_sort_order() {
    // 'Z' (0x5a) sorts before 'a' (0x61), and "a/b" before "a0" ('/' is 0x2f, '0' 0x30).
    let old = vec![
        entry("Z", 1, 0, None),
        entry("a/b", 1, 0, None),
        entry("a0", 1, 0, None),
    ];
    let summary = diff_sorted(old.clone(), old, 0).unwrap();
    assert_eq!(summary.unchanged, tally(3, 3));
}

#[test]
fn a_source_error_stops_the_stream_and_names_its_side() {
    let old: Vec<Result<ManifestEntry, String>> = vec![Ok(entry("a", 1, 0, None))];
    let new: Vec<Result<ManifestEntry, String>> = vec![
        Ok(entry("a", 1, 0, None)),
        Err("line 2: invalid".to_owned()),
    ];
    assert_eq!(
        try_diff_sorted(old, new, 1),
        Err(DiffError::Source(Side::New, "line 2: invalid".to_owned()))
    );
}

fn manifest_strategy() -> impl Strategy<Value = Vec<ManifestEntry>> {
    prop::collection::btree_map(
        "[a-d]{1,3}",
        (0u64..5, 0i64..2, prop::option::of("[xy]")),
        0..30,
    )
    .prop_map(|map| {
        map.into_iter()
            .map(|(path, (size, mtime, hash))| ManifestEntry {
                path,
                size,
                mtime,
                hash,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn every_entry_of_each_manifest_is_counted_once(
        old in manifest_strategy(),
        new in manifest_strategy(),
        top_n in 0usize..5,
    ) {
        let summary = diff_sorted(old.clone(), new.clone(), top_n).unwrap();
        let new_size = new.len() as u64;
        let old_size = old.len() as u64;
        prop_assert_eq!(summary.created.files + summary.modified.files + summary.unchanged.files, new_size);
        prop_assert_eq!(summary.deleted.files + summary.modified.files + summary.unchanged.files, old_size);
        let new_bytes: u64 = new.iter().map(|e| e.size).sum();
        prop_assert_eq!(summary.created.bytes + summary.modified.bytes + summary.unchanged.bytes, new_bytes);
        let changes = summary.created.files + summary.modified.files + summary.deleted.files;
        prop_assert_eq!(summary.largest_changes.len() as u64, changes.min(top_n as u64));
        let mut shuffled_old = old;
        shuffled_old.reverse();
        prop_assert_eq!(diff_unsorted(shuffled_old, new, top_n).unwrap(), summary);
    }
}
