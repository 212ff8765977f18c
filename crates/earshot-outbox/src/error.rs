//! What can go wrong when publishing a reply, and how the outbox should react.

use chrono::{DateTime, Utc};
use earshot_core::Platform;
use std::time::Duration;

/// When a platform asked to be called again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAt {
    /// After this long, counted from when the answer arrived (`Retry-After: 30`).
    After(Duration),
    /// At this instant (`x-rate-limit-reset: 1700000000`, `X-RateLimit-Reset: 2024-05-01T12:00:00Z`).
    At(DateTime<Utc>),
}

impl RetryAt {
    /// The instant this names, given the time the answer arrived.
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            RetryAt::After(d) => now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX),
            RetryAt::At(t) => t,
        }
    }
}

/// How the outbox treats a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Nothing was posted and trying again may work (network unreachable, 5xx, 429).
    Retryable,
    /// Trying again will fail the same way (bad token, deleted post, text too long).
    Permanent,
    /// The request may have reached the platform before the connection broke: re-sending is safe only
    /// where the platform dedupes on the idempotency key.
    Ambiguous,
}

/// Why a reply could not be published. Messages say what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The platform answered with an error status.
    #[error("{} refused the reply: {endpoint} answered HTTP {status}: {message}; {hint}", name(*.platform))]
    Rejected {
        /// Where.
        platform: Platform,
        /// Method and URL called, without credentials (`POST https://api.x.com/2/tweets`).
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The platform's machine-readable error code, when it sent one (`ExpiredToken`, `rest_comment_invalid_post_id`).
        code: Option<String>,
        /// The platform's own explanation.
        message: String,
        /// When the platform asked to be called again (429, some 503s).
        retry_at: Option<RetryAt>,
        /// What to do about it.
        hint: String,
    },
    /// The platform could not be reached, or the connection broke before an answer arrived.
    #[error("could not reach {} at {endpoint}: {detail}; {}", name(*.platform), network_hint(*.maybe_delivered))]
    Network {
        /// Where.
        platform: Platform,
        /// Method and URL called.
        endpoint: String,
        /// The transport error, with its causes.
        detail: String,
        /// False only when the connection was never made, so nothing can have been posted.
        maybe_delivered: bool,
    },
    /// The platform accepted the call but its answer is not what its API documents.
    #[error(
        "{} accepted {endpoint} but its answer could not be read: {detail}; the reply was probably posted, check {} before sending it again",
        name(*.platform), name(*.platform)
    )]
    BadResponse {
        /// Where.
        platform: Platform,
        /// Method and URL called.
        endpoint: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// The reply cannot be sent as asked (unusable target id, wrong platform, client setup failed);
    /// nothing was called.
    #[error("cannot reply on {}: {reason}", name(*.platform))]
    Invalid {
        /// Where.
        platform: Platform,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl PublishError {
    /// Whether retrying can help.
    pub fn class(&self) -> ErrorClass {
        match self {
            PublishError::Rejected { status, .. } => {
                if *status == 429 || *status == 408 || *status >= 500 {
                    ErrorClass::Retryable
                } else {
                    ErrorClass::Permanent
                }
            }
            PublishError::Network { maybe_delivered: false, .. } => ErrorClass::Retryable,
            PublishError::Network { maybe_delivered: true, .. } => ErrorClass::Ambiguous,
            PublishError::BadResponse { .. } | PublishError::Invalid { .. } => ErrorClass::Permanent,
        }
    }

    /// When the platform asked to be called again, if it did.
    pub fn retry_at(&self) -> Option<RetryAt> {
        match self {
            PublishError::Rejected { retry_at, .. } => *retry_at,
            _ => None,
        }
    }

    /// The HTTP status, when the platform answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            PublishError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The platform's machine-readable error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PublishError::Rejected { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The platform the error came from.
    pub fn platform(&self) -> Platform {
        match self {
            PublishError::Rejected { platform, .. }
            | PublishError::Network { platform, .. }
            | PublishError::BadResponse { platform, .. }
            | PublishError::Invalid { platform, .. } => *platform,
        }
    }
}

/// The name users know a platform's reply API by.
pub(crate) fn name(platform: Platform) -> &'static str {
    match platform {
        Platform::X => "X",
        Platform::Mastodon => "Mastodon",
        Platform::Bluesky => "Bluesky",
        Platform::Blog => "WordPress",
        Platform::Other => "other",
    }
}

fn network_hint(maybe_delivered: bool) -> &'static str {
    if maybe_delivered {
        "the request may have been received before the connection broke, so the reply may have been posted"
    } else {
        "nothing was sent; check the base_url and the network, earshot retries with backoff"
    }
}

/// What to do about an HTTP error status, in one sentence.
pub(crate) fn hint_for(platform: Platform, status: u16, secret_env: Option<&str>) -> String {
    let secret = match secret_env {
        Some(env) => format!("the secret in the environment variable {env}"),
        None => "the configured secret".to_string(),
    };
    match status {
        400 => "the platform says the request is invalid: check the post being answered and the reply text".into(),
        401 => format!(
            "the credentials were refused: check or regenerate {secret} for this brand on {}, then retry",
            name(platform)
        ),
        403 => "the account may not post this reply (missing write permission or scope, suspended account, \
                replies limited by the author, or duplicate text): check the account on the platform"
            .into(),
        404 | 410 => "the post being answered was not found: it was probably deleted, so the reply was dropped".into(),
        413 | 422 => "the platform refused the text (too long or invalid): edit the reply and queue it again".into(),
        429 => "rate limited: earshot retries after the time the platform gave".into(),
        s if s >= 500 => "the platform had a server error: earshot retries with backoff".into(),
        _ => "unexpected status: check the platform's status page and the account".into(),
    }
}
