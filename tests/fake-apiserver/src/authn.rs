//! Authentication: bearer tokens and the identities (user name and groups) they stand for,
//! as the real server's token authenticators and its group adder produce them.
//!
//! Simplifications (vs kube-apiserver): tokens are opaque strings the fake hands out
//! ([`Tokens::issue`]), not JWTs; a request without an `Authorization` header, like one
//! with an unknown token, gets 401 (a real server with anonymous auth enabled would
//! treat the first as `system:anonymous`). ServiceAccount tokens from the TokenRequest
//! API (`serviceaccounts/token`) authenticate as that ServiceAccount, without expiry and
//! without checking that the ServiceAccount still exists.

use std::collections::BTreeMap;

/// The token of the kubeconfig [`crate::FakeApiServer::kubeconfig`] writes. It stands for
/// the cluster admin ([`UserInfo::superuser`]) unless a test rebinds it
/// ([`crate::FakeApiServer::restrict_to_namespaces`]).
pub const DEFAULT_TOKEN: &str = "fake-token";

/// Every authenticated identity is in this group (the apiserver's group adder).
pub const ALL_AUTHENTICATED: &str = "system:authenticated";

/// Members of this group are allowed everything, before RBAC is consulted (the
/// apiserver's privileged-group authorizer), and skip escalation checks.
pub const SYSTEM_MASTERS: &str = "system:masters";

/// Who a request comes from (k8s.io/apiserver `user.Info`, without UID and extras).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    /// Groups, `system:authenticated` last, as the real group adder appends it.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with these groups (`system:authenticated` is added).
    pub fn new(name: &str, groups: &[&str]) -> Self {
        let mut groups: Vec<String> = groups
            .iter()
            .filter(|g| **g != ALL_AUTHENTICATED)
            .map(|g| g.to_string())
            .collect();
        groups.push(ALL_AUTHENTICATED.to_string());
        Self {
            name: name.to_string(),
            groups,
        }
    }

    /// The cluster admin a kubeadm or kind cluster's admin.conf authenticates as.
    pub fn superuser() -> Self {
        Self::new("admin", &[SYSTEM_MASTERS])
    }

    /// A ServiceAccount's identity: `system:serviceaccount:<ns>:<name>` in the groups
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>`
    /// (k8s.io/apiserver/pkg/authentication/serviceaccount).
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self::new(
            &format!("system:serviceaccount:{namespace}:{name}"),
            &[
                "system:serviceaccounts",
                &format!("system:serviceaccounts:{namespace}"),
            ],
        )
    }

    /// In `system:masters`: allowed everything, no escalation checks.
    pub fn is_superuser(&self) -> bool {
        self.groups.iter().any(|g| g == SYSTEM_MASTERS)
    }

    /// (namespace, name) when this is a ServiceAccount's identity.
    pub fn service_account_of(&self) -> Option<(&str, &str)> {
        let rest = self.name.strip_prefix("system:serviceaccount:")?;
        let (ns, name) = rest.split_once(':')?;
        (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
    }
}

/// The token table.
#[derive(Debug, Clone)]
pub struct Tokens(BTreeMap<String, UserInfo>);

impl Default for Tokens {
    fn default() -> Self {
        let mut m = BTreeMap::new();
        m.insert(DEFAULT_TOKEN.to_string(), UserInfo::superuser());
        Self(m)
    }
}

impl Tokens {
    /// Who `token` authenticates as.
    pub fn user(&self, token: &str) -> Option<&UserInfo> {
        self.0.get(token)
    }

    /// Makes `token` authenticate as `user` (replacing what it stood for).
    pub fn set(&mut self, token: &str, user: UserInfo) {
        self.0.insert(token.to_string(), user);
    }

    /// A new token for `user`.
    pub fn issue(&mut self, user: UserInfo) -> String {
        let token = format!("fake-token-{}", crate::util::random_suffix(20));
        self.0.insert(token.clone(), user);
        token
    }
}

/// The bearer token of an `Authorization` header value, if it is one.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_identity_and_groups() {
        let u = UserInfo::service_account("team-a", "ci");
        assert_eq!(u.name, "system:serviceaccount:team-a:ci");
        assert_eq!(
            u.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:team-a",
                "system:authenticated"
            ]
        );
        assert_eq!(u.service_account_of(), Some(("team-a", "ci")));
        assert!(!u.is_superuser());
        assert!(UserInfo::superuser().is_superuser());
        assert_eq!(UserInfo::new("alice", &[]).service_account_of(), None);
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
