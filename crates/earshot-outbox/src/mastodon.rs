//! Mastodon: `POST /api/v1/statuses` with `in_reply_to_id` and an `Idempotency-Key` header, which
//! Mastodon remembers for about an hour and answers with the same status instead of posting twice.
//!
//! `in_reply_to_id` must be the status id *on the brand's instance*. earshot stores Mastodon posts by
//! their URI, so the id is taken, in order, from `in_reply_to_api_id`, from a bare id, from the last
//! path segment of a URI or URL on the brand's own instance, and otherwise by asking the instance to
//! resolve the URI (`GET /api/v2/search?type=statuses&resolve=true`, which needs the `read:search`
//! scope).

use crate::config::{Auth, Credentials, Secret, Visibility};
use crate::error::PublishError;
use crate::http::Http;
use crate::publisher::{BoxFuture, Publisher, ReplyRequest, Sent, check_request, wrong_auth};
use earshot_core::Platform;
use serde::Deserialize;
use serde_json::json;

/// Publishes replies as statuses on the brand's instance.
pub(crate) struct MastodonPublisher {
    http: Http,
    token: Secret,
    visibility: Option<Visibility>,
    host: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    uri: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<Status>,
}

impl MastodonPublisher {
    pub fn new(credentials: &Credentials) -> Result<MastodonPublisher, PublishError> {
        let Auth::Mastodon { token, visibility } = &credentials.auth else {
            return Err(wrong_auth(Platform::Mastodon, credentials));
        };
        let http = Http::new(credentials)?;
        let host = host_of(&http.base).unwrap_or_default();
        Ok(MastodonPublisher { http, token: token.clone(), visibility: *visibility, host })
    }

    async fn send(&self, request: &ReplyRequest) -> Result<Sent, PublishError> {
        check_request(Platform::Mastodon, request)?;
        let in_reply_to_id = self.status_id(request).await?;
        let url = self.http.url("/api/v1/statuses");
        let endpoint = format!("POST {url}");
        let mut body = json!({ "status": request.text, "in_reply_to_id": in_reply_to_id });
        if let Some(v) = self.visibility {
            body["visibility"] = json!(v.as_str());
        }
        let mut call = self.http.client.post(&url).bearer_auth(self.token.expose()).json(&body);
        if !request.idempotency_key.is_empty() {
            call = call.header("Idempotency-Key", &request.idempotency_key);
        }
        let answer = self.http.call(&endpoint, call).await?;
        let (status, raw): (Status, _) = self.http.success(&endpoint, &answer)?;
        Ok(Sent { platform: Platform::Mastodon, native_id: status.uri.unwrap_or(status.id), url: status.url, raw })
    }

    /// The id of the status being answered, on the brand's instance.
    async fn status_id(&self, request: &ReplyRequest) -> Result<String, PublishError> {
        if let Some(id) = request.in_reply_to_api_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            return Ok(id.to_string());
        }
        let target = request.in_reply_to.trim();
        let Some(host) = host_of(target) else {
            // Not a URL: a local id as the API gives it.
            return Ok(target.to_string());
        };
        if host == self.host
            && let Some(last) = last_segment(target).filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        {
            return Ok(last.to_string());
        }
        self.resolve(target).await
    }

    /// Asks the instance for its id of a status known by URI or URL.
    async fn resolve(&self, uri: &str) -> Result<String, PublishError> {
        let url = self.http.url("/api/v2/search");
        let endpoint = format!("GET {url}");
        let call = self.http.client.get(&url).bearer_auth(self.token.expose()).query(&[
            ("q", uri),
            ("type", "statuses"),
            ("resolve", "true"),
            ("limit", "1"),
        ]);
        let answer = self.http.call(&endpoint, call).await?;
        let (found, _): (SearchResults, _) = self.http.success(&endpoint, &answer)?;
        found.statuses.into_iter().next().map(|s| s.id).ok_or_else(|| PublishError::Invalid {
            platform: Platform::Mastodon,
            reason: format!(
                "{} could not find the status {uri} (search with resolve=true found nothing): it was probably \
                 deleted or its server is unreachable; if it exists, set in_reply_to_api_id to its id on {}",
                self.http.base, self.host
            ),
        })
    }
}

impl Publisher for MastodonPublisher {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn publish<'a>(&'a self, request: &'a ReplyRequest) -> BoxFuture<'a, Result<Sent, PublishError>> {
        Box::pin(self.send(request))
    }
}

/// The lowercased `host[:port]` of an http(s) URL.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The last non-empty path segment of a URL, without query or fragment.
fn last_segment(url: &str) -> Option<&str> {
    url.split(['?', '#']).next()?.rsplit('/').find(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_segments() {
        assert_eq!(host_of("https://Mastodon.Social/users/a/statuses/1").as_deref(), Some("mastodon.social"));
        assert_eq!(host_of("http://127.0.0.1:8080").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(host_of("109348"), None);
        assert_eq!(last_segment("https://m.s/@alice/109?x=1#y"), Some("109"));
        assert_eq!(last_segment("https://m.s/users/alice/statuses/109/"), Some("109"));
    }
}
