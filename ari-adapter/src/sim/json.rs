//! Wire details shared by the REST answers and the events: timestamps, causes, caller ids.

use chrono::{DateTime, Utc};

/// `2026-11-27T04:06:28.593+0000`: milliseconds and an offset without a colon, like Asterisk.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

pub(crate) fn now() -> String {
    timestamp(Utc::now())
}

/// `cause_txt` of `ChannelDestroyed` for a Q.850 cause (Asterisk's `ast_cause2str`).
pub(crate) fn cause_text(cause: i32) -> &'static str {
    match cause {
        1 => "Unallocated (unassigned) number",
        16 => "Normal Clearing",
        17 => "User busy",
        18 => "No user responding",
        19 => "User alerting, no answer",
        21 => "Call Rejected",
        26 => "Answered elsewhere",
        28 => "Invalid number format (addr incomplete)",
        31 => "Normal, unspecified",
        34 => "Circuit/channel congestion",
        38 => "Network out of order",
        58 => "Bearer capability not available",
        127 => "Interworking, unspecified",
        _ => "Unknown",
    }
}

/// The cause set by `DELETE /channels/{id}?reason=` (resource_channels.c).
pub(crate) fn reason_to_cause(reason: &str) -> Option<i32> {
    Some(match reason {
        "normal" => 16,
        "busy" => 17,
        "congestion" => 34,
        "no_answer" => 19,
        "timeout" => 18,
        "rejected" => 21,
        "unallocated" => 1,
        "normal_unspecified" => 31,
        "number_incomplete" => 28,
        "codec_mismatch" => 58,
        "interworking" => 127,
        "failure" => 38,
        "answered_elsewhere" => 26,
        _ => return None,
    })
}

/// `Queue <100>` → (`Queue`, `100`); `100` → (``, `100`).
pub(crate) fn parse_caller_id(text: &str) -> (String, String) {
    match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = text[..open].trim().trim_matches('"').to_owned();
            (name, text[open + 1..close].trim().to_owned())
        }
        _ => (String::new(), text.trim().to_owned()),
    }
}

/// `PJSIP/agent1` → (`PJSIP`, `agent1`), both non-empty.
pub(crate) fn split_endpoint(endpoint: &str) -> Option<(&str, &str)> {
    let (technology, resource) = endpoint.split_once('/')?;
    (!technology.is_empty() && !resource.is_empty()).then_some((technology, resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_an_offset_without_colon() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T04:06:28.593Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(timestamp(at), "2026-11-27T04:06:28.593+0000");
    }

    #[test]
    fn caller_ids_split_into_name_and_number() {
        assert_eq!(
            parse_caller_id("Queue <100>"),
            ("Queue".into(), "100".into())
        );
        assert_eq!(
            parse_caller_id("\"A B\" <+1555>"),
            ("A B".into(), "+1555".into())
        );
        assert_eq!(parse_caller_id("100"), (String::new(), "100".into()));
    }

    #[test]
    fn endpoints_need_a_technology_and_a_resource() {
        assert_eq!(split_endpoint("PJSIP/agent1"), Some(("PJSIP", "agent1")));
        assert_eq!(split_endpoint("agent1"), None);
        assert_eq!(split_endpoint("PJSIP/"), None);
    }
}
