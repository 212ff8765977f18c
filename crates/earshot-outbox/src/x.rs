//! X API v2: `POST /2/tweets` with `reply.in_reply_to_tweet_id`, as the brand's user (OAuth 2.0
//! user access token, scope `tweet.write`). X has no idempotency header.

use crate::config::{Auth, Credentials, Secret};
use crate::error::PublishError;
use crate::http::Http;
use crate::publisher::{BoxFuture, Publisher, ReplyRequest, Sent, check_request};
use earshot_core::Platform;
use serde::Deserialize;
use serde_json::json;

/// Publishes replies as tweets.
pub(crate) struct XPublisher {
    http: Http,
    token: Secret,
}

#[derive(Deserialize)]
struct Created {
    data: CreatedData,
}

#[derive(Deserialize)]
struct CreatedData {
    id: String,
}

impl XPublisher {
    pub fn new(credentials: &Credentials) -> Result<XPublisher, PublishError> {
        let Auth::X { token } = &credentials.auth else {
            return Err(crate::publisher::wrong_auth(Platform::X, credentials));
        };
        Ok(XPublisher { http: Http::new(credentials)?, token: token.clone() })
    }

    async fn send(&self, request: &ReplyRequest) -> Result<Sent, PublishError> {
        check_request(Platform::X, request)?;
        let target = request.in_reply_to_api_id.as_deref().unwrap_or(&request.in_reply_to);
        let tweet_id = tweet_id(target).ok_or_else(|| PublishError::Invalid {
            platform: Platform::X,
            reason: format!(
                "{target:?} is not a tweet id (digits) or a status URL; earshot stores X posts by their tweet id"
            ),
        })?;
        let url = self.http.url("/2/tweets");
        let endpoint = format!("POST {url}");
        let body = json!({ "text": request.text, "reply": { "in_reply_to_tweet_id": tweet_id } });
        let call = self.http.client.post(&url).bearer_auth(self.token.expose()).json(&body);
        let answer = self.http.call(&endpoint, call).await?;
        let (created, raw): (Created, _) = self.http.success(&endpoint, &answer)?;
        Ok(Sent {
            platform: Platform::X,
            url: Some(format!("https://x.com/i/web/status/{}", created.data.id)),
            native_id: created.data.id,
            raw,
        })
    }
}

impl Publisher for XPublisher {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn publish<'a>(&'a self, request: &'a ReplyRequest) -> BoxFuture<'a, Result<Sent, PublishError>> {
        Box::pin(self.send(request))
    }
}

/// The tweet id in a bare id or a status URL (`https://x.com/user/status/123?s=20`).
fn tweet_id(target: &str) -> Option<String> {
    let target = target.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(target) {
        return Some(target.to_string());
    }
    let path = target.split(['?', '#']).next()?;
    let mut segments = path.split('/');
    segments.by_ref().find(|s| *s == "status" || *s == "statuses")?;
    segments.next().filter(|s| digits(s)).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::tweet_id;

    #[test]
    fn tweet_ids_from_ids_and_urls() {
        assert_eq!(tweet_id("1790000000000000001").as_deref(), Some("1790000000000000001"));
        assert_eq!(tweet_id("https://x.com/gilt/status/123?s=20").as_deref(), Some("123"));
        assert_eq!(tweet_id("https://twitter.com/i/web/status/45").as_deref(), Some("45"));
        assert_eq!(tweet_id("https://x.com/gilt"), None);
        assert_eq!(tweet_id("abc"), None);
    }
}
