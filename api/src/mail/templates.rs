//! The text of every mail, as plain text and HTML (values escaped). Pure functions of what the
//! events say; never an ingest token.

use chrono::{DateTime, Utc};
use domain::backup_run::{ChangeKind, RunResult};

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Plain lines to a simple HTML document (each line a paragraph line, escaped).
fn html_of(title: &str, lines: &[String]) -> String {
    let mut html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\
         <h1>{}</h1>",
        escape(title),
        escape(title)
    );
    html.push_str("<pre style=\"font-family: sans-serif\">");
    for line in lines {
        html.push_str(&escape(line));
        html.push('\n');
    }
    html.push_str("</pre></body></html>\n");
    html
}

fn text_of(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// `1 234 567 bytes (1.2 MB)`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {} ({count} bytes)", UNITS[unit])
    }
}

/// `1h 02m 03s`.
pub fn duration(secs: u64) -> String {
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 {
        format!("{hours}h {minutes:02}m {seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// After each successful run.
pub fn run_report(
    customer: &str,
    finished_at: DateTime<Utc>,
    duration_secs: Option<u64>,
    result: &RunResult,
) -> Rendered {
    let subject = format!("Backup succeeded: {customer}");
    let mut lines = vec![
        format!(
            "The backup of {customer} succeeded at {}.",
            when(finished_at)
        ),
        format!(
            "Duration: {}",
            duration_secs.map_or("unknown (no start reported)".into(), duration)
        ),
        String::new(),
    ];
    match result {
        RunResult::Manifest {
            entries,
            bytes: total,
            changes,
            ..
        } => {
            lines.push(format!("Files: {entries}, {}", bytes(*total)));
            match changes {
                None => lines.push("First backup with a manifest: nothing to compare.".into()),
                Some(changes) => {
                    lines.push(format!(
                        "Created: {} files, {}",
                        changes.created,
                        bytes(changes.created_bytes)
                    ));
                    lines.push(format!(
                        "Modified: {} files, {}",
                        changes.modified,
                        bytes(changes.modified_bytes)
                    ));
                    lines.push(format!(
                        "Deleted: {} files, {}",
                        changes.deleted,
                        bytes(changes.deleted_bytes)
                    ));
                    lines.push(format!(
                        "Unchanged: {} files, {}",
                        changes.unchanged,
                        bytes(changes.unchanged_bytes)
                    ));
                    if !changes.largest.is_empty() {
                        lines.push(String::new());
                        lines.push("Largest changes:".into());
                        for change in &changes.largest {
                            let kind = match change.kind {
                                ChangeKind::Created => "created",
                                ChangeKind::Modified => "modified",
                                ChangeKind::Deleted => "deleted",
                            };
                            lines.push(format!(
                                "  {kind} {} ({})",
                                change.path,
                                bytes(change.bytes)
                            ));
                        }
                    }
                }
            }
        }
        RunResult::ToolStats(stats) => {
            lines.push(format!(
                "Files: {} new, {} changed, {} unmodified",
                stats.files_new, stats.files_changed, stats.files_unmodified
            ));
            lines.push(format!(
                "Processed: {} files, {}",
                stats.total_files_processed,
                bytes(stats.total_bytes_processed)
            ));
            lines.push(format!("Data added: {}", bytes(stats.data_added)));
            if let Some(snapshot) = &stats.snapshot_id {
                lines.push(format!("Snapshot: {snapshot}"));
            }
        }
        RunResult::Plain => lines.push("No details were reported.".into()),
    }
    Rendered {
        html: html_of(&subject, &lines),
        text: text_of(&lines),
        subject,
    }
}

/// The customer's backups went down.
pub fn overdue(customer: &str, expected_at: DateTime<Utc>, at: DateTime<Utc>) -> Rendered {
    let subject = format!("Backup overdue: {customer}");
    let lines = vec![
        format!(
            "The backup of {customer} expected at {} has not arrived.",
            when(expected_at)
        ),
        format!("Marked overdue at {}.", when(at)),
        String::new(),
        "A follow-up request was opened for our team.".into(),
        "Please check that the backup job is running.".into(),
    ];
    Rendered {
        html: html_of(&subject, &lines),
        text: text_of(&lines),
        subject,
    }
}

/// Most characters of a failed run's output quoted in its alert.
const QUOTED_OUTPUT_CHARS: usize = 4_000;

/// A run failed: the backups are down.
pub fn failed(
    customer: &str,
    failed_at: DateTime<Utc>,
    exit_status: Option<i32>,
    message: Option<&str>,
) -> Rendered {
    let subject = format!("Backup failed: {customer}");
    let mut lines = vec![format!(
        "A backup run of {customer} failed at {}.",
        when(failed_at)
    )];
    if let Some(status) = exit_status {
        lines.push(format!("Exit status: {status}"));
    }
    if let Some(message) = message.map(str::trim).filter(|text| !text.is_empty()) {
        let skip = message.chars().count().saturating_sub(QUOTED_OUTPUT_CHARS);
        lines.push(String::new());
        lines.push("End of the run's output:".into());
        lines.extend(
            message
                .chars()
                .skip(skip)
                .collect::<String>()
                .lines()
                .map(|line| format!("  {line}")),
        );
    }
    lines.push(String::new());
    lines.push("A follow-up request was opened for our team.".into());
    lines.push("Please check the backup job; the next successful run clears this alert.".into());
    Rendered {
        html: html_of(&subject, &lines),
        text: text_of(&lines),
        subject,
    }
}

/// A success after being down (overdue or failed).
pub fn recovered(customer: &str, downtime_secs: u64, at: DateTime<Utc>) -> Rendered {
    let subject = format!("Backup recovered: {customer}");
    let lines = vec![
        format!("The backups of {customer} are back: a run succeeded."),
        format!("Recovered at {}.", when(at)),
        format!("Downtime: {}", duration(downtime_secs)),
    ];
    Rendered {
        html: html_of(&subject, &lines),
        text: text_of(&lines),
        subject,
    }
}

/// A new ingest token: how to report runs (the token itself is given to the admin once, never
/// mailed).
pub fn welcome(customer: &str, public_url: &str, hash_prefix: &str) -> Rendered {
    let subject = format!("Backup monitoring is set up: {customer}");
    let mut lines = vec![
        format!("Backup monitoring is set up for {customer}."),
        format!("A new ingest token was issued (fingerprint {hash_prefix})."),
        "Your account manager gives you the token; keep it secret.".into(),
        String::new(),
        "Report each backup run from your backup script:".into(),
        String::new(),
        "  TOKEN=<your ingest token>".into(),
        "  RID=$(date +%s)".into(),
    ];
    let base = format!("{public_url}/ping/$TOKEN");
    lines.push(format!("  curl -fsS -X POST \"{base}/start?rid=$RID\""));
    lines.push(format!(
        "  restic backup /data --json | curl -fsS --data-binary @- \"{base}?rid=$RID\""
    ));
    lines.push(format!(
        "  # on failure: curl -fsS --data-binary @error.log \"{base}/fail?rid=$RID\""
    ));
    lines.push(String::new());
    lines.push("Instead of restic output you may send a manifest, one JSON line per file:".into());
    lines.push(
        "  {\"path\":\"/data/a.txt\",\"size\":123,\"mtime\":1700000000,\"hash\":\"...\"}".into(),
    );
    lines.push(format!(
        "Or send the exit status of your job: {base}/<exit status>"
    ));
    Rendered {
        html: html_of(&subject, &lines),
        text: text_of(&lines),
        subject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_html_and_kept_in_text() {
        let rendered = recovered("<b>Acme & Co</b>", 3723, Utc::now());
        assert!(rendered.html.contains("&lt;b&gt;Acme &amp; Co&lt;/b&gt;"));
        assert!(!rendered.html.contains("<b>Acme"));
        assert!(rendered.text.contains("<b>Acme & Co</b>"));
        assert!(rendered.text.contains("Downtime: 1h 02m 03s"));
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB (1500000 bytes)");
    }
}
