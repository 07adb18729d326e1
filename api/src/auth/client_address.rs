//! The client address a request is throttled by: the TCP peer, or, behind a reverse proxy
//! that is trusted (`SAVECORP_TRUSTED_PROXY_HEADER` set, the peer one of
//! `SAVECORP_TRUSTED_PROXIES`), the address that proxy names in its header.
//!
//! A header of several addresses (`X-Forwarded-For: client, proxy1, proxy2`) is read from the
//! right: each proxy appends the address it received from, so the rightmost address that is
//! not itself a trusted proxy is the first one no trusted hop vouches for: the client. The
//! addresses to its left are the client's own claims and are ignored. With no header set, the
//! header is never read (a client could write any address into it).

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName};

/// An address range: an address and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// `192.0.2.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or range"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0-{bits}"))?,
            None => bits,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:192.0.2.1`, a dual-stack socket) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// How to find the client address of a request.
#[derive(Clone, Debug, Default)]
pub struct ClientAddressPolicy {
    /// The header a trusted proxy writes the client address into; `None`: the peer is the
    /// client.
    header: Option<HeaderName>,
    trusted: Vec<AddressRange>,
}

impl ClientAddressPolicy {
    /// `header`: a header name, or `None`; `trusted`: comma-separated addresses or ranges.
    pub fn parse(header: Option<&str>, trusted: &str) -> Result<Self, String> {
        let header = header
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                HeaderName::try_from(name.to_ascii_lowercase())
                    .map_err(|_| format!("`{name}` is not a header name"))
            })
            .transpose()?;
        let trusted = trusted
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(AddressRange::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { header, trusted })
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|range| range.contains(address))
    }

    /// The client address of a request from `peer` with `headers`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        let Some(header) = &self.header else {
            return peer;
        };
        if !self.is_trusted(peer) {
            return peer;
        }
        // Every value of the header, in order, as one list.
        let mut named: Vec<IpAddr> = Vec::new();
        for value in headers.get_all(header) {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for part in value.split(',') {
                match parse_forwarded_address(part) {
                    Some(address) => named.push(canonical(address)),
                    // An entry we cannot read: trust nothing to its left.
                    None => named.clear(),
                }
            }
        }
        let mut client = peer;
        for address in named.into_iter().rev() {
            client = address;
            if !self.is_trusted(address) {
                break;
            }
        }
        client
    }
}

/// One entry of a forwarding header: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443`,
/// `192.0.2.1:8080`.
fn parse_forwarded_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(address);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, _port) = text.rsplit_once(':')?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

impl ClientAddressPolicy {
    /// The policy of the trusted proxy settings in `config` (checked).
    pub fn from_config(config: &crate::auth::AuthConfig) -> Result<Self, String> {
        Self::parse(
            config.trusted_proxy_header.as_deref(),
            &config.trusted_proxies,
        )
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn without_a_configured_header_the_peer_is_the_client_whatever_the_request_says() {
        let policy = ClientAddressPolicy::parse(None, "127.0.0.1").expect("policy");
        assert_eq!(
            policy.client_address(ip("127.0.0.1"), &forwarded("203.0.113.9")),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_an_untrusted_peer_does_not() {
        let policy =
            ClientAddressPolicy::parse(Some("X-Forwarded-For"), "10.0.0.0/8, ::1").expect("policy");
        let cases = [
            ("10.1.2.3", "203.0.113.9", "203.0.113.9"),
            ("10.1.2.3", "198.51.100.1, 203.0.113.9", "203.0.113.9"),
            ("10.1.2.3", "203.0.113.9, 10.9.9.9", "203.0.113.9"),
            ("10.1.2.3", "10.9.9.9, 10.8.8.8", "10.9.9.9"),
            ("10.1.2.3", "garbage", "10.1.2.3"),
            ("10.1.2.3", "203.0.113.9:4711", "203.0.113.9"),
            ("::1", "[2001:db8::1]:443", "2001:db8::1"),
            ("192.0.2.50", "203.0.113.9", "192.0.2.50"),
            ("::ffff:10.1.2.3", "203.0.113.9", "203.0.113.9"),
        ];
        for (peer, header, client) in cases {
            assert_eq!(
                policy.client_address(ip(peer), &forwarded(header)),
                ip(client),
                "{peer} {header}"
            );
        }
        assert_eq!(
            policy.client_address(ip("10.1.2.3"), &HeaderMap::new()),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn bad_settings_are_refused_with_what_is_wrong() {
        assert!(ClientAddressPolicy::parse(Some("x-ok"), "10.0.0.0/33").is_err());
        assert!(ClientAddressPolicy::parse(Some("x-ok"), "nope").is_err());
        assert!(ClientAddressPolicy::parse(Some("bad header"), "").is_err());
        assert!(ClientAddressPolicy::parse(Some("x-ok"), "").is_ok());
    }
}
