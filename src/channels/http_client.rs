//! The HTTP client of outbound channels (webhooks, Web Push): no redirects, no proxies, a
//! timeout on every request, and a resolver that refuses loopback, link-local and private
//! addresses unless the office allowed them, so a destination cannot be turned on the hub's
//! own network (SSRF), not even by a name that later resolves somewhere else.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Host;

use crate::model::Outcome;
use crate::outbox::AddressPolicy;

/// One request's limit, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Clients for destinations on the public internet, and for those an admin allowed anywhere.
#[derive(Clone)]
pub struct OutboundHttp {
    guarded: reqwest::Client,
    trusted: reqwest::Client,
    policy: AddressPolicy,
}

impl OutboundHttp {
    /// Clients whose every request ends within `REQUEST_TIMEOUT`.
    pub fn new(policy: AddressPolicy) -> anyhow::Result<OutboundHttp> {
        OutboundHttp::build(policy, Some(REQUEST_TIMEOUT))
    }

    /// Clients for the outbox's couriers, whose worker ends each send at the courier's
    /// deadline: one timer per lane rather than one per request.
    pub fn for_outbox(policy: AddressPolicy) -> anyhow::Result<OutboundHttp> {
        OutboundHttp::build(policy, None)
    }

    fn build(policy: AddressPolicy, timeout: Option<Duration>) -> anyhow::Result<OutboundHttp> {
        // One TLS provider for reqwest and lettre alike; set once, whoever comes first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let resolver = Arc::new(PolicyResolver {
            policy: policy.clone(),
        });
        Ok(OutboundHttp {
            guarded: builder(timeout).dns_resolver(resolver).build()?,
            trusted: builder(timeout).build()?,
            policy,
        })
    }

    /// The client for `url`, or why it may not be reached. An IP literal never meets the
    /// resolver, so it is checked here.
    pub fn client_for(
        &self,
        url: &reqwest::Url,
        admin_allowed: bool,
    ) -> Result<&reqwest::Client, Outcome> {
        if admin_allowed {
            return Ok(&self.trusted);
        }
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        match literal {
            Some(ip) if !self.policy.permits(ip, false) => Err(Outcome::Failed {
                error: "the destination is a loopback, link-local or private address".into(),
            }),
            _ => Ok(&self.guarded),
        }
    }
}

fn builder(timeout: Option<Duration>) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    let builder = match timeout {
        Some(timeout) => builder.timeout(timeout),
        None => builder,
    };
    builder
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_max_idle_per_host(256)
        .user_agent(concat!("vedetta/", env!("CARGO_PKG_VERSION")))
}

struct PolicyResolver {
    policy: AddressPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (host, policy) = (name.as_str().to_owned(), self.policy.clone());
        Box::pin(async move {
            let permitted: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| policy.permits(addr.ip(), false))
                .collect();
            if permitted.is_empty() {
                return Err(
                    "the destination resolves only to loopback, link-local or private addresses"
                        .into(),
                );
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// What an HTTP answer means for a delivery, the same for every HTTP channel.
pub fn outcome_of(status: reqwest::StatusCode, headers: &reqwest::header::HeaderMap) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    let error = format!("the destination answered {status}");
    match status.as_u16() {
        404 | 410 => Outcome::Gone { error },
        408 | 425 | 429 | 500..=599 => Outcome::Retry {
            error,
            after: retry_after(headers),
        },
        _ => Outcome::Failed { error },
    }
}

/// A request that got no answer: worth trying again.
pub fn outcome_of_error(err: &reqwest::Error) -> Outcome {
    let error = if err.is_timeout() {
        "the destination did not answer in time".to_owned()
    } else if err.is_connect() {
        "cannot connect to the destination".to_owned()
    } else {
        "the request failed before an answer".to_owned()
    };
    Outcome::Retry { error, after: None }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}
