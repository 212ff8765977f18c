//! The publisher plug-in trait and its registry.
//!
//! **To add a platform:** write `<platform>.rs` with a type implementing [`Publisher`], add a match arm
//! to [`publisher_for`], an [`crate::Auth`] variant, and its endpoints to `fake.rs`.

use crate::config::{Account, Auth, Credentials};
use crate::error::PublishError;
use crate::{bluesky, mastodon, wordpress, x};
use chrono::{DateTime, Utc};
use earshot_core::Platform;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, so [`Publisher`] can be used as `dyn Publisher`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One reply to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRequest {
    /// Where to publish; must match the publisher's platform.
    pub platform: Platform,
    /// The post being answered, by its native id as earshot stores it:
    ///
    /// - X: the tweet id (a status URL `https://x.com/user/status/ID` also works);
    /// - Mastodon: the status URI (`https://host/users/name/statuses/ID`), a status URL, or the
    ///   numeric id on the brand's instance (see [`ReplyRequest::in_reply_to_api_id`]);
    /// - Bluesky: the AT URI `at://did/app.bsky.feed.post/rkey` (a `https://bsky.app/profile/…/post/…`
    ///   URL also works);
    /// - WordPress: the feed guid of the post (`https://blog.example/?p=12`) or comment
    ///   (`https://blog.example/?p=12#comment-41`), or `12` / `12:41` (post id, comment id).
    pub in_reply_to: String,
    /// The id the API needs when it differs from `in_reply_to`. Mastodon replies need the status id
    /// *on the brand's instance*: without this, a numeric `in_reply_to` is used as is, a URI or URL on
    /// the brand's own instance gives its last path segment, and any other is resolved through the
    /// instance's search (`GET /api/v2/search?resolve=true`). WordPress: `post` or `post:comment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to_api_id: Option<String>,
    /// The reply text, as the customer will read it.
    pub text: String,
    /// Stable per draft ([`crate::idempotency_key`]); sent as Mastodon's `Idempotency-Key`.
    pub idempotency_key: String,
    /// The record's creation time where the platform wants the client to say it (Bluesky
    /// `createdAt`); the wall clock when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A published reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// Where it was published.
    pub platform: Platform,
    /// The reply's native id in earshot's scheme for that platform, so the reply matches the post when
    /// it is later ingested: X tweet id, Mastodon status URI, Bluesky AT URI, WordPress comment guid
    /// (`<post guid>#comment-N`, or the comment's link when the post guid is unknown).
    pub native_id: String,
    /// Public URL of the reply, when known.
    pub url: Option<String>,
    /// The platform's answer to the call that created the reply, untouched.
    pub raw: serde_json::Value,
}

/// Publishes replies on one platform for one account.
pub trait Publisher: Send + Sync {
    /// The platform it publishes on.
    fn platform(&self) -> Platform;

    /// Publishes one reply. Calls the platform; never retries except to renew an expired session.
    fn publish<'a>(&'a self, request: &'a ReplyRequest) -> BoxFuture<'a, Result<Sent, PublishError>>;
}

/// The publisher for an account: the one place platforms are registered.
pub fn publisher_for(credentials: &Credentials) -> Result<Box<dyn Publisher>, PublishError> {
    Ok(match &credentials.auth {
        Auth::X { .. } => Box::new(x::XPublisher::new(credentials)?),
        Auth::Mastodon { .. } => Box::new(mastodon::MastodonPublisher::new(credentials)?),
        Auth::Bluesky { .. } => Box::new(bluesky::BlueskyPublisher::new(credentials)?),
        Auth::WordPress { .. } => Box::new(wordpress::WordPressPublisher::new(credentials)?),
    })
}

/// The error for credentials of another platform handed to a publisher.
pub(crate) fn wrong_auth(platform: Platform, credentials: &Credentials) -> PublishError {
    PublishError::Invalid {
        platform,
        reason: format!(
            "the credentials given are for {}; use publisher_for to pick the publisher",
            credentials.platform()
        ),
    }
}

/// Checks a request is for the publisher's platform and has text.
pub(crate) fn check_request(platform: Platform, request: &ReplyRequest) -> Result<(), PublishError> {
    if request.platform != platform {
        return Err(PublishError::Invalid {
            platform,
            reason: format!("the reply is for {}, not this publisher's platform", request.platform),
        });
    }
    if request.text.trim().is_empty() {
        return Err(PublishError::Invalid { platform, reason: "the reply text is empty".to_string() });
    }
    if request.in_reply_to.trim().is_empty() {
        return Err(PublishError::Invalid { platform, reason: "the post being answered is not given".to_string() });
    }
    Ok(())
}

/// Publishers by brand (case-insensitive) and platform.
#[derive(Default)]
pub struct Publishers {
    by_account: BTreeMap<(String, Platform), Box<dyn Publisher>>,
}

impl Publishers {
    /// No publishers.
    pub fn new() -> Publishers {
        Publishers::default()
    }

    /// One publisher per resolved account.
    pub fn from_accounts(accounts: &[Account]) -> Result<Publishers, PublishError> {
        let mut publishers = Publishers::new();
        for account in accounts {
            publishers.insert(&account.brand, publisher_for(&account.credentials)?);
        }
        Ok(publishers)
    }

    /// Adds or replaces the brand's publisher on the publisher's platform.
    pub fn insert(&mut self, brand: &str, publisher: Box<dyn Publisher>) {
        self.by_account.insert((brand.trim().to_lowercase(), publisher.platform()), publisher);
    }

    /// The brand's publisher on a platform.
    pub fn get(&self, brand: &str, platform: Platform) -> Option<&dyn Publisher> {
        self.by_account.get(&(brand.trim().to_lowercase(), platform)).map(|p| p.as_ref())
    }

    /// How many accounts have a publisher.
    pub fn len(&self) -> usize {
        self.by_account.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.by_account.is_empty()
    }
}
