//! Every environment variable the library reads, in one table. The code reads them only through
//! [`Var`] (see [`Environment::get`](crate::environment::Environment::get)), and
//! [`rerun_if_env_changed`](crate::build_script::rerun_if_env_changed) lists them from here,
//! leaving out the ones marked secret.

/// A variable the library reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    AccessKey,
    SecretKey,
    SecurityToken,
    ProjectId,
    IamEndpoint,
    CredentialsFile,
    Home,
    UserProfile,
    AllProxy,
    AllProxyLower,
    HttpsProxy,
    HttpsProxyLower,
    HttpProxy,
    HttpProxyLower,
    NoProxy,
    NoProxyLower,
    SslCertFile,
    EcsMetadata,
    EcsMetadataEndpoint,
}

impl Var {
    /// Every variable, once.
    pub(crate) const ALL: [Var; 19] = [
        Var::AccessKey,
        Var::SecretKey,
        Var::SecurityToken,
        Var::ProjectId,
        Var::IamEndpoint,
        Var::CredentialsFile,
        Var::Home,
        Var::UserProfile,
        Var::AllProxy,
        Var::AllProxyLower,
        Var::HttpsProxy,
        Var::HttpsProxyLower,
        Var::HttpProxy,
        Var::HttpProxyLower,
        Var::NoProxy,
        Var::NoProxyLower,
        Var::SslCertFile,
        Var::EcsMetadata,
        Var::EcsMetadataEndpoint,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Var::AccessKey => "HUAWEICLOUD_SDK_AK",
            Var::SecretKey => "HUAWEICLOUD_SDK_SK",
            Var::SecurityToken => "HUAWEICLOUD_SDK_SECURITY_TOKEN",
            Var::ProjectId => "HUAWEICLOUD_SDK_PROJECT_ID",
            Var::IamEndpoint => "HUAWEICLOUD_SDK_IAM_ENDPOINT",
            Var::CredentialsFile => "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
            Var::Home => "HOME",
            Var::UserProfile => "USERPROFILE",
            Var::AllProxy => "ALL_PROXY",
            Var::AllProxyLower => "all_proxy",
            Var::HttpsProxy => "HTTPS_PROXY",
            Var::HttpsProxyLower => "https_proxy",
            Var::HttpProxy => "HTTP_PROXY",
            Var::HttpProxyLower => "http_proxy",
            Var::NoProxy => "NO_PROXY",
            Var::NoProxyLower => "no_proxy",
            Var::SslCertFile => "SSL_CERT_FILE",
            Var::EcsMetadata => "DBSS_JOBS_ECS_METADATA",
            Var::EcsMetadataEndpoint => "DBSS_JOBS_ECS_METADATA_ENDPOINT",
        }
    }

    /// Whether the value can carry a secret: the SK, the security token, and the proxy URLs (an
    /// authenticated proxy's password travels in them). Never listed for cargo, which stores the
    /// value of every listed variable in plain text under `target/`.
    pub(crate) fn is_secret(self) -> bool {
        matches!(
            self,
            Var::SecretKey
                | Var::SecurityToken
                | Var::AllProxy
                | Var::AllProxyLower
                | Var::HttpsProxy
                | Var::HttpsProxyLower
                | Var::HttpProxy
                | Var::HttpProxyLower
        )
    }
}

/// The region's DBSS endpoint override, as the official SDKs name it:
/// `HUAWEICLOUD_SDK_REGION_DBSS_<REGION>`, the region upper-cased with `-` → `_`.
pub(crate) fn region_endpoint_variable(region: &str) -> String {
    format!(
        "HUAWEICLOUD_SDK_REGION_DBSS_{}",
        region.to_ascii_uppercase().replace('-', "_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a variant breaks this match until it has a place; the test then checks that
    /// `ALL` holds it there, so the table cannot drift from the enum.
    fn position(var: Var) -> usize {
        match var {
            Var::AccessKey => 0,
            Var::SecretKey => 1,
            Var::SecurityToken => 2,
            Var::ProjectId => 3,
            Var::IamEndpoint => 4,
            Var::CredentialsFile => 5,
            Var::Home => 6,
            Var::UserProfile => 7,
            Var::AllProxy => 8,
            Var::AllProxyLower => 9,
            Var::HttpsProxy => 10,
            Var::HttpsProxyLower => 11,
            Var::HttpProxy => 12,
            Var::HttpProxyLower => 13,
            Var::NoProxy => 14,
            Var::NoProxyLower => 15,
            Var::SslCertFile => 16,
            Var::EcsMetadata => 17,
            Var::EcsMetadataEndpoint => 18,
        }
    }

    #[test]
    fn the_table_lists_every_variable_once() {
        for (index, var) in Var::ALL.iter().enumerate() {
            assert_eq!(position(*var), index, "{var:?}");
        }
        let mut names: Vec<&str> = Var::ALL.iter().map(|var| var.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Var::ALL.len());
    }

    #[test]
    fn the_sk_the_security_token_and_the_proxy_urls_are_secret() {
        let secret: Vec<&str> = Var::ALL
            .iter()
            .filter(|var| var.is_secret())
            .map(|var| var.name())
            .collect();
        assert_eq!(
            secret,
            [
                "HUAWEICLOUD_SDK_SK",
                "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                "ALL_PROXY",
                "all_proxy",
                "HTTPS_PROXY",
                "https_proxy",
                "HTTP_PROXY",
                "http_proxy"
            ]
        );
    }
}
