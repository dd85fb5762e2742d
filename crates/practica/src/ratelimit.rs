//! Rate limits per client IP and per credential: keyed GCRA limiters (`governor`), checked by a
//! middleware before the request reaches its handler; over a limit, 429 with `Retry-After`.
//!
//! - The client IP is the peer address, or the rightmost `X-Forwarded-For` address when
//!   `trust_forwarded_for` says a proxy in front sets it (the entries left of it are whatever the
//!   client sent). IPv6 clients are counted by their /64, which one host usually holds whole.
//! - The credential is the `X-Api-Key`, or the bearer token. A token is counted under its own
//!   hash until it has authenticated once, then under the subject it authenticated as (the
//!   `Caller` extractor tells this module, so tokens are verified once and a caller's tokens
//!   share one budget). Nothing unverified names a budget: a forged token claiming someone's
//!   subject spends its own budget, not theirs.
//! - Health and metrics routes are not limited. Each 429 counts in
//!   `practica_rate_limited_total{scope="ip"|"key"}`.
//!
//! Memory is bounded: every `SWEEP_EVERY` checks a limiter drops the keys whose budget is full
//! again (indistinguishable from a new key), and one holding more than `MAX_KEYS` active keys
//! even then starts afresh (every budget full; logged).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::error::ApiError;

/// Routes never limited: probes and scrapes must get through to tell what is going on.
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/metrics"];
/// Active keys one limiter keeps before it starts afresh.
const MAX_KEYS: usize = 200_000;
/// Checks between two sweeps of stale keys.
const SWEEP_EVERY: u64 = 4096;
/// Tokens remembered with the subject they authenticated as.
const MAX_SUBJECTS: usize = 100_000;

/// The limits of one service (shared by its routes).
pub struct RateLimits {
    per_ip: Option<Keyed>,
    per_key: Option<Keyed>,
    trust_forwarded_for: bool,
    /// Keys are hashes (SipHash with this process's random keys): fixed-size whatever the
    /// credential's length, and not chosen by the client.
    hasher: std::collections::hash_map::RandomState,
    /// Bearer token hash → the budget of the subject it authenticated as.
    subjects: RwLock<HashMap<u64, u64>>,
}

/// A bearer token this middleware has not seen authenticate yet; the `Caller` extractor calls
/// `authenticated` when it does.
#[derive(Clone)]
pub struct Presented {
    token: u64,
    limits: Arc<RateLimits>,
}

impl Presented {
    /// The token authenticated as `subject`: from now on it spends the subject's budget.
    pub fn authenticated(&self, subject: &str) {
        let budget = self.limits.hasher.hash_one(("sub", subject));
        let mut subjects = self.limits.subjects.write().unwrap_or_else(|e| e.into_inner());
        if subjects.len() >= MAX_SUBJECTS {
            subjects.clear();
        }
        subjects.insert(self.token, budget);
    }
}

struct Keyed {
    scope: &'static str,
    quota: Quota,
    /// Replaced whole when it holds too many active keys.
    limiter: RwLock<Arc<DefaultKeyedRateLimiter<u64>>>,
    checks: AtomicU64,
}

impl Keyed {
    /// `per_sec` requests a second sustained, `burst` at once (0: as many as `per_sec`); none
    /// when `per_sec` is 0.
    fn new(scope: &'static str, per_sec: u32, burst: u32) -> Option<Keyed> {
        let rate = NonZeroU32::new(per_sec)?;
        let quota = Quota::per_second(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(rate));
        Some(Keyed {
            scope,
            quota,
            limiter: RwLock::new(Arc::new(RateLimiter::keyed(quota))),
            checks: AtomicU64::new(0),
        })
    }

    /// Spends one request of `key`'s budget; when it is spent, the whole seconds until the next
    /// request is allowed (at least 1).
    fn check(&self, key: u64) -> Result<(), u64> {
        let limiter = self.limiter.read().unwrap_or_else(|e| e.into_inner()).clone();
        let outcome = limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        });
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(&limiter);
        }
        outcome
    }

    fn sweep(&self, limiter: &Arc<DefaultKeyedRateLimiter<u64>>) {
        let before = limiter.len();
        limiter.retain_recent();
        let after = limiter.len();
        if after > MAX_KEYS {
            tracing::warn!(
                scope = self.scope,
                keys = after,
                "rate limiter holds too many active keys; starting afresh"
            );
            *self.limiter.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(RateLimiter::keyed(self.quota));
        } else if before > 1024 && after < before / 2 {
            limiter.shrink_to_fit();
        }
    }
}

impl RateLimits {
    pub fn new(config: &Config) -> Arc<RateLimits> {
        Arc::new(RateLimits {
            per_ip: Keyed::new("ip", config.rate_limit_per_ip_per_sec, config.rate_limit_per_ip_burst),
            per_key: Keyed::new(
                "key",
                config.rate_limit_per_key_per_sec,
                config.rate_limit_per_key_burst,
            ),
            trust_forwarded_for: config.trust_forwarded_for,
            hasher: Default::default(),
            subjects: RwLock::new(HashMap::new()),
        })
    }

    fn limited(scope: &'static str, retry_after: u64) -> Response {
        metrics::counter!("practica_rate_limited_total", "scope" => scope).increment(1);
        ApiError::TooManyRequests(retry_after).into_response()
    }
}

/// The middleware: `from_fn_with_state(RateLimits::new(&config), middleware)`.
pub async fn middleware(State(limits): State<Arc<RateLimits>>, mut req: Request, next: Next) -> Response {
    if (limits.per_ip.is_none() && limits.per_key.is_none()) || EXEMPT.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(per_ip) = &limits.per_ip {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let forwarded = if limits.trust_forwarded_for {
            forwarded_for(req.headers())
        } else {
            None
        };
        if let Some(ip) = forwarded.or(peer)
            && let Err(retry_after) = per_ip.check(limits.hasher.hash_one(("ip", client_key(ip))))
        {
            return RateLimits::limited(per_ip.scope, retry_after);
        }
    }
    if let Some(per_key) = &limits.per_key
        && let Some((credential, bearer)) = credential(req.headers())
    {
        let hash = limits.hasher.hash_one((bearer, credential));
        let learned = if bearer {
            limits
                .subjects
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&hash)
                .copied()
        } else {
            None
        };
        if bearer && learned.is_none() {
            req.extensions_mut().insert(Presented {
                token: hash,
                limits: limits.clone(),
            });
        }
        if let Err(retry_after) = per_key.check(learned.unwrap_or(hash)) {
            return RateLimits::limited(per_key.scope, retry_after);
        }
    }
    next.run(req).await
}

/// The presented credential, read as the `Caller` extractor reads it (so a header it ignores
/// cannot move a request to another budget): the `X-Api-Key` value, else the `Authorization`
/// bearer token (`true`); any other `Authorization` value counts as itself.
fn credential(headers: &HeaderMap) -> Option<(&str, bool)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(key) = header("x-api-key") {
        return Some((key, false));
    }
    let auth = header("authorization")?;
    match auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")) {
        Some(token) => Some((token.trim(), true)),
        None => Some((auth, false)),
    }
}

/// The rightmost `X-Forwarded-For` address (of the last such header): the one the proxy in front
/// appended. `host:port` and `[v6]:port` forms are read too.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// What a client is counted under: its IPv4 address, or its IPv6 /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_rightmost_forwarded_address_is_the_client() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            forwarded_for(&headers(&[("x-forwarded-for", "203.0.113.9")])),
            ip("203.0.113.9")
        );
        assert_eq!(
            forwarded_for(&headers(&[("x-forwarded-for", "1.1.1.1, 10.0.0.1,203.0.113.9 ")])),
            ip("203.0.113.9")
        );
        assert_eq!(
            forwarded_for(&headers(&[
                ("x-forwarded-for", "1.1.1.1"),
                ("x-forwarded-for", "198.51.100.7")
            ])),
            ip("198.51.100.7")
        );
        assert_eq!(
            forwarded_for(&headers(&[("x-forwarded-for", "198.51.100.7:4711")])),
            ip("198.51.100.7")
        );
        assert_eq!(
            forwarded_for(&headers(&[("x-forwarded-for", "[2001:db8::1]:443")])),
            ip("2001:db8::1")
        );
        assert_eq!(
            forwarded_for(&headers(&[("x-forwarded-for", "1.1.1.1, unknown")])),
            None
        );
        assert_eq!(forwarded_for(&headers(&[])), None);
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }

    #[test]
    fn the_credential_is_what_the_extractor_reads() {
        assert_eq!(
            credential(&headers(&[("x-api-key", "pk_a.b"), ("authorization", "Bearer t")])),
            Some(("pk_a.b", false))
        );
        assert_eq!(
            credential(&headers(&[("authorization", "Bearer  t ")])),
            Some(("t", true))
        );
        assert_eq!(
            credential(&headers(&[("authorization", "bearer t")])),
            Some(("t", true))
        );
        assert_eq!(
            credential(&headers(&[("authorization", "Basic x")])),
            Some(("Basic x", false))
        );
        assert_eq!(credential(&headers(&[])), None);
        // An X-Api-Key the extractor cannot read (not visible ASCII) is not the credential.
        let mut h = headers(&[("authorization", "Bearer t")]);
        h.insert("x-api-key", axum::http::HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(credential(&h), Some(("t", true)));
    }

    #[test]
    fn a_spent_budget_says_when_to_retry() {
        let keyed = Keyed::new("test", 1, 2).unwrap();
        assert!(keyed.check(1).is_ok());
        assert!(keyed.check(1).is_ok());
        assert_eq!(keyed.check(1), Err(1));
        assert!(keyed.check(2).is_ok(), "another key has its own budget");
        assert!(Keyed::new("off", 0, 10).is_none());
    }
}
