//! Where outbound requests may go: never to loopback, link-local or private addresses unless
//! an admin allowed it (for one webhook, or for listed networks in the configuration), and
//! only to http(s) URLs without credentials in them.

use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

use crate::problem::{ErrorCode, Problem};

/// Longest destination URL (push endpoints are a few hundred bytes).
const MAX_URL_BYTES: usize = 2048;

/// The networks the configuration allows beyond the public internet.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// Reads `outbox.allow_private_networks` entries: `10.1.2.3`, `10.0.0.0/8`, `::1`.
    pub fn parse(entries: &[String]) -> Result<AddressPolicy, String> {
        let allowed = entries
            .iter()
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is not an IP address or network (10.0.0.0/8)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    /// Whether a connection to `ip` may be made; `admin_allowed` is a destination's own allow.
    pub fn permits(&self, ip: IpAddr, admin_allowed: bool) -> bool {
        admin_allowed || is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Whether `url` points into a network the configuration allows (a push service or relay on
    /// the office's own network, or a test's stand-in).
    pub fn allows_private_host(&self, url: &Url) -> bool {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(name)) if is_local_name(name) => IpAddr::from([127, 0, 0, 1]),
            _ => return false,
        };
        self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Checks a destination URL when it is added; `field` names it in the refusal.
    pub fn check_url(&self, raw: &str, admin_allowed: bool, field: &str) -> Result<Url, Problem> {
        if raw.len() > MAX_URL_BYTES {
            return Err(Problem::with_field(
                ErrorCode::TooLong,
                field,
                format!(
                    "`{field}` has {} bytes; the limit is {MAX_URL_BYTES}",
                    raw.len()
                ),
            ));
        }
        let refuse = |why: String| Problem::with_field(ErrorCode::InvalidField, field, why);
        let url = Url::parse(raw).map_err(|err| {
            refuse(format!(
                "`{field}` is not a URL ({err}); send an absolute https:// URL"
            ))
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(refuse(format!(
                "`{field}` must be an https:// (or http://) URL, not {}:",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse(format!(
                "`{field}` must not carry a user name or password: remove them from the URL"
            )));
        }
        let private = match url.host() {
            None => return Err(refuse(format!("`{field}` has no host"))),
            Some(Host::Ipv4(ip)) => !self.permits(IpAddr::V4(ip), admin_allowed),
            Some(Host::Ipv6(ip)) => !self.permits(IpAddr::V6(ip), admin_allowed),
            // A local name is as private as the loopback address it stands for.
            Some(Host::Domain(name)) => {
                is_local_name(name) && !self.permits(IpAddr::from([127, 0, 0, 1]), admin_allowed)
            }
        };
        if private {
            return Err(refuse(format!(
                "`{field}` points at a loopback, link-local or private address; an admin must allow it explicitly"
            )));
        }
        Ok(url)
    }
}

/// Names that always mean this machine or its network.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
}

/// Whether `ip` is an ordinary internet address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            !(ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_documentation()
                || ip.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking (RFC 2544)
                || a >= 240)
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(ip.is_loopback()
                    || ip.is_unspecified()
                    || ip.is_multicast()
                    || ip.is_unique_local()
                    || ip.is_unicast_link_local()
                    || ip.segments()[0] == 0x2001 && ip.segments()[1] == 0x0db8)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_destinations_are_refused_unless_allowed() {
        let policy = AddressPolicy::default();
        for url in [
            "http://127.0.0.1/hook",
            "http://[::1]/hook",
            "http://10.1.2.3/hook",
            "http://192.168.1.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://localhost:8080/hook",
            "http://0.0.0.0/hook",
        ] {
            assert!(
                policy.check_url(url, false, "url").is_err(),
                "{url} must be refused"
            );
            assert!(
                policy.check_url(url, true, "url").is_ok(),
                "{url} is fine once an admin allows it"
            );
        }
        assert!(
            policy
                .check_url("https://hooks.example.org/vedetta", false, "url")
                .is_ok()
        );
        assert!(
            policy
                .check_url("ftp://hooks.example.org/", false, "url")
                .is_err()
        );
        assert!(
            policy
                .check_url("https://user:pw@hooks.example.org/", false, "url")
                .is_err()
        );
    }

    #[test]
    fn networks_listed_in_the_configuration_are_allowed() {
        let policy = AddressPolicy::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert!(policy.permits("127.0.0.1".parse().unwrap(), false));
        assert!(policy.permits("10.9.9.9".parse().unwrap(), false));
        assert!(!policy.permits("192.168.0.1".parse().unwrap(), false));
        assert!(AddressPolicy::parse(&["not an address".into()]).is_err());
    }
}
