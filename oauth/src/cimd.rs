//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a client whose
//! `client_id` is an https URL publishes its metadata there. The document is fetched with a size
//! and a time limit, never from a private, loopback, link-local or otherwise non-public address:
//! the host is resolved first, every address checked, and the connection made to exactly the
//! checked addresses (so a DNS answer cannot change between the check and the fetch), without
//! following redirects or using a proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use mcpctl_stack::oauth::{CLIENT_METADATA_TIMEOUT_MS, MAX_CLIENT_METADATA_BYTES};

/// Why a client metadata document cannot be used. The text is shown to the owner and clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CimdError {
    #[error("client_id {0}")]
    BadUrl(&'static str),
    #[error("the client_id host does not resolve")]
    Unresolvable,
    #[error("the client_id host resolves to a non-public address ({0}); metadata is never fetched from private, loopback or link-local addresses")]
    PrivateAddress(IpAddr),
    #[error("fetching the client metadata document failed: {0}")]
    Fetch(String),
    #[error("the client metadata document answered HTTP {0}")]
    Status(u16),
    #[error("the client metadata document is larger than {MAX_CLIENT_METADATA_BYTES} bytes")]
    TooLarge,
    #[error("the client metadata document took longer than {CLIENT_METADATA_TIMEOUT_MS} ms")]
    Timeout,
    #[error("the client metadata document is invalid: {0}")]
    Invalid(String),
}

/// What the authorization server uses of a client's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientMetadata {
    pub client_id: String,
    #[serde(default)]
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
}

/// How documents may be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchPolicy {
    /// Dev and tests only ([`mcpctl_stack::oauth::DEV_ALLOW_LOOPBACK_FETCH_VAR`]): plain http and
    /// loopback addresses are allowed (still never private or link-local ones).
    pub allow_loopback: bool,
}

/// Whether `client_id` names a metadata document (rather than a registered client).
pub fn is_metadata_url(client_id: &str, policy: FetchPolicy) -> bool {
    client_id.starts_with("https://") || (policy.allow_loopback && client_id.starts_with("http://"))
}

/// Whether an address is one a public service can have. Everything reserved by RFC 6890 and its
/// successors for private, shared, loopback, link-local, documentation, benchmarking or
/// multicast use is not.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 may reach private IPv4
                || (s[0] == 0x2002) // 6to4 may embed private IPv4
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0))
            // IPv4-compatible
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn allowed(ip: IpAddr, policy: FetchPolicy) -> bool {
    is_public(ip) || (policy.allow_loopback && ip.is_loopback())
}

/// The URL of a metadata document, checked: https (or, with the dev policy, http), a host, a
/// path, no credentials or fragment.
pub fn check_url(client_id: &str, policy: FetchPolicy) -> Result<Url, CimdError> {
    if client_id.len() > 2048 {
        return Err(CimdError::BadUrl("is longer than 2048 characters"));
    }
    let url = Url::parse(client_id).map_err(|_| CimdError::BadUrl("is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_loopback => {}
        _ => return Err(CimdError::BadUrl("must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CimdError::BadUrl("must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(CimdError::BadUrl("must not have a fragment"));
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err(CimdError::BadUrl("must have a path"));
    }
    if url.host().is_none() {
        return Err(CimdError::BadUrl("must have a host"));
    }
    Ok(url)
}

/// Resolves `url`'s host and checks every address.
pub async fn resolve(url: &Url, policy: FetchPolicy) -> Result<Vec<SocketAddr>, CimdError> {
    let port = url
        .port_or_known_default()
        .ok_or(CimdError::BadUrl("has no port"))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(v4)) => vec![SocketAddr::new(v4.into(), port)],
        Some(url::Host::Ipv6(v6)) => vec![SocketAddr::new(v6.into(), port)],
        Some(url::Host::Domain(domain)) => {
            let lookup = tokio::net::lookup_host((domain, port));
            tokio::time::timeout(Duration::from_millis(CLIENT_METADATA_TIMEOUT_MS), lookup)
                .await
                .map_err(|_| CimdError::Timeout)?
                .map_err(|_| CimdError::Unresolvable)?
                .collect()
        }
        None => return Err(CimdError::BadUrl("must have a host")),
    };
    if addrs.is_empty() {
        return Err(CimdError::Unresolvable);
    }
    if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), policy)) {
        return Err(CimdError::PrivateAddress(bad.ip()));
    }
    Ok(addrs)
}

/// Fetches and checks the metadata document `client_id` names.
pub async fn fetch(client_id: &str, policy: FetchPolicy) -> Result<ClientMetadata, CimdError> {
    let url = check_url(client_id, policy)?;
    let addrs = resolve(&url, policy).await?;
    // rustls on ring, as the SDK clients; installing it again is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_millis(CLIENT_METADATA_TIMEOUT_MS))
        .user_agent("mcpctl-oauth");
    if let Some(url::Host::Domain(domain)) = url.host() {
        builder = builder.resolve_to_addrs(domain, &addrs);
    }
    let client = builder
        .build()
        .map_err(|e| CimdError::Fetch(e.to_string()))?;
    let fetched = async {
        let mut response = client
            .get(url.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| describe(&e))?;
        if response.status().as_u16() != 200 {
            return Err(CimdError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_CLIENT_METADATA_BYTES as u64)
        {
            return Err(CimdError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_CLIENT_METADATA_BYTES {
                return Err(CimdError::TooLarge);
            }
        }
        Ok(body)
    };
    let body = tokio::time::timeout(Duration::from_millis(CLIENT_METADATA_TIMEOUT_MS), fetched)
        .await
        .map_err(|_| CimdError::Timeout)??;
    let metadata: ClientMetadata =
        serde_json::from_slice(&body).map_err(|e| CimdError::Invalid(e.to_string()))?;
    if metadata.client_id != client_id {
        return Err(CimdError::Invalid(
            "its client_id is not the URL it was fetched from".into(),
        ));
    }
    if metadata.redirect_uris.is_empty() {
        return Err(CimdError::Invalid("it lists no redirect_uris".into()));
    }
    match metadata.token_endpoint_auth_method.as_deref() {
        None | Some("none") => {}
        Some(_) => {
            return Err(CimdError::Invalid(
                "token_endpoint_auth_method must be \"none\": this server has public clients only"
                    .into(),
            ))
        }
    }
    Ok(metadata)
}

fn describe(e: &reqwest::Error) -> CimdError {
    if e.is_timeout() {
        return CimdError::Timeout;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    CimdError::Fetch(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        let strict = FetchPolicy::default();
        assert!(check_url("https://client.example/meta.json", strict).is_ok());
        for bad in [
            "http://client.example/meta.json",
            "https://client.example/",
            "https://client.example",
            "https://user:pw@client.example/m",
            "https://client.example/m#frag",
            "ftp://client.example/m",
            "not a url",
        ] {
            assert!(check_url(bad, strict).is_err(), "{bad}");
        }
        let dev = FetchPolicy {
            allow_loopback: true,
        };
        assert!(check_url("http://127.0.0.1:9/m.json", dev).is_ok());
        assert!(!is_metadata_url("http://127.0.0.1:9/m.json", strict));
        assert!(is_metadata_url("http://127.0.0.1:9/m.json", dev));
    }

    #[tokio::test]
    async fn private_and_loopback_hosts_are_never_fetched() {
        let strict = FetchPolicy::default();
        for url in [
            "https://127.0.0.1/m.json",
            "https://10.0.0.1/m.json",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/m.json",
            "https://localhost/m.json",
        ] {
            let e = fetch(url, strict).await.unwrap_err();
            assert!(matches!(e, CimdError::PrivateAddress(_)), "{url}: {e}");
        }
        // The dev policy allows loopback, never private or link-local.
        let dev = FetchPolicy {
            allow_loopback: true,
        };
        let e = fetch("http://169.254.169.254/latest", dev)
            .await
            .unwrap_err();
        assert!(matches!(e, CimdError::PrivateAddress(_)), "{e}");
        let e = fetch("http://10.0.0.1/m.json", dev).await.unwrap_err();
        assert!(matches!(e, CimdError::PrivateAddress(_)), "{e}");
    }
}
