//! The agent's `knowledge` (its bucket, checked into a `knowledge::Knowledge`, and the
//! egress rule the bucket needs) and its cloud `identity` (ServiceAccount annotations);
//! across the fleet, read-only agents that share a writer's credentials.

use super::cx::At;
use super::cx::Cx;
use super::pod::ResolvedPod;
use crate::fleet::model::{EgressRule, Identity, Settings};
use crate::fleet::rules;
use crate::knowledge::{self as sync, Backend, Knowledge};

/// The cloud identities an agent's ServiceAccount stands for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedIdentity {
    pub gcp: Option<String>,
    pub aws: Option<String>,
    pub azure: Option<String>,
}

impl ResolvedIdentity {
    pub fn is_empty(&self) -> bool {
        self.gcp.is_none() && self.aws.is_none() && self.azure.is_none()
    }
}

pub(super) fn resolve(
    cx: &mut Cx,
    at: At,
    settings: &Settings,
    agent: &str,
    pod: &ResolvedPod,
) -> Option<Knowledge> {
    let k = settings.knowledge.as_ref()?;
    let before = cx.diags.0.len();
    let backend = match (&k.s3, &k.gcs) {
        (Some(s3), None) => {
            cx.check_at(
                |cx| at.src(cx, "knowledge.s3.bucket"),
                s3_bucket(&s3.bucket),
            );
            if let Some(region) = &s3.region {
                cx.check_at(|cx| at.src(cx, "knowledge.s3.region"), region_name(region));
            }
            if let Some(endpoint) = &s3.endpoint
                && sync::endpoint_port(endpoint).is_none()
            {
                cx.error(
                    &at.src(cx, "knowledge.s3.endpoint"),
                    format!("{endpoint:?} is not an endpoint: expected https://host[:port] or http://host[:port]"),
                );
            }
            Some((
                s3.bucket.as_str(),
                Backend::S3 {
                    region: s3.region.clone(),
                    endpoint: s3.endpoint.clone(),
                },
            ))
        }
        (None, Some(gcs)) => {
            cx.check_at(
                |cx| at.src(cx, "knowledge.gcs.bucket"),
                gcs_bucket(&gcs.bucket),
            );
            Some((gcs.bucket.as_str(), Backend::Gcs))
        }
        _ => {
            cx.error(
                &at.src(cx, "knowledge"),
                "set exactly one bucket: `s3` or `gcs`",
            );
            None
        }
    };
    let prefix = k.prefix.as_deref().unwrap_or("").trim_end_matches('/');
    if !prefix.is_empty() {
        cx.check_at(|cx| at.src(cx, "knowledge.prefix"), prefix_rule(prefix));
    }
    let from = k.from.as_deref().unwrap_or(agent);
    if k.from.is_some() {
        cx.check_at(
            |cx| at.src(cx, "knowledge.from"),
            rules::dns_label(from, 63),
        );
    }
    let interval_seconds = k
        .interval
        .as_ref()
        .map_or(sync::DEFAULT_INTERVAL_SECONDS, |d| d.get().as_secs());
    if interval_seconds < sync::MIN_INTERVAL_SECONDS {
        cx.error(
            &at.src(cx, "knowledge.interval"),
            format!(
                "pushes at most once a minute: every push lists the bucket (use {}s or more)",
                sync::MIN_INTERVAL_SECONDS
            ),
        );
    }
    let include: Vec<String> = match &k.include {
        Some(list) => list.clone(),
        None => sync::DEFAULT_INCLUDE.map(String::from).to_vec(),
    };
    if include.is_empty() {
        cx.error(
            &at.src(cx, "knowledge.include"),
            "lists nothing: leave `include` out for the workspace and openclaw.json",
        );
    }
    for (j, pattern) in include.iter().enumerate() {
        if let Some(problem) = sync::include_problem(pattern) {
            let path = at.src(cx, "knowledge.include").index(j);
            cx.error(&path, problem);
        }
    }
    if let Some(secret) = &k.credentials_secret {
        cx.check_at(
            |cx| at.src(cx, "knowledge.credentialsSecret"),
            rules::dns_subdomain(secret),
        );
    }
    let image = k.image.clone().unwrap_or_else(|| sync::RCLONE_IMAGE.into());
    if k.image.is_some() && !cx.loaded.fleet.spec.policy.allow_floating_tags {
        cx.check_at(|cx| at.src(cx, "knowledge.image"), rules::image_pin(&image));
    }
    for name in [sync::PULL_CONTAINER, sync::PUSH_CONTAINER] {
        if pod.sidecars.iter().any(|s| s.name == name) {
            let path = at.src(cx, "sidecars").key(name);
            cx.error(
                &path,
                format!(
                    "{name:?} is the name of clawctl's knowledge sync container: choose another"
                ),
            );
        }
    }
    if pod.volumes.contains_key(sync::TMP_VOLUME) {
        let path = at.src(cx, "volumes").key(sync::TMP_VOLUME);
        cx.error(
            &path,
            format!(
                "{:?} is the knowledge sync containers' scratch volume: choose another name",
                sync::TMP_VOLUME
            ),
        );
    }
    if let Some(max) = &cx.loaded.fleet.spec.policy.max_resources {
        let cpu = max
            .cpu
            .as_ref()
            .is_some_and(|q| q.millis() < sync::LIMIT_MILLICORES);
        let memory = max
            .memory
            .as_ref()
            .is_some_and(|q| q.units() < sync::LIMIT_BYTES);
        if cpu || memory {
            cx.error(
                &at.src(cx, "knowledge"),
                format!(
                    "the sync containers' limits ({} CPU, {} memory) exceed spec.policy.maxResources",
                    sync::LIMITS.0,
                    sync::LIMITS.1
                ),
            );
        }
    }
    let (bucket, backend) = backend?;
    if cx.diags.0.len() > before {
        return None;
    }
    let path = [bucket, prefix, from]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    Some(Knowledge {
        backend,
        path,
        mode: k.mode.unwrap_or_default(),
        interval_seconds,
        include,
        credentials_secret: k.credentials_secret.clone(),
        image,
    })
}

/// The egress rule the bucket needs, unless `egress` already lets the pod reach any
/// destination on its port. A NetworkPolicy cannot name a host, so it is the port to
/// any destination, as a fleet's own `{ports: [443]}` is.
pub(super) fn egress(knowledge: &Knowledge, egress: &[EgressRule]) -> Option<EgressRule> {
    let port = sync::port(knowledge);
    let open = egress.iter().any(|r| {
        r.namespace.is_none()
            && r.pod_selector.is_none()
            && r.cidr.is_none()
            && r.ports.contains(&port)
    });
    (!open).then(|| EgressRule {
        namespace: None,
        pod_selector: None,
        cidr: None,
        ports: vec![port],
    })
}

pub(super) fn identity(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedIdentity {
    let Some(Identity { gcp, aws, azure }) = &settings.identity else {
        return ResolvedIdentity::default();
    };
    if let Some(gcp) = gcp {
        cx.check_at(
            |cx| at.src(cx, "identity.gcp.serviceAccount"),
            gcp_service_account(&gcp.service_account),
        );
    }
    if let Some(aws) = aws {
        cx.check_at(
            |cx| at.src(cx, "identity.aws.roleArn"),
            aws_role_arn(&aws.role_arn),
        );
    }
    if let Some(azure) = azure {
        cx.check_at(
            |cx| at.src(cx, "identity.azure.clientId"),
            uuid(&azure.client_id),
        );
    }
    ResolvedIdentity {
        gcp: gcp.as_ref().map(|g| g.service_account.clone()),
        aws: aws.as_ref().map(|a| a.role_arn.clone()),
        azure: azure.as_ref().map(|a| a.client_id.clone()),
    }
}

fn s3_bucket(name: &str) -> Result<(), String> {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    bucket_name(name, 63, false)
}

fn gcs_bucket(name: &str) -> Result<(), String> {
    // https://cloud.google.com/storage/docs/buckets#naming (222 with dots, '_' allowed)
    bucket_name(name, if name.contains('.') { 222 } else { 63 }, true)
}

fn bucket_name(name: &str, max: usize, underscore: bool) -> Result<(), String> {
    let ok = (3..=max).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || b == b'-'
                || b == b'.'
                || (underscore && b == b'_')
        })
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("..");
    ok.then_some(()).ok_or_else(|| {
        format!("{name:?} is not a bucket name: 3 to {max} lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
    })
}

fn region_name(region: &str) -> Result<(), String> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then_some(())
        .ok_or_else(|| format!("{region:?} is not a region (like eu-west-1)"))
}

fn prefix_rule(prefix: &str) -> Result<(), String> {
    let ok = !prefix.starts_with('/')
        && prefix.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    ok.then_some(()).ok_or_else(|| {
        format!("{prefix:?} is not a bucket prefix: folders of letters, digits, '-', '_' and '.', separated by '/', not starting with '/' and without '..'")
    })
}

/// GKE Workload Identity's Google service account: `NAME@PROJECT.iam.gserviceaccount.com`.
fn gcp_service_account(email: &str) -> Result<(), String> {
    let ok = email.split_once('@').is_some_and(|(name, domain)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && domain.ends_with(".gserviceaccount.com")
            && domain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    });
    ok.then_some(()).ok_or_else(|| {
        format!("{email:?} is not a Google service account: expected NAME@PROJECT.iam.gserviceaccount.com")
    })
}

/// An IAM role's ARN: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
fn aws_role_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(|name| {
            !name.is_empty()
                && !name.ends_with('/')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
        });
    ok.then_some(()).ok_or_else(|| {
        format!("{arn:?} is not an IAM role ARN: expected arn:aws:iam::123456789012:role/NAME")
    })
}

fn uuid(id: &str) -> Result<(), String> {
    let groups: Vec<&str> = id.split('-').collect();
    let ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then_some(()).ok_or_else(|| {
        format!(
            "{id:?} is not a client id: expected a UUID like 00000000-0000-0000-0000-000000000000"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_identities_are_checked_by_shape() {
        assert!(gcp_service_account("research@acme-prod.iam.gserviceaccount.com").is_ok());
        assert!(gcp_service_account("research@acme").is_err());
        assert!(aws_role_arn("arn:aws:iam::123456789012:role/clawctl/research").is_ok());
        assert!(aws_role_arn("arn:aws:iam::1234:role/x").is_err());
        assert!(aws_role_arn("arn:aws:s3:::bucket").is_err());
        assert!(uuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301").is_ok());
        assert!(uuid("3f2504e0").is_err());
    }

    #[test]
    fn buckets_and_prefixes() {
        assert!(s3_bucket("acme-knowledge").is_ok());
        assert!(s3_bucket("Acme").is_err());
        assert!(s3_bucket("ab").is_err());
        assert!(gcs_bucket("acme_knowledge").is_ok());
        assert!(prefix_rule("fleets/acme").is_ok());
        assert!(prefix_rule("../x").is_err());
        assert!(prefix_rule("/x").is_err());
        assert!(prefix_rule("a//b").is_err());
    }
}
