//! Security headers on every response. The content security policy allows nothing but this
//! server's stylesheet, images inline in the page (the SVG pictures are part of the HTML) and
//! forms posted back here: no scripts at all, no framing. `Referrer-Policy: no-referrer` keeps
//! the link token out of other sites' logs, and `Cache-Control: no-store` keeps pages with
//! personal data out of caches (the stylesheet may be cached). When the links point at https
//! (`base_url`), `Strict-Transport-Security` tells browsers to use nothing else for a year,
//! whether or not a reverse proxy adds it too.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of a document opened in the browser (a protocol, a letter, a summary): its own
/// inline style and inline pictures, nothing else, and sandboxed (no scripts, no forms, an
/// opaque origin), as if it were a file.
pub(crate) const DOCUMENT_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'none'";

/// `Strict-Transport-Security` for a server reached over https.
pub(crate) const HSTS: &str = "max-age=31536000";

/// What the headers depend on in the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// `base_url` is https: send HSTS.
    pub https: bool,
}

impl Policy {
    pub(crate) fn for_base_url(base_url: &str) -> Policy {
        let scheme = base_url.trim_start().get(..8).unwrap_or("");
        Policy {
            https: scheme.eq_ignore_ascii_case("https://"),
        }
    }
}

pub(crate) async fn security(
    State(policy): State<Policy>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if policy.https {
        set(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    response
}

/// Sets `name` unless the handler already did.
fn set(headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::Policy;

    #[test]
    fn https_is_told_by_the_scheme() {
        assert!(Policy::for_base_url("https://loggkoll.example.se").https);
        assert!(Policy::for_base_url("HTTPS://loggkoll.example.se/").https);
        assert!(!Policy::for_base_url("http://127.0.0.1:8080").https);
        assert!(!Policy::for_base_url("http://https.example.se").https);
        assert!(!Policy::for_base_url("").https);
    }
}
