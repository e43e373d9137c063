//! Which OpenClaw release an image runs, and which config dialect clawctl renders for it.
//!
//! The releases clawctl is verified against are named once, in `conformance/versions.env`
//! (the conformance suite boots every example on each of them). The rule for others:
//! - older than the oldest verified release: refused, clawctl does not know its config;
//! - between or after verified releases: rendered in the dialect of the newest verified
//!   release at or below it, with a warning that it is not verified.
//!
//! The version comes from the image tag (`2026.4.14`, `v2026.4.14`, `2026.4.14-slim`), or,
//! when the image is pinned by digest or a private tag, from `spec.openclawVersion`.

use std::fmt;

/// The versions file shared with the conformance suite.
const VERSIONS_ENV: &str = include_str!("../../conformance/versions.env");

/// An OpenClaw release number: calendar versions, `YYYY.M.D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Parses `2026.4.14`, with an optional leading `v` and a `-suffix` (pre-release or
    /// image variant), which does not change the dialect.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.strip_prefix('v').unwrap_or(text);
        let core = text.split_once('-').map_or(text, |(core, _)| core);
        let mut parts = core.split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version(next()?, next()?, next()?);
        if parts.next().is_some() || v.0 < 2000 {
            return None;
        }
        Some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// A config dialect: what a release range accepts and needs in openclaw.json and in its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dialect {
    /// 2026.4.14: chat channels built in.
    V2026_4,
    /// 2026.9.6: Slack (and other channels) ship as plugins; caches under `XDG_CACHE_HOME`.
    V2026_9,
}

/// The release an agent's image runs, and the dialect rendered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    pub dialect: Dialect,
    /// Whether the conformance suite boots this exact release.
    pub verified: bool,
}

/// The releases the conformance suite boots, oldest first, with their dialects.
pub fn verified() -> Vec<(Version, Dialect)> {
    let mut out: Vec<(Version, Dialect)> = ["OPENCLAW_PINNED", "OPENCLAW_NEWEST"]
        .iter()
        .filter_map(|key| versions_env(key))
        .filter_map(|v| Version::parse(&v))
        .map(|v| (v, dialect_of(v)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The value of `key` in conformance/versions.env.
fn versions_env(key: &str) -> Option<String> {
    VERSIONS_ENV
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
}

/// The dialect boundary: the first release known to need the 2026.9 dialect. Releases
/// between the two verified ones get the older dialect (the newest verified at or below).
fn dialect_of(v: Version) -> Dialect {
    if v >= Version(2026, 9, 6) {
        Dialect::V2026_9
    } else {
        Dialect::V2026_4
    }
}

/// The tag of an image reference, if it has one (`repo:tag`, not `repo@sha256:...`).
pub fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':').map(|(_, tag)| tag)
}

/// The release `image` runs (`declared` is `spec.openclawVersion`). `Ok` carries a
/// warning when the release is not one the conformance suite verified.
pub fn release(image: &str, declared: Option<&str>) -> Result<(Release, Option<String>), String> {
    let from_tag = image_tag(image).and_then(Version::parse);
    let version = match (from_tag, declared) {
        (Some(tag), Some(d)) => {
            let d = Version::parse(d).ok_or_else(|| not_a_version(d))?;
            if d != tag {
                return Err(format!(
                    "spec.openclawVersion {d} disagrees with the image tag {tag}: set it only when the tag does not name the release"
                ));
            }
            tag
        }
        (Some(tag), None) => tag,
        (None, Some(d)) => Version::parse(d).ok_or_else(|| not_a_version(d))?,
        (None, None) => {
            return Err(format!(
                "cannot tell which OpenClaw release {image:?} runs (its config differs between releases): set spec.openclawVersion, e.g. {}",
                newest().map_or_else(|| "2026.4.14".to_string(), |v| v.to_string())
            ));
        }
    };
    let known = verified();
    let names = || {
        known
            .iter()
            .map(|(v, _)| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((base, dialect)) = known.iter().rev().find(|(v, _)| *v <= version).copied() else {
        return Err(format!(
            "OpenClaw {version} is older than every release clawctl is verified with ({}); use one of those or newer",
            names()
        ));
    };
    let verified = base == version;
    let warning = (!verified).then(|| {
        format!(
            "OpenClaw {version} is not verified by clawctl's conformance suite (verified: {}); rendering the config of {base}",
            names()
        )
    });
    Ok((
        Release {
            version,
            dialect,
            verified,
        },
        warning,
    ))
}

fn newest() -> Option<Version> {
    verified().last().map(|(v, _)| *v)
}

fn not_a_version(text: &str) -> String {
    format!("{text:?} is not an OpenClaw release number: expected YYYY.M.D, like 2026.4.14")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_tags_with_prefixes_and_suffixes() {
        assert_eq!(Version::parse("2026.4.14"), Some(Version(2026, 4, 14)));
        assert_eq!(Version::parse("v2026.9.6"), Some(Version(2026, 9, 6)));
        assert_eq!(Version::parse("2026.7.1-beta.2"), Some(Version(2026, 7, 1)));
        for bad in [
            "latest",
            "2026.4",
            "1.2.3",
            "2026.4.14.1",
            "2026..1",
            "main",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(Version(2026, 10, 1) > Version(2026, 9, 30));
    }

    #[test]
    fn the_versions_file_names_both_verified_releases() {
        let known = verified();
        assert_eq!(known.len(), 2, "{known:?}");
        assert_eq!(known[0], (Version(2026, 4, 14), Dialect::V2026_4));
        assert_eq!(known[1], (Version(2026, 9, 6), Dialect::V2026_9));
    }

    #[test]
    fn the_dialect_follows_the_image_tag() {
        let (r, w) = release("ghcr.io/openclaw/openclaw:2026.4.14", None).unwrap();
        assert_eq!((r.dialect, r.verified, w), (Dialect::V2026_4, true, None));
        let (r, w) = release("ghcr.io/openclaw/openclaw:2026.9.6", None).unwrap();
        assert_eq!((r.dialect, r.verified, w), (Dialect::V2026_9, true, None));
    }

    #[test]
    fn unverified_releases_get_the_nearest_older_dialect_with_a_warning() {
        let (r, w) = release("localhost:5000/openclaw:2026.7.2", None).unwrap();
        assert_eq!(r.dialect, Dialect::V2026_4);
        assert!(w.unwrap().contains("not verified"));
        let (r, w) = release("ghcr.io/openclaw/openclaw:2027.1.1", None).unwrap();
        assert_eq!(r.dialect, Dialect::V2026_9);
        assert!(w.unwrap().contains("rendering the config of 2026.9.6"));
    }

    #[test]
    fn older_releases_and_unknown_digests_are_refused() {
        let e = release("ghcr.io/openclaw/openclaw:2026.1.5", None).unwrap_err();
        assert!(e.contains("older than every release"), "{e}");
        let digest = "ghcr.io/openclaw/openclaw@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let e = release(digest, None).unwrap_err();
        assert!(e.contains("spec.openclawVersion"), "{e}");
        let (r, _) = release(digest, Some("2026.9.6")).unwrap();
        assert_eq!(r.dialect, Dialect::V2026_9);
        let e = release("ghcr.io/openclaw/openclaw:2026.4.14", Some("2026.9.6")).unwrap_err();
        assert!(e.contains("disagrees"), "{e}");
        assert!(release("registry:5000/oc:prod", Some("soon")).is_err());
    }

    #[test]
    fn image_tags_ignore_registry_ports_and_digests() {
        assert_eq!(image_tag("localhost:5000/openclaw"), None);
        assert_eq!(image_tag("localhost:5000/openclaw:v2"), Some("v2"));
        assert_eq!(image_tag("img@sha256:abc"), None);
    }
}
