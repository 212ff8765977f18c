//! RSS/Atom polling with conditional requests.
//!
//! Every `poll_interval` the feed is fetched with `If-None-Match` (the last `ETag`) and
//! `If-Modified-Since` (the last `Last-Modified`); `304 Not Modified` costs nothing, `200` hands the whole
//! document over as one record for the `feed` decoder (items already stored count as duplicates). The
//! cursor is those two validators as JSON, saved once the document's items are committed, so a restart
//! does not refetch an unchanged feed. A feed only shows its latest items: items that scrolled out between
//! two polls cannot be read again, so `poll_interval` must be shorter than the time a feed takes to turn over.

use crate::config::SourceConfig;
use crate::source::{BoxFuture, Health, Link, Record, SessionEnd, Source, SourceError, status_error};
use earshot_core::decode::Decoder;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The RSS/Atom polling source.
#[derive(Debug)]
pub struct FeedPoll {
    url: String,
    poll: Duration,
}

/// The conditional-request validators, stored as the cursor.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Validators {
    /// The last `ETag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The last `Last-Modified`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl FeedPoll {
    /// The source of a config entry.
    pub fn new(config: &SourceConfig) -> FeedPoll {
        FeedPoll { url: config.url.trim().to_string(), poll: config.poll_interval() }
    }

    async fn run(&self, link: &mut Link) -> Result<SessionEnd, SourceError> {
        let validators: Validators =
            link.cursor.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
        let mut req = link.http.get(&self.url).header("accept", "application/rss+xml, application/atom+xml, */*");
        if let Some(e) = &validators.etag {
            req = req.header("if-none-match", e);
        }
        if let Some(m) = &validators.last_modified {
            req = req.header("if-modified-since", m);
        }
        if let Some(t) = &link.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        if resp.status().as_u16() == 304 {
            link.health(Health::Idle).await?;
            return Ok(SessionEnd::Wait(self.poll));
        }
        if !resp.status().is_success() {
            return Err(status_error("feed", resp).await);
        }
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let next = Validators { etag: header("etag"), last_modified: header("last-modified") };
        let body = resp.bytes().await?;
        link.health(Health::Connected).await?;
        let cursor = (next != Validators::default()).then(|| serde_json::to_string(&next).unwrap_or_default());
        link.emit(Record { bytes: body.to_vec(), cursor, at: None }).await?;
        link.health(Health::Idle).await?;
        Ok(SessionEnd::Wait(self.poll))
    }
}

impl Source for FeedPoll {
    fn decoder(&self) -> &'static dyn Decoder {
        &earshot_core::decode::feed::Feed
    }

    fn session<'a>(&'a self, link: &'a mut Link) -> BoxFuture<'a, Result<SessionEnd, SourceError>> {
        Box::pin(self.run(link))
    }
}
