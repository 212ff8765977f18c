//! Each publisher against the fake platforms, over real HTTP on loopback.

use chrono::{DateTime, Utc};
use earshot_outbox::fake::{self, FakePlatforms, Received};
use earshot_outbox::{
    Credentials, ErrorClass, Platform, PublishError, ReplyRequest, Secret, Sent, idempotency_key, publisher_for,
};
use serde_json::json;

fn request(platform: Platform, in_reply_to: &str, text: &str) -> ReplyRequest {
    ReplyRequest {
        platform,
        in_reply_to: in_reply_to.to_string(),
        in_reply_to_api_id: None,
        text: text.to_string(),
        idempotency_key: idempotency_key("case-1", "draft-1"),
        created_at: Some(DateTime::parse_from_rfc3339("2024-05-01T12:30:00Z").unwrap().with_timezone(&Utc)),
    }
}

async fn publish(fake: &FakePlatforms, req: &ReplyRequest) -> Result<Sent, PublishError> {
    publisher_for(&fake.credentials(req.platform)).unwrap().publish(req).await
}

fn only(received: Vec<Received>, path: &str) -> Received {
    let mut matching: Vec<Received> = received.into_iter().filter(|r| r.path == path).collect();
    assert_eq!(matching.len(), 1, "expected one call to {path}: {matching:#?}");
    matching.remove(0)
}

#[tokio::test]
async fn x_reply_threads_on_in_reply_to_tweet_id() {
    let fake = FakePlatforms::start().await;
    let sent =
        publish(&fake, &request(Platform::X, "1789000000000000042", "Sorry! DM us your order number.")).await.unwrap();

    let call = only(fake.received_on(Platform::X), "/2/tweets");
    assert_eq!(call.method, "POST");
    assert_eq!(call.header("authorization"), Some("Bearer fake-x-user-token"));
    assert_eq!(
        call.json().unwrap(),
        json!({ "text": "Sorry! DM us your order number.", "reply": { "in_reply_to_tweet_id": "1789000000000000042" } })
    );
    assert_eq!(call.status, 201);
    let tweets = fake.tweets();
    assert_eq!(tweets.len(), 1);
    assert_eq!(sent.native_id, tweets[0]["id"].as_str().unwrap());
    assert_eq!(sent.platform, Platform::X);
    assert_eq!(sent.url.as_deref(), Some(format!("https://x.com/i/web/status/{}", sent.native_id).as_str()));
    assert_eq!(sent.raw["data"]["id"], json!(sent.native_id));
}

#[tokio::test]
async fn x_accepts_a_status_url_as_target() {
    let fake = FakePlatforms::start().await;
    publish(&fake, &request(Platform::X, "https://x.com/alice/status/555?s=20", "Hi")).await.unwrap();
    assert_eq!(fake.tweets()[0]["in_reply_to_tweet_id"], "555");
}

#[tokio::test]
async fn mastodon_reply_on_the_brands_instance_uses_the_uri_id_and_idempotency_key() {
    let fake = FakePlatforms::start().await;
    let target = format!("{}/users/alice/statuses/109876543210", fake.base_url());
    let req = request(Platform::Mastodon, &target, "We're on it, Alice.");
    let sent = publish(&fake, &req).await.unwrap();

    let call = only(fake.received_on(Platform::Mastodon), "/api/v1/statuses");
    assert_eq!(call.header("authorization"), Some("Bearer fake-mastodon-token"));
    assert_eq!(call.header("idempotency-key"), Some(req.idempotency_key.as_str()));
    assert_eq!(
        call.json().unwrap(),
        json!({ "status": "We're on it, Alice.", "in_reply_to_id": "109876543210", "visibility": "public" })
    );
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["in_reply_to_id"], "109876543210");
    // earshot stores Mastodon posts by URI, so the reply's native id is its URI.
    assert_eq!(sent.native_id, statuses[0]["uri"].as_str().unwrap());
    assert_eq!(sent.url.as_deref(), statuses[0]["url"].as_str());
}

#[tokio::test]
async fn mastodon_remote_status_is_resolved_through_search() {
    let fake = FakePlatforms::start().await;
    let remote = "https://elsewhere.example/users/bob/statuses/42";
    let local_id = fake.seed_mastodon_status(remote);
    publish(&fake, &request(Platform::Mastodon, remote, "Hello Bob")).await.unwrap();

    let search = only(fake.received_on(Platform::Mastodon), "/api/v2/search");
    let query = search.query.unwrap();
    assert!(query.contains("resolve=true") && query.contains("type=statuses"), "{query}");
    assert_eq!(fake.statuses()[0]["in_reply_to_id"], json!(local_id));
}

#[tokio::test]
async fn mastodon_explicit_api_id_wins_and_unresolvable_uris_fail_permanently() {
    let fake = FakePlatforms::start().await;
    let mut req = request(Platform::Mastodon, "https://elsewhere.example/users/bob/statuses/42", "Hi");
    req.in_reply_to_api_id = Some("777".into());
    publish(&fake, &req).await.unwrap();
    assert_eq!(fake.statuses()[0]["in_reply_to_id"], "777");
    assert!(fake.received().iter().all(|r| r.path != "/api/v2/search"));

    req.in_reply_to_api_id = None;
    let err = publish(&fake, &req).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    let message = err.to_string();
    assert!(message.contains("could not find the status") && message.contains("in_reply_to_api_id"), "{message}");
}

#[tokio::test]
async fn mastodon_idempotency_key_gives_one_status_for_two_sends() {
    let fake = FakePlatforms::start().await;
    let req = request(Platform::Mastodon, "109876543210", "Only once, please.");
    let publisher = publisher_for(&fake.credentials(Platform::Mastodon)).unwrap();
    let first = publisher.publish(&req).await.unwrap();
    let second = publisher.publish(&req).await.unwrap();
    assert_eq!(first.native_id, second.native_id);
    assert_eq!(fake.statuses().len(), 1);
    assert_eq!(fake.received_on(Platform::Mastodon).len(), 2);

    // Another draft is another key, so another status.
    let other = ReplyRequest { idempotency_key: idempotency_key("case-1", "draft-2"), ..req };
    publisher.publish(&other).await.unwrap();
    assert_eq!(fake.statuses().len(), 2);
}

#[tokio::test]
async fn mastodon_text_too_long_is_a_permanent_422() {
    let fake = FakePlatforms::start().await;
    let err = publish(&fake, &request(Platform::Mastodon, "1", &"a".repeat(501))).await.unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert_eq!(err.class(), ErrorClass::Permanent);
    let message = err.to_string();
    assert!(message.contains("character limit of 500") && message.contains("edit the reply"), "{message}");
}

#[tokio::test]
async fn bluesky_reply_to_a_top_level_post_has_it_as_root_and_parent() {
    let fake = FakePlatforms::start().await;
    let post = fake.seed_bluesky_post("my order never arrived @gilt", None);
    let post_cid = fake.bluesky_record(&post).unwrap()["cid"].clone();
    let sent = publish(&fake, &request(Platform::Bluesky, &post, "So sorry, checking now.")).await.unwrap();

    let record = fake.bluesky_record(&sent.native_id).unwrap();
    let strong = json!({ "uri": post, "cid": post_cid });
    assert_eq!(record["value"]["reply"], json!({ "root": strong, "parent": strong }));
    assert_eq!(record["value"]["text"], "So sorry, checking now.");
    assert_eq!(record["value"]["createdAt"], "2024-05-01T12:30:00.000Z");
    assert!(sent.native_id.starts_with(&format!("at://{}/app.bsky.feed.post/", fake::BLUESKY_DID)));
    let rkey = sent.native_id.rsplit('/').next().unwrap();
    assert_eq!(sent.url, Some(format!("https://bsky.app/profile/{}/post/{rkey}", fake::BLUESKY_DID)));

    let session = only(fake.received_on(Platform::Bluesky), "/xrpc/com.atproto.server.createSession");
    assert_eq!(
        session.json().unwrap(),
        json!({ "identifier": fake::BLUESKY_HANDLE, "password": fake::BLUESKY_APP_PASSWORD })
    );
    let create = only(fake.received_on(Platform::Bluesky), "/xrpc/com.atproto.repo.createRecord");
    let body = create.json().unwrap();
    assert_eq!(body["repo"], fake::BLUESKY_DID);
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(body["record"]["$type"], "app.bsky.feed.post");
    assert!(create.header("authorization").unwrap().starts_with("Bearer fake-access-"));
}

#[tokio::test]
async fn bluesky_reply_to_a_reply_keeps_the_thread_root() {
    let fake = FakePlatforms::start().await;
    let root = fake.seed_bluesky_post("where is my parcel", None);
    let parent = fake.seed_bluesky_post("still waiting!!", Some(&root));
    let sent = publish(&fake, &request(Platform::Bluesky, &parent, "Found it: arriving tomorrow.")).await.unwrap();

    let reply = &fake.bluesky_record(&sent.native_id).unwrap()["value"]["reply"];
    assert_eq!(reply["root"], json!({ "uri": root, "cid": fake.bluesky_record(&root).unwrap()["cid"] }));
    assert_eq!(reply["parent"], json!({ "uri": parent, "cid": fake.bluesky_record(&parent).unwrap()["cid"] }));

    let get = only(fake.received_on(Platform::Bluesky), "/xrpc/com.atproto.repo.getRecord");
    let rkey = parent.rsplit('/').next().unwrap();
    assert_eq!(
        get.query.as_deref(),
        Some(format!("repo=did%3Aplc%3Acustomerfake&collection=app.bsky.feed.post&rkey={rkey}").as_str())
    );
}

#[tokio::test]
async fn bluesky_accepts_a_bsky_app_url_with_a_handle() {
    let fake = FakePlatforms::start().await;
    let post = fake.seed_bluesky_post("hello", None);
    let rkey = post.rsplit('/').next().unwrap();
    let url = format!("https://bsky.app/profile/{}/post/{rkey}", fake::CUSTOMER_HANDLE);
    let sent = publish(&fake, &request(Platform::Bluesky, &url, "Hi!")).await.unwrap();
    assert_eq!(fake.bluesky_record(&sent.native_id).unwrap()["value"]["reply"]["parent"]["uri"], json!(post));
}

#[tokio::test]
async fn bluesky_expired_session_is_refreshed_and_the_reply_sent_once() {
    let fake = FakePlatforms::start().await;
    let publisher = publisher_for(&fake.credentials(Platform::Bluesky)).unwrap();
    let post = fake.seed_bluesky_post("first", None);
    publisher.publish(&request(Platform::Bluesky, &post, "one")).await.unwrap();
    fake.expire_bluesky_sessions();
    publisher.publish(&request(Platform::Bluesky, &post, "two")).await.unwrap();

    let paths: Vec<String> = fake.received_on(Platform::Bluesky).into_iter().map(|r| r.path).collect();
    let count = |p: &str| paths.iter().filter(|x| x.ends_with(p)).count();
    assert_eq!(count("createSession"), 1, "{paths:?}");
    assert_eq!(count("refreshSession"), 1, "{paths:?}");
    assert_eq!(fake.bluesky_replies().len(), 2);
}

#[tokio::test]
async fn bluesky_deleted_post_is_a_permanent_failure_that_says_so() {
    let fake = FakePlatforms::start().await;
    let gone = format!("at://{}/app.bsky.feed.post/3kdeleted", fake::CUSTOMER_DID);
    let err = publish(&fake, &request(Platform::Bluesky, &gone, "hi")).await.unwrap_err();
    assert_eq!(err.code(), Some("RecordNotFound"));
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("probably deleted"), "{err}");
    assert!(fake.bluesky_replies().is_empty());
}

#[tokio::test]
async fn bluesky_wrong_app_password_is_a_clear_401() {
    let fake = FakePlatforms::start().await;
    let mut credentials =
        Credentials::bluesky(fake.base_url(), fake::BLUESKY_HANDLE, Secret::new("not-the-app-password"));
    credentials.secret_env = Some("GILT_BSKY_APP_PASSWORD".into());
    let post = fake.seed_bluesky_post("hello", None);
    let err = publisher_for(&credentials).unwrap().publish(&request(Platform::Bluesky, &post, "x")).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let message = err.to_string();
    assert!(
        message.contains("Invalid identifier or password") && message.contains("GILT_BSKY_APP_PASSWORD"),
        "{message}"
    );
}

#[tokio::test]
async fn wordpress_reply_to_a_comment_sets_post_and_parent() {
    let fake = FakePlatforms::start().await;
    let sent =
        publish(&fake, &request(Platform::Blog, "https://blog.example/?p=12#comment-41", "Thanks for the note!"))
            .await
            .unwrap();

    let call = only(fake.received_on(Platform::Blog), "/wp-json/wp/v2/comments");
    // base64("gilt-care:abcd EFGH ijkl MNOP qrst UVWX")
    assert_eq!(call.header("authorization"), Some("Basic Z2lsdC1jYXJlOmFiY2QgRUZHSCBpamtsIE1OT1AgcXJzdCBVVldY"));
    assert_eq!(call.json().unwrap(), json!({ "post": 12, "parent": 41, "content": "Thanks for the note!" }));
    assert_eq!(call.status, 201);
    let comment = &fake.comments()[0];
    // earshot's feed decoder keys WordPress comments by `<post guid>#comment-N`.
    assert_eq!(sent.native_id, format!("https://blog.example/?p=12#comment-{}", comment["id"]));
    assert_eq!(sent.url.as_deref(), comment["link"].as_str());
}

#[tokio::test]
async fn wordpress_reply_to_the_post_itself_has_parent_zero() {
    let fake = FakePlatforms::start().await;
    publish(&fake, &request(Platform::Blog, "https://blog.example/?p=12", "Glad you liked it")).await.unwrap();
    let mut api = request(Platform::Blog, "tag:blog.example,2024:comment-9", "Via the API id");
    api.in_reply_to_api_id = Some("13:9".into());
    publish(&fake, &api).await.unwrap();
    let comments = fake.comments();
    assert_eq!((comments[0]["post"].clone(), comments[0]["parent"].clone()), (json!(12), json!(0)));
    assert_eq!((comments[1]["post"].clone(), comments[1]["parent"].clone()), (json!(13), json!(9)));
}

#[tokio::test]
async fn bad_x_token_is_a_permanent_401_naming_the_env_var() {
    let fake = FakePlatforms::start().await;
    let mut credentials = Credentials::x(fake.base_url(), Secret::new("expired-token"));
    credentials.secret_env = Some("GILT_X_TOKEN".into());
    let err = publisher_for(&credentials).unwrap().publish(&request(Platform::X, "1", "hi")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    let message = err.to_string();
    for needle in ["X refused the reply", "/2/tweets", "HTTP 401", "credentials were refused", "GILT_X_TOKEN"] {
        assert!(message.contains(needle), "{needle:?} missing from: {message}");
    }
    assert!(!format!("{credentials:?}").contains("expired-token"), "secrets must not be printed");
}

#[tokio::test]
async fn unreachable_platform_is_retryable_and_names_the_endpoint() {
    // Bind a port, then close it: connecting is refused, so nothing can have been sent.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let credentials = Credentials::x(format!("http://127.0.0.1:{port}"), Secret::new("t"));
    let err = publisher_for(&credentials).unwrap().publish(&request(Platform::X, "1", "hi")).await.unwrap_err();
    assert!(matches!(err, PublishError::Network { maybe_delivered: false, .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}/2/tweets")), "{err}");
}

#[tokio::test]
async fn requests_for_another_platform_or_unusable_targets_call_nothing() {
    let fake = FakePlatforms::start().await;
    let x = publisher_for(&fake.credentials(Platform::X)).unwrap();
    let err = x.publish(&request(Platform::Mastodon, "1", "hi")).await.unwrap_err();
    assert!(matches!(err, PublishError::Invalid { .. }), "{err}");
    let err = x.publish(&request(Platform::X, "not-a-tweet", "hi")).await.unwrap_err();
    assert!(err.to_string().contains("is not a tweet id"), "{err}");
    let err = publish(&fake, &request(Platform::Blog, "https://blog.example/2024/hello/", "hi")).await.unwrap_err();
    assert!(err.to_string().contains("set in_reply_to_api_id"), "{err}");
    let err = publish(&fake, &request(Platform::Bluesky, "https://example.com/post/1", "hi")).await.unwrap_err();
    assert!(err.to_string().contains("is not an AT URI"), "{err}");
    assert!(fake.received().is_empty());
}

/// The fake checks shapes and credentials like the platforms do, so a wrong request cannot pass.
#[tokio::test]
async fn fake_rejects_malformed_requests_in_each_platforms_error_shape() {
    let fake = FakePlatforms::start().await;
    let client = reqwest::Client::new();
    let base = fake.base_url();
    let post = |path: &str| client.post(format!("{base}{path}"));

    let r = post("/2/tweets").bearer_auth(fake::X_TOKEN).json(&json!({ "reply": { "in_reply_to_tweet_id": "1" } }));
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["title"], "Invalid Request");

    let r = post("/2/tweets")
        .bearer_auth(fake::X_TOKEN)
        .json(&json!({ "text": "hi", "reply": { "in_reply_to_tweet_id": 1 } }));
    assert_eq!(r.send().await.unwrap().status(), 400);

    let r = post("/api/v1/statuses").bearer_auth("nope").json(&json!({ "status": "hi" })).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap(), json!({ "error": "The access token is invalid" }));

    // Mastodon also takes forms.
    let r = post("/api/v1/statuses")
        .bearer_auth(fake::MASTODON_TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("status=hello%20there&in_reply_to_id=5&visibility=unlisted")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(fake.statuses()[0]["in_reply_to_id"], "5");
    assert_eq!(fake.statuses()[0]["visibility"], "unlisted");

    // A Bluesky reply whose root is not the thread's root is refused.
    let root = fake.seed_bluesky_post("root", None);
    let parent = fake.seed_bluesky_post("parent", Some(&root));
    let session: serde_json::Value = post("/xrpc/com.atproto.server.createSession")
        .json(&json!({ "identifier": fake::BLUESKY_HANDLE, "password": fake::BLUESKY_APP_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parent_ref = json!({ "uri": parent, "cid": fake.bluesky_record(&parent).unwrap()["cid"] });
    let r = post("/xrpc/com.atproto.repo.createRecord")
        .bearer_auth(session["accessJwt"].as_str().unwrap())
        .json(&json!({
            "repo": fake::BLUESKY_DID,
            "collection": "app.bsky.feed.post",
            "record": { "$type": "app.bsky.feed.post", "text": "x", "createdAt": "2024-05-01T12:00:00Z",
                        "reply": { "root": parent_ref, "parent": parent_ref } },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "InvalidRequest");
    assert!(body["message"].as_str().unwrap().contains("thread root"), "{body}");

    let r = post("/wp-json/wp/v2/comments").json(&json!({ "post": 1, "content": "x" })).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["data"]["status"], 401);
    let r = post("/wp-json/wp/v2/comments")
        .basic_auth(fake::WORDPRESS_USER, Some(fake::WORDPRESS_APP_PASSWORD))
        .json(&json!({ "post": "twelve", "content": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], "rest_comment_invalid_post_id");

    assert_eq!(fake.received().len(), 8, "every request is recorded, refused or not");
}
