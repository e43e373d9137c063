//! The agent's gateway settings: who may open its Control UI, and whether OpenClaw runs
//! its first-run bootstrap ritual.

use super::cx::At;
use super::cx::Cx;
use crate::fleet::model::Settings;

/// The Control UI as rendered: on or off, and the browser origins allowed to open it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedControlUi {
    pub enabled: bool,
    /// Empty means the gateway's own loopback origins (see `render::openclaw_json`).
    pub allowed_origins: Vec<String>,
}

pub(super) fn control_ui(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedControlUi {
    let ui = settings.control_ui.clone().unwrap_or_default();
    let origins = ui.allowed_origins.unwrap_or_default();
    for (j, origin) in origins.iter().enumerate() {
        if let Err(e) = check_origin(origin) {
            let path = at.src(cx, &format!("controlUi.allowedOrigins[{j}]"));
            cx.error(&path, e);
        }
    }
    ResolvedControlUi {
        enabled: ui.enabled.unwrap_or(true),
        allowed_origins: origins,
    }
}

/// A browser origin: `scheme://host[:port]`, nothing after it, never a wildcard (which
/// OpenClaw's security audit reports as critical).
fn check_origin(origin: &str) -> Result<(), String> {
    if origin.contains('*') {
        return Err(format!(
            "{origin:?}: wildcard origins let any website open the gateway's Control UI; list each origin"
        ));
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(format!(
            "{origin:?} is not an origin: expected scheme://host[:port], like https://claw.example.com"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("{origin:?}: the scheme must be http or https"));
    }
    let host = rest.split(':').next().unwrap_or(rest);
    if rest.is_empty() || host.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "{origin:?} is not an origin: expected scheme://host[:port] with no path, like https://claw.example.com"
        ));
    }
    if let Some((_, port)) = rest.rsplit_once(':')
        && !rest.starts_with('[')
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("{origin:?}: the port must be from 1 to 65535"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_origin;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        for ok in [
            "https://claw.example.com",
            "http://localhost:18789",
            "http://[::1]:80",
        ] {
            assert_eq!(check_origin(ok), Ok(()), "{ok}");
        }
        for bad in [
            "*",
            "https://*.example.com",
            "claw.example.com",
            "ftp://x",
            "https://x/path",
            "https://x:99999",
            "https://",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
