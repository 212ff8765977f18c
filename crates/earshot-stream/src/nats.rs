//! [`Transport`] over NATS JetStream.
//!
//! - One stream (`--stream-name`, default `earshot-posts`) with subjects `<name>.<partition>`, work-queue
//!   retention (a message is removed once acknowledged) and file storage. Its description records the number
//!   of partitions, so publishers and workers agree without being told.
//! - One durable pull consumer per partition (`<name>-p<partition>`, filtered on its subject, explicit acks,
//!   unlimited redeliveries), created by whoever opens the stream first.
//! - Publishes carry `Nats-Msg-Id`, so JetStream's duplicate window (2 minutes by default) drops a message
//!   published twice; many publishes are in flight and each is confirmed by its ack before `publish` returns.
//!
//! Server versions: the client is built without async-nats' `server_2_10`+ features, so it sends only
//! fields a 2.9 server knows (Debian's nats-server is 2.9.10; the contract test runs against it and against
//! newer servers alike).

use crate::{Delivery, Outgoing, PartitionState, Published, Result, StreamError, Transport};
use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::{Config as StreamConfig, RetentionPolicy, StorageType};
use async_nats::jetstream::{self, Context};
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Partitions of a new stream unless told otherwise.
pub const DEFAULT_PARTITIONS: u32 = 8;
/// The stream's default name.
pub const DEFAULT_STREAM: &str = "earshot-posts";
/// Publishes awaiting their ack at once: enough to keep the link busy, bounded so memory stays flat.
const IN_FLIGHT: usize = 4096;
/// How long a delivered, unacknowledged message waits before JetStream delivers it again.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Attempts at publishing one message before giving up.
const PUBLISH_ATTEMPTS: u32 = 8;

/// A message as delivered, kept to acknowledge it.
pub(crate) type Handle = jetstream::Message;

/// Which stream and how many partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// The JetStream stream name (also the subjects' prefix).
    pub name: String,
    /// Number of partitions.
    pub partitions: u32,
}

impl Topic {
    /// The subject of a partition.
    pub fn subject(&self, partition: u32) -> String {
        format!("{}.{partition}", self.name)
    }

    /// The durable consumer of a partition.
    pub fn consumer(&self, partition: u32) -> String {
        format!("{}-p{partition}", self.name)
    }

    fn description(&self) -> String {
        format!("earshot posts; partitions={}", self.partitions)
    }

    fn partitions_in(description: Option<&str>) -> Option<u32> {
        description?.split("partitions=").nth(1)?.trim().parse().ok()
    }
}

/// A JetStream stream of posts; see the module doc.
pub struct NatsTransport {
    runtime: tokio::runtime::Runtime,
    client: async_nats::Client,
    js: Context,
    topic: Topic,
    url: String,
    consumers: Mutex<HashMap<u32, PullConsumer>>,
}

impl std::fmt::Debug for NatsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsTransport").field("url", &self.url).field("topic", &self.topic).finish_non_exhaustive()
    }
}

fn broker(doing: impl Into<String>, e: impl std::fmt::Display) -> StreamError {
    StreamError::Broker { doing: doing.into(), reason: e.to_string() }
}

/// Whether `target` names a NATS server (`nats://host:port`).
pub fn is_nats_url(target: &str) -> bool {
    target.starts_with("nats://")
}

impl NatsTransport {
    /// Connects to the NATS server at `url` (`nats://HOST:PORT`) and opens stream `name`, creating it with
    /// `partitions` (default [`DEFAULT_PARTITIONS`]) when missing, and its consumers. An existing stream keeps
    /// its partitions; asking for a different number is an error.
    pub fn open(url: &str, name: &str, partitions: Option<u32>) -> Result<NatsTransport> {
        if !is_nats_url(url) {
            return Err(StreamError::Config(format!(
                "{url} is not a NATS URL\nhint: pass --stream nats://HOST:PORT (NATS with JetStream on, e.g. nats://127.0.0.1:4222)"
            )));
        }
        if name.is_empty() || name.contains(['.', '*', '>', ' ']) {
            return Err(StreamError::Config(format!(
                "stream name {name:?} is not valid\nhint: use letters, digits, - and _ only"
            )));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| broker("starting the NATS client's runtime", e))?;
        let client = runtime
            .block_on(
                async_nats::ConnectOptions::new()
                    .name("earshot")
                    .connection_timeout(Duration::from_secs(5))
                    .connect(url),
            )
            .map_err(|e| StreamError::Connect { url: url.to_string(), reason: e.to_string() })?;
        // The context spawns its publish-ack task, so it is made inside the runtime.
        let js = runtime.block_on(async { jetstream::new(client.clone()) });
        let topic = runtime.block_on(ensure_stream(&js, name, partitions))?;
        let t =
            NatsTransport { runtime, client, js, topic, url: url.to_string(), consumers: Mutex::new(HashMap::new()) };
        for p in 0..t.topic.partitions {
            t.consumer(p)?;
        }
        Ok(t)
    }

    /// The stream and its partitions.
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// Whether the client is connected to the server now (it reconnects by itself after losing the link;
    /// requests made meanwhile wait or fail). Cheap: reads the client's state, sends nothing.
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Deletes the stream and its consumers (tests, `earshot worker --reset`-style tools).
    pub fn delete(self) -> Result<()> {
        let name = self.topic.name.clone();
        self.runtime
            .block_on(async { self.js.delete_stream(&name).await.map(|_| ()) })
            .map_err(|e| broker("deleting the stream", e))
    }

    fn consumer(&self, partition: u32) -> Result<PullConsumer> {
        let mut cache = self.consumers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&partition) {
            return Ok(c.clone());
        }
        let c = self.runtime.block_on(create_consumer(&self.js, &self.topic, partition))?;
        cache.insert(partition, c.clone());
        Ok(c)
    }

    async fn publish_one(&self, m: &Outgoing) -> Result<jetstream::context::PublishAckFuture> {
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, m.id.as_str());
        self.js
            .publish_with_headers(self.topic.subject(m.partition), headers, m.payload.clone().into())
            .await
            .map_err(|e| broker("publishing a message", e))
    }

    /// Waits for one publish's ack, publishing again (with backoff) on failure.
    async fn confirm(
        &self,
        m: &Outgoing,
        mut pending: jetstream::context::PublishAckFuture,
        out: &mut Published,
    ) -> Result<()> {
        let mut attempt = 1;
        loop {
            match pending.await {
                Ok(ack) => {
                    if ack.duplicate {
                        out.duplicates += 1;
                    } else {
                        out.stored += 1;
                    }
                    return Ok(());
                }
                Err(e) if attempt < PUBLISH_ATTEMPTS => {
                    tracing::warn!(id = %m.id, attempt, error = %e, "publish not acknowledged; publishing again");
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                    attempt += 1;
                    pending = loop {
                        match self.publish_one(m).await {
                            Ok(p) => break p,
                            Err(e) if attempt < PUBLISH_ATTEMPTS => {
                                tracing::warn!(id = %m.id, attempt, error = %e, "publish failed; trying again");
                                tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                                attempt += 1;
                            }
                            Err(e) => return Err(e),
                        }
                    };
                }
                Err(e) => return Err(broker(format!("publishing message {} ({attempt} attempts)", m.id), e)),
            }
        }
    }
}

async fn ensure_stream(js: &Context, name: &str, partitions: Option<u32>) -> Result<Topic> {
    match js.get_stream(name).await {
        Ok(stream) => {
            let found = Topic::partitions_in(stream.cached_info().config.description.as_deref()).ok_or_else(|| {
                StreamError::Config(format!(
                    "stream {name} exists but was not made by earshot (no partition count in its description)\nhint: pass another --stream-name"
                ))
            })?;
            if let Some(want) = partitions
                && want != found
            {
                return Err(StreamError::Config(format!(
                    "stream {name} has {found} partitions, not {want}\nhint: leave out --partitions, or use a new --stream-name"
                )));
            }
            Ok(Topic { name: name.to_string(), partitions: found })
        }
        Err(e)
            if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(j)
                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            let topic = Topic { name: name.to_string(), partitions: partitions.unwrap_or(DEFAULT_PARTITIONS).max(1) };
            let config = StreamConfig {
                name: name.to_string(),
                description: Some(topic.description()),
                subjects: vec![format!("{name}.*")],
                retention: RetentionPolicy::WorkQueue,
                storage: StorageType::File,
                ..Default::default()
            };
            match js.create_stream(config).await {
                Ok(_) => Ok(topic),
                // Someone else created it meanwhile: read theirs.
                Err(_) => Box::pin(ensure_stream(js, name, partitions)).await,
            }
        }
        Err(e) => Err(broker(format!("opening stream {name}"), e)),
    }
}

async fn create_consumer(js: &Context, topic: &Topic, partition: u32) -> Result<PullConsumer> {
    let name = topic.consumer(partition);
    let config = pull::Config {
        durable_name: Some(name.clone()),
        filter_subject: topic.subject(partition),
        ack_policy: AckPolicy::Explicit,
        ack_wait: ACK_WAIT,
        deliver_policy: DeliverPolicy::All,
        max_deliver: -1,
        max_ack_pending: 100_000,
        ..Default::default()
    };
    js.create_consumer_on_stream(config, topic.name.as_str())
        .await
        .map_err(|e| broker(format!("creating consumer {name}"), e))
}

impl Transport for NatsTransport {
    fn partitions(&self) -> u32 {
        self.topic.partitions
    }

    fn publish(&self, messages: Vec<Outgoing>) -> Result<Published> {
        self.runtime.block_on(async {
            let mut out = Published::default();
            let mut in_flight = VecDeque::with_capacity(IN_FLIGHT);
            for m in &messages {
                if in_flight.len() >= IN_FLIGHT {
                    let (m, pending) = in_flight.pop_front().expect("not empty");
                    self.confirm(m, pending, &mut out).await?;
                }
                let pending = self.publish_one(m).await?;
                in_flight.push_back((m, pending));
            }
            while let Some((m, pending)) = in_flight.pop_front() {
                self.confirm(m, pending, &mut out).await?;
            }
            Ok(out)
        })
    }

    fn fetch(&self, partition: u32, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        let consumer = self.consumer(partition)?;
        let doing = || format!("fetching from partition {partition}");
        self.runtime.block_on(async {
            let mut out = Vec::new();
            // What is there now; when nothing is, wait for the first message, then take what came with it.
            let mut messages = consumer.fetch().max_messages(max).messages().await.map_err(|e| broker(doing(), e))?;
            while let Some(m) = messages.next().await {
                out.push(m.map_err(|e| broker(doing(), e))?);
            }
            if out.is_empty() {
                let mut first =
                    consumer.batch().max_messages(1).expires(wait).messages().await.map_err(|e| broker(doing(), e))?;
                while let Some(m) = first.next().await {
                    out.push(m.map_err(|e| broker(doing(), e))?);
                }
                if !out.is_empty() && max > 1 {
                    let mut more =
                        consumer.fetch().max_messages(max - 1).messages().await.map_err(|e| broker(doing(), e))?;
                    while let Some(m) = more.next().await {
                        out.push(m.map_err(|e| broker(doing(), e))?);
                    }
                }
            }
            out.into_iter()
                .map(|m| {
                    let info = m.info().map_err(|e| broker("reading a message's metadata", e))?;
                    let (seq, delivered) = (info.stream_sequence, info.delivered.max(1) as u64);
                    Ok(Delivery { seq, partition, payload: m.payload.clone(), delivered, handle: m })
                })
                .collect()
        })
    }

    fn ack(&self, deliveries: Vec<Delivery>) -> Result<()> {
        self.runtime.block_on(async {
            for d in &deliveries {
                d.handle.ack().await.map_err(|e| broker("acknowledging a message", e))?;
            }
            self.client.flush().await.map_err(|e| broker("sending acknowledgements", e))
        })
    }

    fn partition_state(&self, partition: u32) -> Result<PartitionState> {
        let consumer = self.consumer(partition)?;
        let info = self
            .runtime
            .block_on(consumer.get_info())
            .map_err(|e| broker(format!("reading consumer {}", self.topic.consumer(partition)), e))?;
        Ok(PartitionState {
            pending: info.num_pending,
            unacked: info.num_ack_pending as u64,
            acked_through: info.ack_floor.stream_sequence,
        })
    }

    fn settled_through(&self) -> Result<u64> {
        // The last sequence first: a partition found idle afterwards has acknowledged everything up to it.
        let last = self
            .runtime
            .block_on(async { self.js.get_stream(&self.topic.name).await.map(|s| s.cached_info().state.last_sequence) })
            .map_err(|e| broker(format!("reading stream {}", self.topic.name), e))?;
        let mut settled = last;
        for p in 0..self.topic.partitions {
            let s = self.partition_state(p)?;
            let through = if s.pending == 0 && s.unacked == 0 { last } else { s.acked_through };
            settled = settled.min(through);
        }
        Ok(settled)
    }

    fn rewind(&self, partition: u32) -> Result<()> {
        let name = self.topic.consumer(partition);
        self.consumers.lock().unwrap_or_else(|e| e.into_inner()).remove(&partition);
        self.runtime
            .block_on(self.js.delete_consumer_from_stream(&name, &self.topic.name))
            .map_err(|e| broker(format!("deleting consumer {name}"), e))?;
        self.consumer(partition).map(|_| ())
    }
}
