//! The post stream between `earshot ingest --stream` (publishers) and `earshot worker` (consumers).
//!
//! [`Transport`] is what the binary needs from a log of messages: publish many messages and wait for the
//! broker to have them, fetch a partition's messages in order, acknowledge them once they are committed, and
//! say how far every partition is settled. [`nats::NatsTransport`] implements it over NATS JetStream; a Kafka
//! transport could implement the same trait (there is no Kafka broker on the machines earshot is tested on,
//! so none is built).
//!
//! **Partitions.** A message goes to one of a fixed number of partitions, chosen by [`partition_of`] from a
//! key (the post's brand): one partition's messages are delivered in publish order to one owner at a time,
//! so a brand's posts keep their order. **Sequence.** Every message gets a stream-wide sequence number in
//! publish order ([`Delivery::seq`]); the worker uses it as the post's id, so the store holds posts in the
//! order they were published whichever worker committed them first.
//!
//! The API is blocking (the store and the analyzers are synchronous): each transport runs its own small
//! tokio runtime.

use std::time::Duration;

pub mod nats;

pub use nats::{NatsTransport, Topic};

/// What can go wrong talking to the broker; the message says what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The broker could not be reached.
    #[error(
        "cannot connect to NATS at {url}: {reason}\nhint: start nats-server with JetStream (`nats-server -js`), or check --stream"
    )]
    Connect {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// A request to the broker failed.
    #[error("NATS error while {doing}: {reason}")]
    Broker {
        /// What was being done.
        doing: String,
        /// Why.
        reason: String,
    },
    /// The URL is not one this transport reads.
    #[error("{0}")]
    Config(String),
}

/// Result of the stream crate.
pub type Result<T, E = StreamError> = std::result::Result<T, E>;

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The partition ([`partition_of`]).
    pub partition: u32,
    /// A stable id of the content (e.g. `x:12345`): the broker drops a second copy published within its
    /// duplicate window, so re-running a publisher does not duplicate messages.
    pub id: String,
    /// The body.
    pub payload: Vec<u8>,
}

/// What a publish run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// Messages the broker stored.
    pub stored: u64,
    /// Messages the broker dropped as copies of one already stored (same id within the duplicate window).
    pub duplicates: u64,
}

/// A message delivered to a consumer. Acknowledge it with [`Transport::ack`] once its effects are committed;
/// an unacknowledged message is delivered again.
pub struct Delivery {
    /// The stream-wide sequence number (publish order).
    pub seq: u64,
    /// Its partition.
    pub partition: u32,
    /// The body.
    pub payload: bytes::Bytes,
    /// How many times it has been delivered (1 the first time).
    pub delivered: u64,
    pub(crate) handle: nats::Handle,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("seq", &self.seq).field("partition", &self.partition).finish_non_exhaustive()
    }
}

/// A partition's consumer, for lag metrics and for [`Transport::settled_through`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionState {
    /// Messages not delivered yet.
    pub pending: u64,
    /// Messages delivered and not acknowledged yet.
    pub unacked: u64,
    /// Every message of the partition up to this sequence is acknowledged.
    pub acked_through: u64,
}

impl PartitionState {
    /// Pending plus unacknowledged: what the partition's owner still has to do.
    pub fn lag(&self) -> u64 {
        self.pending + self.unacked
    }
}

/// A partitioned, ordered, acknowledged log of messages.
pub trait Transport: Send + Sync {
    /// The number of partitions (fixed when the stream is created).
    fn partitions(&self) -> u32;

    /// Publishes `messages` (many in flight) and returns once the broker has acknowledged every one; a message
    /// whose publish fails is sent again (the id makes that safe).
    fn publish(&self, messages: Vec<Outgoing>) -> Result<Published>;

    /// Up to `max` messages of `partition`, in order, waiting at most `wait` for the first one.
    fn fetch(&self, partition: u32, max: usize, wait: Duration) -> Result<Vec<Delivery>>;

    /// Acknowledges deliveries (their effects are committed): they are not delivered again.
    fn ack(&self, deliveries: Vec<Delivery>) -> Result<()>;

    /// The consumer state of `partition`.
    fn partition_state(&self, partition: u32) -> Result<PartitionState>;

    /// A sequence number such that every message published with a sequence up to it is acknowledged, in
    /// every partition. Messages published later get higher numbers.
    fn settled_through(&self) -> Result<u64>;

    /// Starts `partition`'s delivery again from its oldest unacknowledged message, so a new owner sees the
    /// messages a failed owner had fetched before any later ones (order is kept across a handover).
    fn rewind(&self, partition: u32) -> Result<()>;
}

/// The partition of a key: FNV-1a (stable across builds and machines, unlike std's hasher) modulo
/// `partitions`. Posts without a brand use the empty key, so they all go to one partition.
pub fn partition_of(key: &str, partitions: u32) -> u32 {
    (fnv1a(key.as_bytes()) % u64::from(partitions.max(1))) as u32
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_in_range() {
        // The published FNV-1a test vectors: a change of hash would move brands between partitions of
        // existing streams.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        for key in ["", "Gilt", "Brooks", "Acme Air", "ÜberBrand"] {
            assert!(partition_of(key, 8) < 8);
            assert_eq!(partition_of(key, 1), 0);
        }
        let spread: std::collections::BTreeSet<u32> = (0..64).map(|i| partition_of(&format!("brand {i}"), 8)).collect();
        assert_eq!(spread.len(), 8, "64 brands use every partition");
    }
}
