//! WordPress comments: `POST /wp-json/wp/v2/comments` with `post` and `parent`, as a user with an
//! application password (HTTP Basic). WordPress has no idempotency header.
//!
//! earshot stores blog posts and comments by their feed guid, which WordPress builds as
//! `https://site/?p=<post id>` and `<post guid>#comment-<comment id>`; both ids are read from it. A
//! site whose guids lack that shape needs `in_reply_to_api_id = "<post>"` or `"<post>:<comment>"`.

use crate::config::{Auth, Credentials, Secret};
use crate::error::PublishError;
use crate::http::Http;
use crate::publisher::{BoxFuture, Publisher, ReplyRequest, Sent, check_request, wrong_auth};
use earshot_core::Platform;
use serde::Deserialize;
use serde_json::json;

/// Publishes replies as comments on the brand's site.
pub(crate) struct WordPressPublisher {
    http: Http,
    username: String,
    app_password: Secret,
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    link: Option<String>,
}

impl WordPressPublisher {
    pub fn new(credentials: &Credentials) -> Result<WordPressPublisher, PublishError> {
        let Auth::WordPress { username, app_password } = &credentials.auth else {
            return Err(wrong_auth(Platform::Blog, credentials));
        };
        Ok(WordPressPublisher {
            http: Http::new(credentials)?,
            username: username.clone(),
            app_password: app_password.clone(),
        })
    }

    async fn send(&self, request: &ReplyRequest) -> Result<Sent, PublishError> {
        check_request(Platform::Blog, request)?;
        let given = request.in_reply_to_api_id.as_deref().unwrap_or(&request.in_reply_to);
        let (post, parent) = parse_target(given).ok_or_else(|| PublishError::Invalid {
            platform: Platform::Blog,
            reason: format!(
                "cannot tell the WordPress post id from {given:?}: expected a guid like https://site/?p=12 or \
                 https://site/?p=12#comment-41; set in_reply_to_api_id to \"12\" or \"12:41\" (post, comment)"
            ),
        })?;
        let url = self.http.url("/wp-json/wp/v2/comments");
        let endpoint = format!("POST {url}");
        let body = json!({ "post": post, "parent": parent, "content": request.text });
        let call = self.http.client.post(&url).basic_auth(&self.username, Some(self.app_password.expose())).json(&body);
        let answer = self.http.call(&endpoint, call).await?;
        let (comment, raw): (Comment, _) = self.http.success(&endpoint, &answer)?;
        let guid = post_guid(&request.in_reply_to).map(|g| format!("{g}#comment-{}", comment.id));
        let native_id = guid.or_else(|| comment.link.clone()).unwrap_or_else(|| comment.id.to_string());
        Ok(Sent { platform: Platform::Blog, native_id, url: comment.link, raw })
    }
}

impl Publisher for WordPressPublisher {
    fn platform(&self) -> Platform {
        Platform::Blog
    }

    fn publish<'a>(&'a self, request: &'a ReplyRequest) -> BoxFuture<'a, Result<Sent, PublishError>> {
        Box::pin(self.send(request))
    }
}

/// Post id and parent comment id (0 for a reply to the post itself).
fn parse_target(s: &str) -> Option<(u64, u64)> {
    let s = s.trim();
    if let Some((post, comment)) = s.split_once(':')
        && let (Ok(post), Ok(comment)) = (post.parse(), comment.parse())
    {
        return (post > 0).then_some((post, comment));
    }
    if let Ok(post) = s.parse::<u64>() {
        return (post > 0).then_some((post, 0));
    }
    let (without_fragment, fragment) = s.split_once('#').unwrap_or((s, ""));
    let query = without_fragment.split_once('?')?.1;
    let post = query.split('&').find_map(|kv| match kv.split_once('=') {
        Some(("p" | "page_id", v)) => v.parse::<u64>().ok(),
        _ => None,
    })?;
    let comment = match fragment.strip_prefix("comment-") {
        Some(c) => c.parse().ok()?,
        None => query.split('&').find_map(|kv| kv.strip_prefix("replytocom=")?.parse().ok()).unwrap_or(0),
    };
    (post > 0).then_some((post, comment))
}

/// The post's guid (`https://site/?p=12`) when `in_reply_to` is a WordPress guid.
fn post_guid(in_reply_to: &str) -> Option<&str> {
    let base = in_reply_to.trim().split('#').next()?;
    (base.contains("://") && base.contains("?p=")).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_from_guids_and_ids() {
        assert_eq!(parse_target("https://blog.example/?p=12"), Some((12, 0)));
        assert_eq!(parse_target("https://blog.example/?p=12#comment-41"), Some((12, 41)));
        assert_eq!(parse_target("https://blog.example/?page_id=7&replytocom=3"), Some((7, 3)));
        assert_eq!(parse_target("12"), Some((12, 0)));
        assert_eq!(parse_target("12:41"), Some((12, 41)));
        assert_eq!(parse_target("0"), None);
        assert_eq!(parse_target("https://blog.example/2024/05/hello/"), None);
        assert_eq!(post_guid("https://blog.example/?p=12#comment-41"), Some("https://blog.example/?p=12"));
        assert_eq!(post_guid("12:41"), None);
    }
}
