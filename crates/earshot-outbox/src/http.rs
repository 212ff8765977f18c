//! What the publishers share: one HTTP client per account, error mapping, rate-limit headers.

use crate::config::Credentials;
use crate::error::{PublishError, RetryAt, hint_for};
use chrono::{DateTime, Utc};
use earshot_core::Platform;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// An account's HTTP client and where it points.
pub(crate) struct Http {
    pub client: reqwest::Client,
    pub platform: Platform,
    pub base: String,
    pub secret_env: Option<String>,
}

/// A platform's answer, read whole.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Http {
    pub fn new(credentials: &Credentials) -> Result<Http, PublishError> {
        let platform = credentials.platform();
        let client = reqwest::Client::builder()
            .user_agent(concat!("earshot-outbox/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| PublishError::Invalid {
                platform,
                reason: format!("could not set up the HTTP client: {}", chain(&e)),
            })?;
        Ok(Http {
            client,
            platform,
            base: credentials.base_url.trim_end_matches('/').to_string(),
            secret_env: credentials.secret_env.clone(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request and reads the whole answer; transport failures become [`PublishError::Network`].
    pub async fn call(&self, endpoint: &str, request: reqwest::RequestBuilder) -> Result<Answer, PublishError> {
        let network = |e: reqwest::Error| PublishError::Network {
            platform: self.platform,
            endpoint: endpoint.to_string(),
            detail: chain(&e),
            maybe_delivered: !e.is_connect() && !e.is_builder(),
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(network)?.to_vec();
        Ok(Answer { status, headers, body })
    }

    /// The answer's JSON body when the status is a success (also returned raw), else the platform's error.
    pub fn success<T: DeserializeOwned>(&self, endpoint: &str, answer: &Answer) -> Result<(T, Value), PublishError> {
        if !(200..300).contains(&answer.status) {
            return Err(self.reject(endpoint, answer));
        }
        let bad = |detail: String| PublishError::BadResponse {
            platform: self.platform,
            endpoint: endpoint.to_string(),
            detail,
        };
        let raw: Value = serde_json::from_slice(&answer.body).map_err(|e| {
            bad(format!("HTTP {} with a body that is not JSON ({e}): {}", answer.status, snippet(&answer.body)))
        })?;
        let typed =
            T::deserialize(&raw).map_err(|e| bad(format!("unexpected JSON ({e}): {}", snippet(&answer.body))))?;
        Ok((typed, raw))
    }

    /// The error for a non-success answer.
    pub fn reject(&self, endpoint: &str, answer: &Answer) -> PublishError {
        let (code, message) = error_parts(&answer.body);
        PublishError::Rejected {
            platform: self.platform,
            endpoint: endpoint.to_string(),
            status: answer.status,
            code,
            message,
            retry_at: retry_at(answer.status, &answer.headers),
            hint: hint_for(self.platform, answer.status, self.secret_env.as_deref()),
        }
    }
}

/// An error and its causes, on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

/// The start of a body, for messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    let mut cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// The machine-readable code and the human message of an error body, in any of the four platforms'
/// shapes: X (`title`/`detail`/`type`, or `errors[]`), Mastodon (`error`, `error_description`),
/// Bluesky (`error` + `message`), WordPress (`code` + `message`).
pub(crate) fn error_parts(body: &[u8]) -> (Option<String>, String) {
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
        return (None, snippet(body));
    };
    let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    let listed: Vec<String> = o
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("message").or_else(|| e.get("detail")).and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let (Some(error), Some(message)) = (s("error"), s("message")) {
        return (Some(error), message);
    }
    if let (Some(code), Some(message)) = (s("code"), s("message")) {
        return (Some(code), message);
    }
    if let Some(error) = s("error") {
        return match s("error_description") {
            Some(d) => (None, format!("{error}: {d}")),
            None => (None, error),
        };
    }
    if let Some(main) = s("detail").or_else(|| s("title")) {
        let mut message = main;
        for m in &listed {
            if !message.contains(m.as_str()) {
                message = format!("{message} ({m})");
            }
        }
        return (s("type"), message);
    }
    if !listed.is_empty() {
        return (None, listed.join("; "));
    }
    (None, snippet(body))
}

/// When to call again: `Retry-After` on any answer; on 429 also the rate-limit reset headers
/// (X `x-rate-limit-reset`, Mastodon `X-RateLimit-Reset`, Bluesky `ratelimit-reset`).
pub(crate) fn retry_at(status: u16, headers: &HeaderMap) -> Option<RetryAt> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(at) = get("retry-after").and_then(parse_when) {
        return Some(at);
    }
    if status != 429 {
        return None;
    }
    ["x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"].into_iter().find_map(|h| get(h).and_then(parse_when))
}

/// Seconds (a delay; or epoch seconds when past 1e9, as X and Bluesky send), RFC 3339 (Mastodon), or
/// an HTTP date.
fn parse_when(value: &str) -> Option<RetryAt> {
    if let Ok(n) = value.parse::<u64>() {
        // Epoch seconds are past 1e9 since 2001; a delay that long (31 years) is not a delay.
        return if n > 1_000_000_000 {
            DateTime::<Utc>::from_timestamp(i64::try_from(n).ok()?, 0).map(RetryAt::At)
        } else {
            Some(RetryAt::After(Duration::from_secs(n)))
        };
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(RetryAt::At(t.with_timezone(&Utc)));
    }
    DateTime::parse_from_rfc2822(value).ok().map(|t| RetryAt::At(t.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_headers_of_every_platform() {
        let at = |s: i64| Some(RetryAt::At(DateTime::from_timestamp(s, 0).unwrap()));
        assert_eq!(retry_at(429, &headers(&[("retry-after", "30")])), Some(RetryAt::After(Duration::from_secs(30))));
        assert_eq!(retry_at(503, &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])), at(1445412480));
        assert_eq!(retry_at(429, &headers(&[("x-rate-limit-reset", "1700000000")])), at(1700000000));
        assert_eq!(retry_at(429, &headers(&[("x-ratelimit-reset", "2023-11-14T22:13:20.000Z")])), at(1700000000));
        assert_eq!(retry_at(429, &headers(&[("ratelimit-reset", "1700000000")])), at(1700000000));
        // Reset headers come with every answer; only a 429 means "wait until then".
        assert_eq!(retry_at(500, &headers(&[("x-rate-limit-reset", "1700000000")])), None);
        assert_eq!(retry_at(429, &headers(&[])), None);
    }

    #[test]
    fn error_bodies_of_every_platform() {
        let check = |body: &str, code: Option<&str>, message: &str| {
            assert_eq!(error_parts(body.as_bytes()), (code.map(str::to_string), message.to_string()), "{body}");
        };
        check(
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
            Some("about:blank"),
            "Unauthorized",
        );
        check(
            r#"{"errors":[{"message":"text is too long"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
            Some("https://api.twitter.com/2/problems/invalid-request"),
            "One or more parameters to your request was invalid. (text is too long)",
        );
        check(r#"{"errors":[{"message":"a"},{"message":"b"}]}"#, None, "a; b");
        check(r#"{"error":"Record not found"}"#, None, "Record not found");
        check(r#"{"error":"ExpiredToken","message":"Token has expired"}"#, Some("ExpiredToken"), "Token has expired");
        check(
            r#"{"code":"rest_comment_invalid_post_id","message":"Sorry, you are not allowed to create this comment without a post.","data":{"status":403}}"#,
            Some("rest_comment_invalid_post_id"),
            "Sorry, you are not allowed to create this comment without a post.",
        );
        check("<html>Bad Gateway</html>", None, "<html>Bad Gateway</html>");
        check("", None, "(empty body)");
    }
}
