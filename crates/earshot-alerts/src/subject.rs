//! What an alert is about: a storm, as this crate needs to see it.
//!
//! Deliberately not `earshot-storms`' own type: the pipeline maps its storms to an [`AlertSubject`]
//! (or builds one from JSON with [`AlertSubject::from_value`]), so the detector can change shape
//! without breaking the webhook format receivers depend on.

use crate::alerter::{StormEvent, StormPhase};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A storm, as sent to webhooks. Its serde form is the `storm` object of the earshot payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSubject {
    /// The storm's stable id (the detector's); alerts, deliveries and cooldowns are keyed by it.
    #[serde(rename = "id", alias = "storm_id")]
    pub storm_id: String,
    /// The brand the storm is about, as named in `[[brands]]`.
    pub brand: String,
    /// What the detector found, e.g. `volume` (a spike) or `campaign` (coordinated posts).
    pub kind: String,
    /// What the storm is grouped by, e.g. `hashtag`, `product`, `link`; empty for the brand as a whole.
    #[serde(default)]
    pub facet: String,
    /// The value of the facet, e.g. `#giltdown`; empty when `facet` is.
    #[serde(default)]
    pub key: String,
    /// Published time of the storm's first post.
    pub started_at: DateTime<Utc>,
    /// When the detector opened the storm.
    pub detected_at: DateTime<Utc>,
    /// When the detector closed it, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Posts in the storm so far.
    pub posts: u64,
    /// Distinct authors so far.
    pub authors: u64,
    /// The most frequent hashtags, without `#`, most frequent first.
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// A few representative posts, most telling first.
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// Link to the storm in earshot's inbox, when the server's public URL is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One representative post of a storm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Author handle, without `@`.
    pub author: String,
    /// The post's text.
    pub text: String,
    /// Link to the post on its platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A JSON value that is not an [`AlertSubject`].
#[derive(Debug, thiserror::Error)]
#[error(
    "the storm JSON cannot be alerted on: {0}; it needs id (or storm_id), brand, kind, started_at, detected_at (RFC 3339), posts and authors"
)]
pub struct SubjectError(#[from] serde_json::Error);

impl AlertSubject {
    /// Reads a storm from JSON: the fields of [`AlertSubject`], with `id` or `storm_id`; unknown fields
    /// are ignored, so a detector's own serialized storm works when its names match.
    pub fn from_value(value: serde_json::Value) -> Result<AlertSubject, SubjectError> {
        Ok(serde_json::from_value(value)?)
    }

    /// The event to feed the [`Alerter`](crate::Alerter) for this storm in `phase`, at `at`.
    pub fn event(&self, phase: StormPhase, at: DateTime<Utc>) -> StormEvent {
        StormEvent { storm_id: self.storm_id.clone(), phase, posts: self.posts, at }
    }

    /// `facet key` for people (`hashtag #giltdown`), or empty.
    pub(crate) fn topic(&self) -> String {
        match (self.facet.is_empty(), self.key.is_empty()) {
            (_, true) => String::new(),
            (true, false) => self.key.clone(),
            (false, false) => format!("{} {}", self.facet, self.key),
        }
    }
}

#[cfg(test)]
pub(crate) fn example() -> AlertSubject {
    AlertSubject {
        storm_id: "storm-42".into(),
        brand: "Gilt".into(),
        kind: "volume".into(),
        facet: "hashtag".into(),
        key: "#giltdown".into(),
        started_at: DateTime::from_timestamp(1_714_560_000, 0).unwrap(),
        detected_at: DateTime::from_timestamp(1_714_561_800, 0).unwrap(),
        closed_at: None,
        posts: 120,
        authors: 87,
        hashtags: vec!["giltdown".into(), "outage".into()],
        samples: vec![Sample {
            author: "ana".into(),
            text: "App down again <3 & no reply from @gilt".into(),
            url: Some("https://x.com/ana/status/1".into()),
        }],
        url: Some("https://earshot.example/storms/storm-42".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn from_value_accepts_storm_id_and_ignores_extra_fields() {
        let s = AlertSubject::from_value(json!({
            "storm_id": "s1", "brand": "Gilt", "kind": "campaign",
            "started_at": "2024-05-01T10:00:00Z", "detected_at": "2024-05-01T10:30:00Z",
            "posts": 40, "authors": 12, "score": 0.93
        }))
        .unwrap();
        assert_eq!((s.storm_id.as_str(), s.posts, s.facet.as_str()), ("s1", 40, ""));
        let round: AlertSubject = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(round, s);
    }

    #[test]
    fn from_value_says_what_is_missing() {
        let e = AlertSubject::from_value(json!({"id": "s1", "brand": "Gilt"})).unwrap_err().to_string();
        assert!(e.contains("missing field `kind`"), "{e}");
    }

    #[test]
    fn topic() {
        let mut s = example();
        assert_eq!(s.topic(), "hashtag #giltdown");
        s.facet.clear();
        assert_eq!(s.topic(), "#giltdown");
        s.key.clear();
        assert_eq!(s.topic(), "");
    }
}
