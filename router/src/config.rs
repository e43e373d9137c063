//! The router's configuration, read once from environment variables and checked before
//! anything starts. The names are the ones the Deployment clawctl renders sets
//! (`render::context::router_context`): `CLAWCTL_*` for the fleet, `ROUTER_*` for the
//! router's own settings.
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `CLAWCTL_FLEET` | the fleet's name | required |
//! | `CLAWCTL_FLEET_NAMESPACE` | the fleet's namespace (where the routes ConfigMap is) | `POD_NAMESPACE`, else required |
//! | `CLAWCTL_ROUTES_CONFIGMAP` | the routing table's ConfigMap | `<fleet>-routes` |
//! | `ROUTER_HTTP_ADDR` | the HTTP door's address (also `/healthz`, `/readyz`) | `0.0.0.0:8080` |
//! | `ROUTER_TRUSTED_PROXIES` | comma-separated IPs or CIDRs of the authenticating proxy; only these peers may post messages | none: `POST /v1/messages` answers 403 to everyone |
//! | `ROUTER_IDENTITY_HEADER` | the header the proxy puts the person's email in | `X-Forwarded-Email` (oauth2-proxy; `X-Auth-Request-Email` in its auth-request mode) |
//! | `ROUTER_MAX_MESSAGE_BYTES` | longest message text | `16384` |
//! | `ROUTER_RATE_PER_MINUTE` | messages per minute per person (0: no limit) | `20` |
//! | `ROUTER_RATE_BURST` | messages a person may send at once | `5` |
//! | `ROUTER_QUEUE_DEPTH` | messages that may wait behind the one in flight, per person | `5` |
//! | `ROUTER_TIMEOUT_SECONDS` | longest wait for an agent's answer | `300` |
//! | `ROUTER_DEDUP_WINDOW_SECONDS` | how long a delivery id is remembered | `600` |
//! | `ROUTER_IDLE_AFTER_SECONDS` | put an agent's Deployment to sleep after this long without a message (`routing.router.idleAfter`) | none: agents never sleep |
//! | `ROUTER_WAKE_TIMEOUT_SECONDS` | longest wait for a sleeping agent to wake | `300` |
//! | `ROUTER_NOTICE_NO_AGENT`, `_TOO_LONG`, `_RATE_LIMITED`, `_BUSY`, `_TIMED_OUT`, `_UNAVAILABLE`, `_WAKING`, `_SUSPENDED`, `_WAKE_TIMED_OUT` | the router's own replies | see `dispatch::Notices` |
//! | `ROUTER_LOG` | `debug`, `info` or `warn` | `info` |
//! | `CLAWCTL_SELF_SERVICE_BUNDLE` | turns on `/setup-agent`: the self-service bundle's ConfigMap (set by clawctl only with `spec.routing.selfService`) | off: `/setup-agent` makes nothing |
//! | `CLAWCTL_ROUTER_NAMESPACE` | the router's namespace (bundle and claims) | required with the bundle |
//! | `CLAWCTL_SELF_SERVICE_NAMESPACE` | the self-service team's namespace | required with the bundle |
//! | `ROUTER_SETUP_TIMEOUT_SECONDS` | longest wait for an agent made on request to be ready | `300` |
//! | `ROUTER_NOTICE_SETUP_OFF`, `_NOT_ADMITTED`, `_ALREADY`, `_READY`, `_NOT_READY`, `_FULL`, `_NEEDS_APPLY`, `_FAILED` | the `/setup-agent` replies (`{agent}`, `{max}` replaced) | see `provision::SetupNotices` |
//!
//! The Kubernetes client is configured as kube-rs does it: in-cluster, or `KUBECONFIG`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::dispatch::Notices;
use crate::idle::Settings as IdleSettings;
use crate::inbox::Limits;
use crate::log::Level;

/// Everything the router is told.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub fleet: String,
    pub namespace: String,
    pub routes_configmap: String,
    pub http_listen: SocketAddr,
    pub trusted_proxies: Vec<Cidr>,
    /// Lower-case header name.
    pub identity_header: http::HeaderName,
    pub limits: Limits,
    /// Sleeping and waking: `None` when agents never sleep.
    pub idle: Option<IdleSettings>,
    pub notices: Notices,
    pub log: Level,
    /// `/setup-agent`, with `spec.routing.selfService`.
    pub self_service: Option<SelfServiceConfig>,
}

/// Where self-service works and what it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfServiceConfig {
    pub router_namespace: String,
    /// The self-service team's namespace.
    pub team_namespace: String,
    pub timeout: Duration,
    pub notices: crate::provision::SetupNotices,
}

/// A configuration value that does not parse, named by its variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {why}")]
pub struct ConfigError {
    pub var: String,
    pub why: String,
}

fn err(var: &str, why: impl Into<String>) -> ConfigError {
    ConfigError {
        var: var.to_string(),
        why: why.into(),
    }
}

/// An address range: an IP and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `10.0.0.7`, `10.0.0.0/24`, `fd00::/8`.
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = ip.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the range; an IPv4-mapped IPv6 peer (`::ffff:10.0.0.7`, as a
    /// dual-stack listener reports IPv4 clients) counts as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the variables through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let required = |k: &str| var(k).ok_or_else(|| err(k, "is required"));
        fn number<T: std::str::FromStr>(
            var: &dyn Fn(&str) -> Option<String>,
            k: &str,
            default: T,
        ) -> Result<T, ConfigError> {
            match var(k) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| err(k, format!("{v:?} is not a whole number"))),
            }
        }

        let fleet = required("CLAWCTL_FLEET")?;
        let namespace = match var("CLAWCTL_FLEET_NAMESPACE").or_else(|| var("POD_NAMESPACE")) {
            Some(ns) => ns,
            None => return Err(err("CLAWCTL_FLEET_NAMESPACE", "is required")),
        };
        let routes_configmap =
            var("CLAWCTL_ROUTES_CONFIGMAP").unwrap_or_else(|| format!("{fleet}-routes"));
        let http_listen = match var("ROUTER_HTTP_ADDR") {
            None => SocketAddr::from(([0, 0, 0, 0], 8080)),
            Some(v) => v
                .parse()
                .map_err(|_| err("ROUTER_HTTP_ADDR", format!("{v:?} is not an address:port")))?,
        };
        let trusted_proxies = match var("ROUTER_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    Cidr::parse(s).ok_or_else(|| {
                        err(
                            "ROUTER_TRUSTED_PROXIES",
                            format!("{:?} is not an IP address or CIDR", s.trim()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let header =
            var("ROUTER_IDENTITY_HEADER").unwrap_or_else(|| "X-Forwarded-Email".to_string());
        let identity_header = http::HeaderName::try_from(header.as_str()).map_err(|_| {
            err(
                "ROUTER_IDENTITY_HEADER",
                format!("{header:?} is not a header name"),
            )
        })?;

        let d = Limits::default();
        let var_ref: &dyn Fn(&str) -> Option<String> = &var;
        let limits = Limits {
            max_message_bytes: number(var_ref, "ROUTER_MAX_MESSAGE_BYTES", d.max_message_bytes)?,
            per_minute: number(var_ref, "ROUTER_RATE_PER_MINUTE", d.per_minute)?,
            burst: number(var_ref, "ROUTER_RATE_BURST", d.burst)?,
            queue_depth: number(var_ref, "ROUTER_QUEUE_DEPTH", d.queue_depth)?,
            timeout: Duration::from_secs(number(
                var_ref,
                "ROUTER_TIMEOUT_SECONDS",
                d.timeout.as_secs(),
            )?),
            dedup_window: Duration::from_secs(number(
                var_ref,
                "ROUTER_DEDUP_WINDOW_SECONDS",
                d.dedup_window.as_secs(),
            )?),
            dedup_capacity: d.dedup_capacity,
        };
        if limits.max_message_bytes == 0 {
            return Err(err("ROUTER_MAX_MESSAGE_BYTES", "must be at least 1"));
        }
        if limits.burst == 0 {
            return Err(err("ROUTER_RATE_BURST", "must be at least 1"));
        }
        if limits.timeout.is_zero() {
            return Err(err("ROUTER_TIMEOUT_SECONDS", "must be at least 1"));
        }

        let wake_timeout =
            Duration::from_secs(number(var_ref, "ROUTER_WAKE_TIMEOUT_SECONDS", 300)?);
        if wake_timeout.is_zero() {
            return Err(err("ROUTER_WAKE_TIMEOUT_SECONDS", "must be at least 1"));
        }
        let idle = match number::<u64>(var_ref, "ROUTER_IDLE_AFTER_SECONDS", 0)? {
            0 if var("ROUTER_IDLE_AFTER_SECONDS").is_some() => {
                return Err(err(
                    "ROUTER_IDLE_AFTER_SECONDS",
                    "must be at least 1 (leave it out for agents that never sleep)",
                ));
            }
            0 => None,
            seconds => Some(IdleSettings {
                idle_after: Duration::from_secs(seconds),
                wake_timeout,
            }),
        };

        let n = Notices::default();
        let notice = |suffix: &str, default: String| {
            var(&format!("ROUTER_NOTICE_{suffix}")).unwrap_or(default)
        };
        let notices = Notices {
            no_agent: notice("NO_AGENT", n.no_agent),
            too_long: notice("TOO_LONG", n.too_long),
            rate_limited: notice("RATE_LIMITED", n.rate_limited),
            busy: notice("BUSY", n.busy),
            timed_out: notice("TIMED_OUT", n.timed_out),
            unavailable: notice("UNAVAILABLE", n.unavailable),
            waking: notice("WAKING", n.waking),
            suspended: notice("SUSPENDED", n.suspended),
            wake_timed_out: notice("WAKE_TIMED_OUT", n.wake_timed_out),
        };
        let self_service = match var("CLAWCTL_SELF_SERVICE_BUNDLE") {
            None => None,
            Some(bundle) => {
                if bundle != clawctl::names::self_service_bundle(&fleet) {
                    return Err(err(
                        "CLAWCTL_SELF_SERVICE_BUNDLE",
                        format!("{bundle:?} is not this fleet's bundle"),
                    ));
                }
                let s = crate::provision::SetupNotices::default();
                let setup =
                    |suffix: &str, default: String| notice(&format!("SETUP_{suffix}"), default);
                Some(SelfServiceConfig {
                    router_namespace: required("CLAWCTL_ROUTER_NAMESPACE")?,
                    team_namespace: required("CLAWCTL_SELF_SERVICE_NAMESPACE")?,
                    timeout: Duration::from_secs(number(
                        var_ref,
                        "ROUTER_SETUP_TIMEOUT_SECONDS",
                        300,
                    )?),
                    notices: crate::provision::SetupNotices {
                        off: setup("OFF", s.off),
                        not_admitted: setup("NOT_ADMITTED", s.not_admitted),
                        already: setup("ALREADY", s.already),
                        ready: setup("READY", s.ready),
                        not_ready: setup("NOT_READY", s.not_ready),
                        full: setup("FULL", s.full),
                        needs_apply: setup("NEEDS_APPLY", s.needs_apply),
                        failed: setup("FAILED", s.failed),
                    },
                })
            }
        };
        let log = match var("ROUTER_LOG") {
            None => Level::Info,
            Some(v) => Level::parse(&v)
                .ok_or_else(|| err("ROUTER_LOG", format!("{v:?} is not debug, info or warn")))?,
        };
        Ok(Config {
            fleet,
            namespace,
            routes_configmap,
            http_listen,
            trusted_proxies,
            identity_header,
            limits,
            idle,
            notices,
            log,
            self_service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_only_the_fleet_and_its_namespace() {
        let c = config(&[("CLAWCTL_FLEET", "acme"), ("POD_NAMESPACE", "sys")]).expect("config");
        assert_eq!(c.routes_configmap, "acme-routes");
        assert_eq!(c.namespace, "sys");
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.identity_header.as_str(), "x-forwarded-email");
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.idle, None, "agents never sleep unless told");
        assert_eq!(
            config(&[("POD_NAMESPACE", "sys")]),
            Err(err("CLAWCTL_FLEET", "is required"))
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let base = [
            ("CLAWCTL_FLEET", "acme"),
            ("CLAWCTL_FLEET_NAMESPACE", "sys"),
        ];
        for (k, v) in [
            ("ROUTER_TRUSTED_PROXIES", "10.0.0.1,nope"),
            ("ROUTER_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("ROUTER_RATE_PER_MINUTE", "-1"),
            ("ROUTER_TIMEOUT_SECONDS", "0"),
            ("ROUTER_HTTP_ADDR", "8080"),
            ("ROUTER_IDENTITY_HEADER", "bad header"),
            ("ROUTER_LOG", "loud"),
            ("ROUTER_IDLE_AFTER_SECONDS", "0"),
            ("ROUTER_IDLE_AFTER_SECONDS", "30m"),
            ("ROUTER_WAKE_TIMEOUT_SECONDS", "0"),
        ] {
            let mut vars = base.to_vec();
            vars.push((k, v));
            let e = config(&vars).expect_err(v);
            assert_eq!(e.var, k, "{e}");
        }
    }

    #[test]
    fn idle_after_turns_sleeping_on_with_its_wake_timeout_and_notices() {
        let c = config(&[
            ("CLAWCTL_FLEET", "acme"),
            ("POD_NAMESPACE", "sys"),
            ("ROUTER_IDLE_AFTER_SECONDS", "1800"),
            ("ROUTER_NOTICE_WAKING", "One moment…"),
        ])
        .expect("config");
        assert_eq!(
            c.idle,
            Some(IdleSettings {
                idle_after: Duration::from_secs(1800),
                wake_timeout: Duration::from_secs(300),
            })
        );
        assert_eq!(c.notices.waking, "One moment…");
        assert_eq!(c.notices.suspended, Notices::default().suspended);
        let c = config(&[
            ("CLAWCTL_FLEET", "acme"),
            ("POD_NAMESPACE", "sys"),
            ("ROUTER_IDLE_AFTER_SECONDS", "60"),
            ("ROUTER_WAKE_TIMEOUT_SECONDS", "90"),
        ])
        .expect("config");
        assert_eq!(
            c.idle.map(|i| i.wake_timeout),
            Some(Duration::from_secs(90))
        );
    }

    #[test]
    fn cidrs_match_their_range_only() {
        let net = Cidr::parse("10.1.0.0/16").expect("cidr");
        assert!(net.contains("10.1.200.3".parse().expect("ip")));
        assert!(!net.contains("10.2.0.1".parse().expect("ip")));
        assert!(net.contains("::ffff:10.1.0.9".parse().expect("ip")));
        let one = Cidr::parse("192.168.1.5").expect("cidr");
        assert!(one.contains("192.168.1.5".parse().expect("ip")));
        assert!(!one.contains("192.168.1.6".parse().expect("ip")));
        let v6 = Cidr::parse("fd00::/8").expect("cidr");
        assert!(v6.contains("fd12::1".parse().expect("ip")));
        assert!(!v6.contains("10.0.0.1".parse().expect("ip")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("cidr")
                .contains("8.8.8.8".parse().expect("ip"))
        );
    }
}
