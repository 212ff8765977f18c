//! The outbox driving real publishers against the fake platforms: retries, rate limits, permanent
//! failures, idempotency across a crash, dry runs.

use chrono::{DateTime, Duration, Utc};
use earshot_outbox::fake::{Failure, FakePlatforms};
use earshot_outbox::{
    Backoff, Delivery, Outbox, OutboxConfig, OutboxItem, OutboxState, Outcome, Platform, Publishers, publisher_for,
};

fn live() -> Outbox {
    Outbox { dry_run: false, backoff: Backoff::default().without_jitter(), ..Outbox::default() }
}

fn item(platform: Platform, in_reply_to: &str, draft: &str) -> OutboxItem {
    OutboxItem::new("case-7", draft, "Gilt", platform, in_reply_to, "Sorry about that, we're on it.", t0())
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_714_567_890, 0).unwrap()
}

fn states(journal: &[OutboxItem]) -> Vec<OutboxState> {
    journal.iter().map(|i| i.state).collect()
}

#[tokio::test]
async fn retries_after_a_500_then_sends_once() {
    let fake = FakePlatforms::start().await;
    fake.fail_next(Platform::X, 1, Failure::status(500));
    let publishers = fake.publishers("gilt"); // brands match case-insensitively
    let outbox = live();
    let mut items = vec![item(Platform::X, "1789000000000000042", "d1")];
    let mut journal: Vec<OutboxItem> = Vec::new();

    let report = outbox.run(&mut items, &publishers, &mut journal, t0()).await.unwrap();
    assert_eq!((report.sent(), report.retrying(), report.failed()), (0, 1, 0));
    assert_eq!(items[0].state, OutboxState::Pending);
    assert_eq!(items[0].next_attempt_at, t0() + Duration::seconds(2), "first backoff is 2 s");
    assert!(items[0].last_error.as_deref().unwrap().contains("HTTP 500"));

    // Not due yet: nothing happens.
    let report = outbox.run(&mut items, &publishers, &mut journal, t0() + Duration::seconds(1)).await.unwrap();
    assert!(report.outcomes.is_empty());

    let report = outbox.run(&mut items, &publishers, &mut journal, t0() + Duration::seconds(2)).await.unwrap();
    assert_eq!(report.sent(), 1);
    assert_eq!(items[0].state, OutboxState::Sent);
    assert_eq!(items[0].attempts, 2);
    assert_eq!(items[0].last_error, None);
    let tweets = fake.tweets();
    assert_eq!(tweets.len(), 1);
    assert_eq!(items[0].sent.as_ref().unwrap().native_id, tweets[0]["id"].as_str().unwrap());
    assert_eq!(fake.received_on(Platform::X).len(), 2);
    // `sending` is journaled before every call.
    assert_eq!(states(&journal), [OutboxState::Sending, OutboxState::Pending, OutboxState::Sending, OutboxState::Sent]);
}

#[tokio::test]
async fn mastodon_retry_after_is_honoured() {
    let fake = FakePlatforms::start().await;
    fake.fail_next(Platform::Mastodon, 1, Failure::rate_limited(120));
    let publishers = fake.publishers("Gilt");
    let outbox = live();
    let mut items = vec![item(Platform::Mastodon, "109", "d1")];
    let now = Utc::now();

    let report = outbox.run(&mut items, &publishers, &mut (), now).await.unwrap();
    assert!(matches!(report.outcomes[0].1, Outcome::Retry { rate_limited: true, .. }));
    assert_eq!(items[0].next_attempt_at, now + Duration::seconds(120), "Retry-After: 120 beats the 2 s backoff");
    assert!(
        outbox.run(&mut items, &publishers, &mut (), now + Duration::seconds(119)).await.unwrap().outcomes.is_empty()
    );
    outbox.run(&mut items, &publishers, &mut (), now + Duration::seconds(120)).await.unwrap();
    assert_eq!(items[0].state, OutboxState::Sent);
    assert_eq!(fake.statuses().len(), 1);
}

#[tokio::test]
async fn x_rate_limit_reset_defers_the_whole_account() {
    let fake = FakePlatforms::start().await;
    fake.fail_next(Platform::X, 1, Failure::rate_limited(900));
    let publishers = fake.publishers("Gilt");
    let outbox = live();
    let mut items =
        vec![item(Platform::X, "1", "d1"), item(Platform::X, "2", "d2"), item(Platform::Mastodon, "3", "d3")];
    let now = Utc::now();

    let report = outbox.run(&mut items, &publishers, &mut (), now).await.unwrap();
    let reset = items.iter().find(|i| i.in_reply_to == "1" || i.in_reply_to == "2").unwrap().next_attempt_at;
    let wait = (reset - now).num_seconds();
    assert!((898..=901).contains(&wait), "x-rate-limit-reset is now + 900 s, got {wait}");
    // The other X reply was not attempted; Mastodon is another account and went out.
    assert_eq!(fake.received_on(Platform::X).len(), 1);
    assert_eq!(report.retrying(), 2);
    assert_eq!(report.sent(), 1);
    let deferred = report.outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Deferred { .. })).count();
    assert_eq!(deferred, 1);
    assert!(items.iter().filter(|i| i.platform == Platform::X).all(|i| i.next_attempt_at == reset));
    // Deferred replies keep their attempt budget.
    let mut x_attempts: Vec<u32> = items.iter().filter(|i| i.platform == Platform::X).map(|i| i.attempts).collect();
    x_attempts.sort();
    assert_eq!(x_attempts, [0, 1]);
}

#[tokio::test]
async fn a_401_fails_at_once_with_a_readable_reason() {
    let fake = FakePlatforms::start().await;
    fake.fail_next(Platform::Blog, 1, Failure::status(401));
    let publishers = fake.publishers("Gilt");
    let mut items = vec![item(Platform::Blog, "https://blog.example/?p=3", "d1")];
    let report = live().run(&mut items, &publishers, &mut (), t0()).await.unwrap();
    assert_eq!(report.failed(), 1);
    assert_eq!(items[0].state, OutboxState::Failed);
    assert_eq!(items[0].attempts, 1);
    let reason = items[0].last_error.as_deref().unwrap();
    for needle in ["WordPress refused the reply", "/wp-json/wp/v2/comments", "HTTP 401", "credentials were refused"] {
        assert!(reason.contains(needle), "{needle:?} missing from: {reason}");
    }
    // Failed replies stay failed until requeued.
    let later = t0() + Duration::days(1);
    assert!(live().run(&mut items, &publishers, &mut (), later).await.unwrap().outcomes.is_empty());
    assert!(items[0].requeue(later));
    live().run(&mut items, &publishers, &mut (), later).await.unwrap();
    assert_eq!(items[0].state, OutboxState::Sent);
}

#[tokio::test]
async fn a_422_fails_and_asks_for_an_edit() {
    let fake = FakePlatforms::start().await;
    fake.fail_next(Platform::Bluesky, 1, Failure::status(422));
    let post = fake.seed_bluesky_post("hello", None);
    let mut items = vec![item(Platform::Bluesky, &post, "d1")];
    live().run(&mut items, &fake.publishers("Gilt"), &mut (), t0()).await.unwrap();
    assert_eq!(items[0].state, OutboxState::Failed);
    assert!(items[0].last_error.as_deref().unwrap().contains("edit the reply"), "{:?}", items[0].last_error);
}

#[tokio::test]
async fn gives_up_after_max_attempts_of_server_errors() {
    let fake = FakePlatforms::start().await;
    fake.fail_next(Platform::X, 10, Failure::status(503));
    let publishers = fake.publishers("Gilt");
    let outbox = Outbox { max_attempts: 3, ..live() };
    let mut items = vec![item(Platform::X, "1", "d1")];
    for _ in 0..3 {
        let due = items[0].next_attempt_at;
        outbox.run(&mut items, &publishers, &mut (), due).await.unwrap();
    }
    assert_eq!(items[0].state, OutboxState::Failed);
    assert!(items[0].last_error.as_deref().unwrap().starts_with("gave up after 3 attempts"));
    assert_eq!(fake.received_on(Platform::X).len(), 3);
}

#[tokio::test]
async fn dry_run_records_what_would_be_sent_and_calls_nothing() {
    let fake = FakePlatforms::start().await;
    let post = fake.seed_bluesky_post("hello", None);
    let config = OutboxConfig::from_toml("").unwrap();
    let outbox = Outbox::from_config(&config);
    assert!(outbox.dry_run, "dry run is the default");
    let mut items = vec![
        item(Platform::X, "1", "d1"),
        item(Platform::Mastodon, "2", "d2"),
        item(Platform::Bluesky, &post, "d3"),
        item(Platform::Blog, "https://blog.example/?p=1", "d4"),
    ];
    let mut journal = Vec::new();
    // No publishers at all: a dry run needs no credentials.
    let report = outbox.run(&mut items, &Publishers::new(), &mut journal, t0()).await.unwrap();
    assert_eq!(report.dry_run().len(), 4);
    let x = report.dry_run().into_iter().find(|r| r.platform == Platform::X).unwrap();
    assert_eq!((x.in_reply_to.as_str(), x.text.as_str()), ("1", "Sorry about that, we're on it."));
    assert!(items.iter().all(|i| i.state == OutboxState::DryRun && i.attempts == 0));
    assert_eq!(states(&journal), [OutboxState::DryRun; 4]);
    assert!(fake.received().is_empty());

    // Same with publishers configured.
    let mut more = vec![item(Platform::X, "9", "d9")];
    outbox.run(&mut more, &fake.publishers("Gilt"), &mut (), t0()).await.unwrap();
    assert!(fake.received().is_empty());
    assert!(fake.tweets().is_empty());
}

#[tokio::test]
async fn mastodon_reply_interrupted_by_a_crash_is_resent_without_a_duplicate() {
    let fake = FakePlatforms::start().await;
    let publishers = fake.publishers("Gilt");
    let outbox = live();
    let mut it = item(Platform::Mastodon, "109", "d1");

    // The attempt reaches Mastodon, then earshot dies before recording the answer.
    let request = outbox.begin(&mut it, t0()).unwrap();
    publishers.get("Gilt", Platform::Mastodon).unwrap().publish(&request).await.unwrap();
    assert_eq!(it.state, OutboxState::Sending);

    // Restart: within Mastodon's idempotency window the reply is re-sent with the same key.
    let restart = t0() + Duration::minutes(5);
    assert!(matches!(outbox.recover(&mut it, restart), Some(Outcome::Retry { .. })));
    let mut items = vec![it];
    outbox.run(&mut items, &publishers, &mut (), restart).await.unwrap();
    assert_eq!(items[0].state, OutboxState::Sent);
    assert_eq!(fake.received_on(Platform::Mastodon).len(), 2);
    assert_eq!(fake.statuses().len(), 1, "Mastodon deduped on the Idempotency-Key");
    assert_eq!(items[0].sent.as_ref().unwrap().native_id, fake.statuses()[0]["uri"].as_str().unwrap());
}

#[tokio::test]
async fn x_reply_interrupted_by_a_crash_is_not_resent_by_default() {
    let fake = FakePlatforms::start().await;
    let publishers = fake.publishers("Gilt");
    let outbox = live();
    let mut it = item(Platform::X, "1", "d1");
    let request = outbox.begin(&mut it, t0()).unwrap();
    publishers.get("Gilt", Platform::X).unwrap().publish(&request).await.unwrap();

    let mut crashed = vec![it.clone()];
    assert!(matches!(outbox.recover(&mut crashed[0], t0()), Some(Outcome::Failed { .. })));
    outbox.run(&mut crashed, &publishers, &mut (), t0()).await.unwrap();
    assert_eq!(fake.tweets().len(), 1, "at most once: no second tweet");
    assert!(crashed[0].last_error.as_deref().unwrap().contains("may or may not have been posted"));

    // At-least-once re-sends, accepting a possible duplicate.
    let at_least = Outbox { delivery: Delivery::AtLeastOnce, ..live() };
    let mut resent = vec![it];
    at_least.recover(&mut resent[0], t0());
    at_least.run(&mut resent, &publishers, &mut (), t0()).await.unwrap();
    assert_eq!(resent[0].state, OutboxState::Sent);
    assert_eq!(fake.tweets().len(), 2);
}

#[tokio::test]
async fn brand_without_an_account_fails_with_the_config_to_add() {
    let fake = FakePlatforms::start().await;
    let mut publishers = Publishers::new();
    publishers.insert("Gilt", publisher_for(&fake.credentials(Platform::X)).unwrap());
    let mut items = vec![OutboxItem::new("c", "d", "Acme", Platform::Blog, "1", "hi", t0())];
    live().run(&mut items, &publishers, &mut (), t0()).await.unwrap();
    assert_eq!(items[0].state, OutboxState::Failed);
    let reason = items[0].last_error.as_deref().unwrap();
    assert!(reason.contains("[[outbox.accounts]]") && reason.contains("platform = \"wordpress\""), "{reason}");
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn journal_failure_before_the_call_leaves_the_item_pending_and_calls_nothing() {
    struct Broken;
    impl earshot_outbox::Journal for Broken {
        fn save(
            &mut self,
            _: &OutboxItem,
        ) -> impl std::future::Future<Output = Result<(), earshot_outbox::JournalError>> + Send {
            std::future::ready(Err("disk full".into()))
        }
    }
    let fake = FakePlatforms::start().await;
    let mut items = vec![item(Platform::X, "1", "d1")];
    let err = live().run(&mut items, &fake.publishers("Gilt"), &mut Broken, t0()).await.unwrap_err();
    assert_eq!(err.to_string(), "disk full");
    assert_eq!(items[0].state, OutboxState::Pending);
    assert_eq!(items[0].attempts, 0);
    assert!(fake.received().is_empty());
}
