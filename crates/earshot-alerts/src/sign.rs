//! Webhook signatures: HMAC-SHA256 over `"<timestamp>.<body>"`.
//!
//! # The scheme
//!
//! Every request earshot sends to a webhook carries these headers:
//!
//! | header | value |
//! |---|---|
//! | `Earshot-Timestamp` | Unix seconds when this attempt was signed, e.g. `1714567890` |
//! | `Earshot-Signature` | `v1=` followed by the lowercase hex of `HMAC-SHA256(secret, "<timestamp>.<body>")` |
//! | `Earshot-Delivery` | the delivery's id: the same on every retry of one alert to one webhook, so receivers dedupe on it |
//! | `Earshot-Event` | `storm.opened`, `storm.updated` or `storm.closed` |
//!
//! The signed string is the timestamp's decimal digits, one `.`, then the raw request body bytes —
//! Stripe's signed payload (`t.body`), sent in separate headers as Slack sends its request signatures.
//! The secret is the environment variable's value taken as UTF-8 bytes (not hex- or base64-decoded).
//!
//! A receiver recomputes the HMAC over the body *as received* (before parsing the JSON), compares it
//! in constant time, and rejects timestamps further than a tolerance (five minutes here, as Stripe and
//! Slack use) from its own clock, which stops a captured request from being replayed later.
//! [`verify`] does all three. Because the timestamp is signed, earshot re-signs each retry with a fresh
//! one: a delivery retried an hour later still verifies.
//!
//! `Earshot-Signature` may hold several space- or comma-separated `v1=` values; the request verifies
//! when any one matches, so a receiver can accept an old and a new secret while rotating.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// Header carrying the Unix time (seconds) the attempt was signed.
pub const TIMESTAMP_HEADER: &str = "Earshot-Timestamp";
/// Header carrying `v1=<hex hmac>`.
pub const SIGNATURE_HEADER: &str = "Earshot-Signature";
/// Header carrying the delivery id, stable across retries: receivers dedupe on it.
pub const DELIVERY_HEADER: &str = "Earshot-Delivery";
/// Header carrying the event name (`storm.opened`, `storm.updated`, `storm.closed`).
pub const EVENT_HEADER: &str = "Earshot-Event";
/// The signature scheme's version prefix.
pub const SIGNATURE_VERSION: &str = "v1";
/// How far a timestamp may be from the receiver's clock: five minutes, as Stripe and Slack use.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (long keys are hashed first), so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Earshot-Signature` value for a body signed at `timestamp` (Unix seconds): `v1=<64 hex digits>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body).finalize().into_bytes();
    format!("{SIGNATURE_VERSION}={}", hex::encode(tag))
}

/// Why a request did not verify. Receivers should answer 400 or 401 and log the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `Earshot-Timestamp` is not a decimal number of seconds.
    #[error("the {TIMESTAMP_HEADER} header {0:?} is not Unix seconds")]
    BadTimestamp(String),
    /// `Earshot-Signature` has no `v1=<64 hex digits>` value.
    #[error("the {SIGNATURE_HEADER} header has no v1=<hex> signature")]
    NoSignature,
    /// No signature matches: the body or timestamp was altered, or the secrets differ.
    #[error(
        "the signature does not match: the body or timestamp was altered, or the receiver's secret is not the one in earshot's secret_env"
    )]
    Mismatch,
    /// The signature matches but the timestamp is too far from the receiver's clock (a replay, or a
    /// clock out of sync).
    #[error(
        "the request was signed {skew_secs} s from now, beyond the {tolerance_secs} s tolerance: a replay, or clocks out of sync"
    )]
    Stale {
        /// Receiver's clock minus the timestamp (negative: signed in the future).
        skew_secs: i64,
        /// The tolerance in seconds.
        tolerance_secs: u64,
    },
}

/// Checks a received request: `timestamp` and `signature_header` are the `Earshot-Timestamp` and
/// `Earshot-Signature` header values, `body` the raw bytes received, `now` the receiver's clock.
///
/// The comparison is constant-time (`hmac`'s `verify_slice`). The signature is checked before the age,
/// so an altered request reports [`VerifyError::Mismatch`] whatever its timestamp.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature_header: &str,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp = timestamp.trim();
    let signed_at: i64 = timestamp
        .parse()
        .ok()
        .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| VerifyError::BadTimestamp(timestamp.to_string()))?;
    let candidates: Vec<Vec<u8>> = signature_header
        .split([',', ' '])
        .filter_map(|part| part.trim().strip_prefix(SIGNATURE_VERSION)?.strip_prefix('='))
        .filter_map(|h| hex::decode(h).ok())
        .filter(|tag| tag.len() == 32)
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let expected = mac(secret, timestamp, body);
    if !candidates.iter().any(|tag| expected.clone().verify_slice(tag).is_ok()) {
        return Err(VerifyError::Mismatch);
    }
    let skew = now.timestamp().saturating_sub(signed_at);
    if skew.unsigned_abs() > tolerance.as_secs() {
        return Err(VerifyError::Stale { skew_secs: skew, tolerance_secs: tolerance.as_secs() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn known_answer() {
        // Computed with OpenSSL (and checked with Python's hmac): printf '1714567890.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature(b"whsec_test", 1_714_567_890, br#"{"a":1}"#),
            "v1=ec5d689f775d72f40f630938675d014f147f03ec40ebae63154a3f6c6a929c5b"
        );
    }

    #[test]
    fn round_trip_and_failures() {
        let body = br#"{"event":"storm.opened"}"#;
        let sig = signature(b"s3cret", 1000, body);
        let tol = DEFAULT_TOLERANCE;
        assert_eq!(verify(b"s3cret", "1000", body, &sig, at(1000), tol), Ok(()));
        assert_eq!(verify(b"s3cret", "1000", body, &sig, at(1300), tol), Ok(()), "exactly at the tolerance");
        assert_eq!(
            verify(b"s3cret", "1000", body, &sig, at(1301), tol),
            Err(VerifyError::Stale { skew_secs: 301, tolerance_secs: 300 })
        );
        assert_eq!(
            verify(b"s3cret", "1000", body, &sig, at(600), tol),
            Err(VerifyError::Stale { skew_secs: -400, tolerance_secs: 300 })
        );
        assert_eq!(verify(b"other", "1000", body, &sig, at(1000), tol), Err(VerifyError::Mismatch));
        assert_eq!(verify(b"s3cret", "1001", body, &sig, at(1000), tol), Err(VerifyError::Mismatch));
        assert_eq!(verify(b"s3cret", "1000", b"{}", &sig, at(1000), tol), Err(VerifyError::Mismatch));
        assert_eq!(
            verify(b"s3cret", "+1000", body, &sig, at(1000), tol),
            Err(VerifyError::BadTimestamp("+1000".into()))
        );
        assert_eq!(verify(b"s3cret", "soon", body, &sig, at(1000), tol), Err(VerifyError::BadTimestamp("soon".into())));
        assert_eq!(verify(b"s3cret", "1000", body, "sha256=abc", at(1000), tol), Err(VerifyError::NoSignature));
        assert_eq!(verify(b"s3cret", "1000", body, "v1=zz", at(1000), tol), Err(VerifyError::NoSignature));
        // Rotation: any listed signature may match.
        let old = signature(b"old", 1000, body);
        assert_eq!(verify(b"s3cret", "1000", body, &format!("{old}, {sig}"), at(1000), tol), Ok(()));
        assert_eq!(verify(b"old", "1000", body, &format!("{old} {sig}"), at(1000), tol), Ok(()));
    }

    proptest! {
        #[test]
        fn any_single_byte_change_fails(
            secret in proptest::collection::vec(any::<u8>(), 0..80),
            body in proptest::collection::vec(any::<u8>(), 1..300),
            ts in 0i64..4_000_000_000,
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let sig = signature(&secret, ts, &body);
            prop_assert_eq!(verify(&secret, &ts.to_string(), &body, &sig, at(ts), DEFAULT_TOLERANCE), Ok(()));
            let mut tampered = body.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 1 << bit;
            prop_assert_eq!(
                verify(&secret, &ts.to_string(), &tampered, &sig, at(ts), DEFAULT_TOLERANCE),
                Err(VerifyError::Mismatch)
            );
        }
    }
}
