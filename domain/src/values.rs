//! Validated value types. Raw strings from the outside world are parsed once at the edge (the
//! api, the ARI adapter) into these types; from then on the type guarantees validity, so the
//! aggregates never see an invalid email, phone number or name.
//!
//! Every type serialises as a plain string and re-validates when deserialised.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A raw value that does not satisfy its type's rules. Its GraphQL code is `VALIDATION`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ValueError {
    /// Which field was invalid (`email`, `phone`, `name`, ...).
    pub field: &'static str,
    /// What is wrong with it, lowercase, no trailing period.
    pub message: String,
}

impl ValueError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// The stable error code (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        "VALIDATION"
    }
}

/// A previous and a new value of a field, recorded by events that change fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq> Change<T> {
    /// `Some(change)` when `to` differs from `from`, `None` when nothing changes.
    pub fn between(from: T, to: T) -> Option<Self> {
        if from == to {
            None
        } else {
            Some(Self { from, to })
        }
    }
}

/// Implements `Display`, `as_str`, and string serde (re-validating with `$parse`) for a
/// newtype around `String`.
macro_rules! string_value {
    ($name:ident, $parse:expr) => {
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                let parse: fn(&str) -> Result<$name, ValueError> = $parse;
                parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn has_control_chars(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// An email address: trimmed, domain lowercased (the local part keeps its case), at most 254
/// characters, with the RFC 5321 limits on the parts (local part up to 64, domain labels up to
/// 63 letters, digits or hyphens, at least two labels).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let invalid = |message: &str| ValueError::new("email", message);
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(invalid("must contain @"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before @ must be 1 to 64 characters"));
        }
        let local_char_ok =
            |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c);
        if !local.chars().all(local_char_ok)
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return Err(invalid("the part before @ contains invalid characters"));
        }
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid("the domain must contain a dot"));
        }
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if !labels.iter().all(label_ok) {
            return Err(invalid("the domain is not a valid host name"));
        }
        Ok(Self(format!("{local}@{domain}")))
    }
}

string_value!(EmailAddress, EmailAddress::parse);

/// A phone number in E.164 form: `+` then 8 to 15 digits, the first not 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Normalises a number as people write it. International numbers start with `+` or `00`
    /// (an `(0)` after the country code is dropped); national numbers lose their trunk prefix
    /// `0` and get `default_country_code` (digits, e.g. `"33"`, optionally with a `+`).
    /// Spaces, dots, hyphens, slashes and parentheses are ignored; letters are rejected.
    ///
    /// `+33 6 12 34 56 78`, `+33 (0)6 12 34 56 78`, `0033612345678` and `06 12 34 56 78`
    /// (default `33`) all become `+33612345678`.
    pub fn parse(input: &str, default_country_code: &str) -> Result<Self, ValueError> {
        let invalid = |message: &str| ValueError::new("phone", message);
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '/'))
            .collect();
        if compact.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if !compact
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')'))
        {
            return Err(invalid("may contain only digits, spaces and + ( ) . - /"));
        }
        if !parentheses_balanced(&compact) {
            return Err(invalid("parentheses are unbalanced"));
        }
        if compact.chars().skip(1).any(|c| c == '+') {
            return Err(invalid("+ may only start the number"));
        }
        let international = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"));
        let digits: String = match international {
            Some(rest) => rest.replacen("(0)", "", 1).replace(['(', ')'], ""),
            None => {
                let country = default_country_code
                    .strip_prefix('+')
                    .unwrap_or(default_country_code);
                if country.is_empty()
                    || country.len() > 3
                    || !country.chars().all(|c| c.is_ascii_digit())
                    || country.starts_with('0')
                {
                    return Err(invalid(
                        "a national number needs a valid default country code",
                    ));
                }
                let national = compact.replace(['(', ')'], "");
                let national = national.strip_prefix('0').unwrap_or(&national);
                format!("{country}{national}")
            }
        };
        if !(8..=15).contains(&digits.len()) {
            return Err(invalid("must have 8 to 15 digits with the country code"));
        }
        if digits.starts_with('0') {
            return Err(invalid("the country code must not start with 0"));
        }
        Ok(Self(format!("+{digits}")))
    }

    /// Parses a number that is already in E.164 form (`+` and digits only), as stored.
    pub fn parse_e164(input: &str) -> Result<Self, ValueError> {
        let valid = input
            .strip_prefix('+')
            .is_some_and(|digits| digits.chars().all(|c| c.is_ascii_digit()));
        if !valid {
            return Err(ValueError::new(
                "phone",
                "must be in E.164 form (+ and digits)",
            ));
        }
        Self::parse(input, "")
    }
}

string_value!(PhoneNumber, PhoneNumber::parse_e164);

/// Whether every `(` is closed by a `)` before the next `(` opens.
fn parentheses_balanced(text: &str) -> bool {
    let mut open = false;
    for c in text.chars() {
        match (c, open) {
            ('(', false) => open = true,
            (')', true) => open = false,
            ('(', true) | (')', false) => return false,
            _ => {}
        }
    }
    !open
}

/// A person's (or company's) display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ValueError::new("name", "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::new("name", "must be at most 200 characters"));
        }
        if has_control_chars(trimmed) {
            return Err(ValueError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

string_value!(PersonName, PersonName::parse);

/// A worker's avatar picture: an absolute `https://` URL (or `http://` for `localhost` /
/// `127.0.0.1`, for development), trimmed, at most 2000 characters, no whitespace or control
/// characters, with a host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        const FIELD: &str = "avatarUrl";
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ValueError::new(
                FIELD,
                "must not be empty (send null to clear)",
            ));
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(ValueError::new(FIELD, "must be at most 2000 characters"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::new(
                FIELD,
                "must not contain whitespace or control characters",
            ));
        }
        let lower = trimmed.to_ascii_lowercase();
        let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(ValueError::new(FIELD, "must be an https:// URL"));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        let host = if host_port.starts_with('[') {
            host_port
                .split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or_default()
        } else {
            host_port.split(':').next().unwrap_or_default().to_owned()
        };
        if host.is_empty() || host == "[]" {
            return Err(ValueError::new(FIELD, "must name a host"));
        }
        if !secure && !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err(ValueError::new(
                FIELD,
                "must be an https:// URL (http:// only for localhost)",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

string_value!(AvatarUrl, AvatarUrl::parse);

/// A phone endpoint as Asterisk names it: `TECH/resource`, e.g. `PJSIP/2001`; both parts made
/// of letters, digits, `_`, `.` and `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint(String);

impl Endpoint {
    pub const MAX_LEN: usize = 100;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        let part_ok = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        };
        match trimmed.split_once('/') {
            Some((tech, resource))
                if trimmed.len() <= Self::MAX_LEN && part_ok(tech) && part_ok(resource) =>
            {
                Ok(Self(trimmed.to_owned()))
            }
            _ => Err(ValueError::new(
                "endpoint",
                "must look like TECH/resource (e.g. PJSIP/2001)",
            )),
        }
    }

    /// The channel technology (`PJSIP`).
    pub fn technology(&self) -> &str {
        self.0.split_once('/').map_or("", |(tech, _)| tech)
    }

    /// The resource within the technology (`2001`).
    pub fn resource(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, resource)| resource)
    }
}

string_value!(Endpoint, Endpoint::parse);

/// The text of a request: 10 to 10 000 characters once trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestMessage(String);

impl RequestMessage {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        let chars = trimmed.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(ValueError::new("message", "must be 10 to 10000 characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

string_value!(RequestMessage, RequestMessage::parse);

/// Why a worker is paused: free text of 1 to 100 characters, or one of the reasons the system
/// sets itself ([`PauseReason::MISSED_OFFER`], [`PauseReason::PHONE_UNREACHABLE`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PauseReason(String);

impl PauseReason {
    pub const MAX_CHARS: usize = 100;
    /// Set when an offered call was not answered (no answer, busy, rejected).
    pub const MISSED_OFFER: &'static str = "missed_offer";
    /// Set when the worker's phone could not be reached.
    pub const PHONE_UNREACHABLE: &'static str = "phone_unreachable";

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ValueError::new("reason", "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::new("reason", "must be at most 100 characters"));
        }
        if has_control_chars(trimmed) {
            return Err(ValueError::new(
                "reason",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The reason of the automatic pause after a missed offer.
    pub fn missed_offer() -> Self {
        Self(Self::MISSED_OFFER.to_owned())
    }

    /// The reason of the automatic pause when the phone cannot be reached.
    pub fn phone_unreachable() -> Self {
        Self(Self::PHONE_UNREACHABLE.to_owned())
    }
}

string_value!(PauseReason, PauseReason::parse);

/// Implements `parse`, `as_str`, `Display` and snake_case string serde for a fieldless enum.
macro_rules! keyword_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// All values, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Parses the lowercase name (case-insensitive, surrounding spaces ignored).
            pub fn parse(input: &str) -> Result<Self, ValueError> {
                let wanted = input.trim().to_ascii_lowercase();
                match wanted.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ValueError::new(
                        $field,
                        concat!("must be one of: ", $($text, " "),+).trim_end(),
                    )),
                }
            }

            /// The lowercase name, as serialised.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum!(
    /// What a worker may do (PRODUCT §1).
    Role, "role", { Admin => "admin", Agent => "agent" }
);

keyword_enum!(
    /// How urgent a request is; sets its default due date (PRODUCT §5).
    Priority, "priority", { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
);

keyword_enum!(
    /// What kind of request it is (PRODUCT §5).
    RequestType, "request_type", {
        Question => "question",
        Incident => "incident",
        Problem => "problem",
        Task => "task",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_written_in_common_french_ways_normalise_to_the_same_e164() {
        for input in [
            "+33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "+33(0)612345678",
            "0033612345678",
            "00 33 6 12 34 56 78",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            " 0612345678 ",
        ] {
            let parsed = PhoneNumber::parse(input, "33").expect(input);
            assert_eq!(parsed.as_str(), "+33612345678", "input {input:?}");
        }
    }

    #[test]
    fn national_phone_numbers_take_the_default_country_code_with_or_without_plus() {
        let parsed = PhoneNumber::parse("020 7946 0018", "+44").expect("parses");
        assert_eq!(parsed.as_str(), "+442079460018");
        let parsed = PhoneNumber::parse("(555) 123-4567", "1").expect("parses");
        assert_eq!(parsed.as_str(), "+15551234567");
        let parsed = PhoneNumber::parse("+1 (555) 123-4567", "33").expect("parses");
        assert_eq!(parsed.as_str(), "+15551234567");
    }

    #[test]
    fn invalid_phone_numbers_are_rejected_with_the_phone_field() {
        for (input, country) in [
            ("", "33"),
            ("   ", "33"),
            ("06 12 AB 56 78", "33"),
            ("+33 6 12+34", "33"),
            ("+1234567", "33"),
            ("+1234567890123456", "33"),
            ("+0612345678", "33"),
            ("06 12 34 56 78", ""),
            ("06 12 34 56 78", "0"),
            ("06 12 34 56 78", "12a"),
            ("+33 6)12(345678", "33"),
            ("+33 (6 12 34 56 78", "33"),
            ("+33 ((0)6 12 34 56 78)", "33"),
            ("tel:+33612345678", "33"),
        ] {
            let error = PhoneNumber::parse(input, country).expect_err(input);
            assert_eq!(error.field, "phone");
            assert_eq!(error.code(), "VALIDATION");
        }
    }

    #[test]
    fn phone_numbers_serialise_as_e164_strings_and_reject_other_forms_when_read() {
        let number = PhoneNumber::parse("06 12 34 56 78", "33").expect("parses");
        let json = serde_json::to_string(&number).expect("serialises");
        assert_eq!(json, "\"+33612345678\"");
        let back: PhoneNumber = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, number);
        assert!(serde_json::from_str::<PhoneNumber>("\"0612345678\"").is_err());
        assert!(serde_json::from_str::<PhoneNumber>("\"+33 6 12 34 56 78\"").is_err());
    }

    #[test]
    fn email_addresses_are_trimmed_and_their_domain_lowercased() {
        let email = EmailAddress::parse("  Jane.Doe+tag@Example.COM ").expect("parses");
        assert_eq!(email.as_str(), "Jane.Doe+tag@example.com");
    }

    #[test]
    fn invalid_email_addresses_are_rejected() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b.".repeat(130));
        let long_label = format!("a@{}.com", "b".repeat(64));
        for input in [
            "",
            "plain",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane doe@example.com",
            ".jane@example.com",
            "jane.@example.com",
            "ja..ne@example.com",
            "jane@exa_mple.com",
            "jane@-example.com",
            "jane@example..com",
            "jane@example.com.",
            long_local.as_str(),
            long_total.as_str(),
            long_label.as_str(),
        ] {
            let error = EmailAddress::parse(input).expect_err(input);
            assert_eq!(error.field, "email", "input {input:?}");
        }
    }

    #[test]
    fn an_email_address_of_exactly_254_characters_is_accepted() {
        let domain = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(40)
        );
        let email = format!("{}@{domain}", "x".repeat(254 - 1 - domain.len()));
        assert_eq!(email.len(), 254);
        assert!(EmailAddress::parse(&email).is_ok());
        assert!(EmailAddress::parse(&format!("y{email}")).is_err());
    }

    #[test]
    fn person_names_are_trimmed_and_limited_to_200_characters_without_control_characters() {
        assert_eq!(
            PersonName::parse("  Zoé  ").expect("parses").as_str(),
            "Zoé"
        );
        assert!(PersonName::parse(&"é".repeat(200)).is_ok());
        assert!(PersonName::parse(&"é".repeat(201)).is_err());
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("Zo\u{7}é").is_err());
        assert!(PersonName::parse("Zo\né").is_err());
    }

    #[test]
    fn endpoints_need_a_technology_and_a_resource() {
        let endpoint = Endpoint::parse("PJSIP/2001").expect("parses");
        assert_eq!(endpoint.technology(), "PJSIP");
        assert_eq!(endpoint.resource(), "2001");
        assert!(Endpoint::parse("SIP/agent.one-2_b").is_ok());
        for input in [
            "",
            "PJSIP",
            "PJSIP/",
            "/2001",
            "PJSIP/20 01",
            "PJSIP/2001/x",
            "PJ SIP/1",
        ] {
            assert_eq!(Endpoint::parse(input).expect_err(input).field, "endpoint");
        }
    }

    #[test]
    fn request_messages_must_have_10_to_10000_characters_once_trimmed() {
        assert!(RequestMessage::parse("   short    ").is_err());
        assert!(RequestMessage::parse("ten chars!").is_ok());
        assert!(RequestMessage::parse(&"x".repeat(10_000)).is_ok());
        assert!(RequestMessage::parse(&"x".repeat(10_001)).is_err());
        assert!(RequestMessage::parse("line one\nline two").is_ok());
    }

    #[test]
    fn pause_reasons_are_free_text_of_1_to_100_characters() {
        assert_eq!(
            PauseReason::parse(" lunch ").expect("parses").as_str(),
            "lunch"
        );
        assert!(PauseReason::parse("").is_err());
        assert!(PauseReason::parse(&"x".repeat(101)).is_err());
        assert_eq!(PauseReason::missed_offer().as_str(), "missed_offer");
        assert_eq!(
            PauseReason::phone_unreachable().as_str(),
            "phone_unreachable"
        );
    }

    #[test]
    fn keyword_enums_parse_their_lowercase_names_and_serialise_as_them() {
        assert_eq!(Role::parse(" Admin ").expect("parses"), Role::Admin);
        assert_eq!(Priority::parse("urgent").expect("parses"), Priority::Urgent);
        assert_eq!(
            RequestType::parse("task").expect("parses"),
            RequestType::Task
        );
        assert_eq!(
            serde_json::to_string(&RequestType::Incident).expect("serialises"),
            "\"incident\""
        );
        let error = Priority::parse("critical").expect_err("not a priority");
        assert_eq!(error.field, "priority");
        assert_eq!(error.message, "must be one of: low normal high urgent");
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(&priority.to_string()), Ok(*priority));
        }
    }

    #[test]
    fn values_read_from_json_are_validated_again() {
        assert!(serde_json::from_str::<EmailAddress>("\"not an email\"").is_err());
        assert!(serde_json::from_str::<PersonName>("\"\"").is_err());
        assert!(serde_json::from_str::<Endpoint>("\"PJSIP\"").is_err());
        let name: PersonName = serde_json::from_str("\"Zoé\"").expect("deserialises");
        assert_eq!(name.to_string(), "Zoé");
    }

    #[test]
    fn a_change_exists_only_when_the_value_differs() {
        assert_eq!(Change::between(1, 1), None);
        assert_eq!(Change::between(1, 2), Some(Change { from: 1, to: 2 }));
    }

    #[test]
    fn an_avatar_url_is_https_or_http_on_localhost_with_a_host_and_bounded() {
        let ok = AvatarUrl::parse("  https://cdn.example.com/a/ada.png?s=64 ").expect("valid");
        assert_eq!(ok.as_str(), "https://cdn.example.com/a/ada.png?s=64");
        for good in [
            "http://localhost:5173/ada.png",
            "http://127.0.0.1/x.png",
            "HTTPS://Example.com",
        ] {
            assert!(AvatarUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "   ",
            "ftp://example.com/a.png",
            "javascript:alert(1)",
            "http://example.com/a.png",
            "http://localhost.evil.com/a.png",
            "https://",
            "https:///path",
            "https://exa mple.com/a.png",
            "https://example.com/\u{7}",
            "//example.com/a.png",
        ] {
            let error = AvatarUrl::parse(bad).expect_err(bad);
            assert_eq!(error.field, "avatarUrl", "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(AvatarUrl::MAX_LEN));
        assert!(AvatarUrl::parse(&long).is_err());
        let limit = format!(
            "https://example.com/{}",
            "a".repeat(AvatarUrl::MAX_LEN - 20)
        );
        assert!(AvatarUrl::parse(&limit).is_ok());
    }
}
