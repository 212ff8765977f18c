//! Bluesky (AT Protocol): an app-password session (`com.atproto.server.createSession`), then
//! `com.atproto.repo.createRecord` of an `app.bsky.feed.post` whose `reply` names the parent and the
//! thread root as strong refs (URI + CID).
//!
//! The parent's CID and its own `reply.root` are read with `com.atproto.repo.getRecord`: the root is
//! the parent's root when the parent is itself a reply, else the parent. The session is kept between
//! replies; an expired access token is renewed with `refreshSession` (or a new session when the
//! refresh token is spent too) and the reply tried once more. Bluesky has no idempotency header.

use crate::config::{Auth, Credentials, Secret};
use crate::error::{PublishError, hint_for};
use crate::http::Http;
use crate::publisher::{BoxFuture, Publisher, ReplyRequest, Sent, check_request, wrong_auth};
use chrono::{SecondsFormat, Utc};
use earshot_core::Platform;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const POST: &str = "app.bsky.feed.post";

/// Publishes replies as posts in the brand's repo.
pub(crate) struct BlueskyPublisher {
    http: Http,
    identifier: String,
    app_password: Secret,
    session: Mutex<Option<Session>>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
}

/// A post named by repo, collection and record key.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    repo: String,
    collection: String,
    rkey: String,
}

#[derive(Deserialize)]
struct Record {
    uri: String,
    cid: Option<String>,
    #[serde(default)]
    value: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StrongRef {
    uri: String,
    cid: String,
}

#[derive(Deserialize)]
struct Created {
    uri: String,
}

impl BlueskyPublisher {
    pub fn new(credentials: &Credentials) -> Result<BlueskyPublisher, PublishError> {
        let Auth::Bluesky { identifier, app_password } = &credentials.auth else {
            return Err(wrong_auth(Platform::Bluesky, credentials));
        };
        Ok(BlueskyPublisher {
            http: Http::new(credentials)?,
            identifier: identifier.clone(),
            app_password: app_password.clone(),
            session: Mutex::new(None),
        })
    }

    async fn send(&self, request: &ReplyRequest) -> Result<Sent, PublishError> {
        check_request(Platform::Bluesky, request)?;
        let given = request.in_reply_to_api_id.as_deref().unwrap_or(&request.in_reply_to);
        let target = parse_target(given).ok_or_else(|| PublishError::Invalid {
            platform: Platform::Bluesky,
            reason: format!(
                "{given:?} is not an AT URI (at://did/app.bsky.feed.post/rkey) or a bsky.app post URL; \
                 earshot stores Bluesky posts by AT URI"
            ),
        })?;
        let mut renewed = false;
        loop {
            let session = self.session().await?;
            match self.reply(&session, &target, request).await {
                Err(e) if !renewed && expired(&e) => {
                    self.renew(&session).await?;
                    renewed = true;
                }
                done => return done,
            }
        }
    }

    /// The current session, created on first use.
    async fn session(&self) -> Result<Session, PublishError> {
        let mut slot = self.session.lock().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let s = self.create_session().await?;
        *slot = Some(s.clone());
        Ok(s)
    }

    async fn create_session(&self) -> Result<Session, PublishError> {
        let url = self.http.url("/xrpc/com.atproto.server.createSession");
        let endpoint = format!("POST {url}");
        let body = json!({ "identifier": self.identifier, "password": self.app_password.expose() });
        let answer = self.http.call(&endpoint, self.http.client.post(&url).json(&body)).await?;
        Ok(self.http.success(&endpoint, &answer)?.0)
    }

    /// Replaces an expired session: refresh it, or log in again when the refresh token is spent too.
    async fn renew(&self, stale: &Session) -> Result<(), PublishError> {
        let mut slot = self.session.lock().await;
        if slot.as_ref().is_some_and(|s| s.access_jwt != stale.access_jwt) {
            return Ok(()); // renewed meanwhile by another reply
        }
        let url = self.http.url("/xrpc/com.atproto.server.refreshSession");
        let endpoint = format!("POST {url}");
        let call = self.http.client.post(&url).bearer_auth(&stale.refresh_jwt);
        let refreshed = match self.http.call(&endpoint, call).await {
            Ok(answer) => self.http.success::<Session>(&endpoint, &answer).map(|(s, _)| s),
            Err(e) => Err(e),
        };
        let fresh = match refreshed {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("refreshing the Bluesky session failed ({e}); creating a new one");
                self.create_session().await?
            }
        };
        *slot = Some(fresh);
        Ok(())
    }

    async fn reply(&self, session: &Session, target: &Target, request: &ReplyRequest) -> Result<Sent, PublishError> {
        let parent = self.get_record(session, target).await?;
        let parent_ref = StrongRef {
            cid: parent.cid.clone().ok_or_else(|| PublishError::BadResponse {
                platform: Platform::Bluesky,
                endpoint: "GET com.atproto.repo.getRecord".into(),
                detail: format!("the record {} came without a cid", parent.uri),
            })?,
            uri: parent.uri,
        };
        let root_ref = parent
            .value
            .get("reply")
            .and_then(|r| r.get("root"))
            .and_then(|root| StrongRef::deserialize(root).ok())
            .unwrap_or_else(|| parent_ref.clone());
        let created_at = request.created_at.unwrap_or_else(Utc::now).to_rfc3339_opts(SecondsFormat::Millis, true);
        let body = json!({
            "repo": session.did,
            "collection": POST,
            "record": {
                "$type": POST,
                "text": request.text,
                "createdAt": created_at,
                "reply": { "root": root_ref, "parent": parent_ref },
            },
        });
        let url = self.http.url("/xrpc/com.atproto.repo.createRecord");
        let endpoint = format!("POST {url}");
        let call = self.http.client.post(&url).bearer_auth(&session.access_jwt).json(&body);
        let answer = self.http.call(&endpoint, call).await?;
        let (created, raw): (Created, _) = self.http.success(&endpoint, &answer)?;
        let rkey = created.uri.rsplit('/').next().unwrap_or_default().to_string();
        Ok(Sent {
            platform: Platform::Bluesky,
            url: Some(format!("https://bsky.app/profile/{}/post/{rkey}", session.did)),
            native_id: created.uri,
            raw,
        })
    }

    async fn get_record(&self, session: &Session, target: &Target) -> Result<Record, PublishError> {
        let url = self.http.url("/xrpc/com.atproto.repo.getRecord");
        let endpoint = format!("GET {url}");
        let call = self.http.client.get(&url).bearer_auth(&session.access_jwt).query(&[
            ("repo", target.repo.as_str()),
            ("collection", target.collection.as_str()),
            ("rkey", target.rkey.as_str()),
        ]);
        let answer = self.http.call(&endpoint, call).await?;
        self.http.success(&endpoint, &answer).map(|(record, _)| record).map_err(|mut e| {
            // XRPC reports a missing record as 400 RecordNotFound: the post was deleted.
            if let PublishError::Rejected { code: Some(code), hint, .. } = &mut e
                && code == "RecordNotFound"
            {
                *hint = hint_for(Platform::Bluesky, 404, None);
            }
            e
        })
    }
}

impl Publisher for BlueskyPublisher {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn publish<'a>(&'a self, request: &'a ReplyRequest) -> BoxFuture<'a, Result<Sent, PublishError>> {
        Box::pin(self.send(request))
    }
}

/// An expired or revoked access token, which a new session fixes.
fn expired(e: &PublishError) -> bool {
    matches!(e.status(), Some(400 | 401)) && matches!(e.code(), Some("ExpiredToken" | "InvalidToken"))
}

/// `at://repo/collection/rkey`, or `https://bsky.app/profile/<handle or did>/post/<rkey>`.
fn parse_target(s: &str) -> Option<Target> {
    let s = s.trim();
    let ok = |x: &str| !x.is_empty() && !x.contains(['/', '?', '#']);
    if let Some(rest) = s.strip_prefix("at://") {
        let mut parts = rest.splitn(3, '/');
        let (repo, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
        return (ok(repo) && ok(collection) && ok(rkey)).then(|| Target {
            repo: repo.into(),
            collection: collection.into(),
            rkey: rkey.into(),
        });
    }
    let path = s.strip_prefix("https://bsky.app/profile/")?.split(['?', '#']).next()?;
    let mut parts = path.split('/');
    let (repo, post, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    (ok(repo) && post == "post" && ok(rkey)).then(|| Target {
        repo: repo.into(),
        collection: POST.into(),
        rkey: rkey.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_from_at_uris_and_web_urls() {
        let t = |repo: &str, rkey: &str| Some(Target { repo: repo.into(), collection: POST.into(), rkey: rkey.into() });
        assert_eq!(
            parse_target("at://did:plc:abc/app.bsky.feed.post/3l3qo2vuowo2b"),
            t("did:plc:abc", "3l3qo2vuowo2b")
        );
        assert_eq!(parse_target("https://bsky.app/profile/alice.bsky.social/post/3kx"), t("alice.bsky.social", "3kx"));
        assert_eq!(parse_target("at://did:plc:abc"), None);
        assert_eq!(parse_target("at://did:plc:abc/app.bsky.feed.post/"), None);
        assert_eq!(parse_target("https://bsky.app/profile/alice"), None);
    }
}
