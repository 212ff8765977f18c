//! X API v2 filtered-stream lines, as the stream sends them with
//! `tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities,public_metrics,lang`
//! and `expansions=author_id,in_reply_to_user_id`: the tweet in `data`, its
//! author (and the replied-to user) in `includes.users`, the rule that
//! matched in `matching_rules`.
//!
//! Text is HTML-escaped (`&amp;`, `&lt;`, `&gt;`) as the API does; links are
//! shown as `t.co` links with the full URL in `entities.urls[].expanded_url`.
//! Entity offsets count Unicode code points of the unescaped text.

use super::{BrandInfo, json_line, rfc3339_ms};
use crate::GenError;
use crate::generator::{GenPost, Seg};
use crate::world::{Account, mix64};
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct Line<'a> {
    data: Tweet<'a>,
    includes: Includes<'a>,
    matching_rules: [Rule<'a>; 1],
}

#[derive(Serialize)]
struct Tweet<'a> {
    id: String,
    text: &'a str,
    author_id: String,
    created_at: String,
    conversation_id: String,
    edit_history_tweet_ids: [String; 1],
    lang: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_reply_to_user_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    referenced_tweets: Vec<Referenced>,
    #[serde(skip_serializing_if = "Entities::is_empty")]
    entities: Entities<'a>,
    public_metrics: TweetMetrics,
}

#[derive(Serialize)]
struct Referenced {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
}

#[derive(Serialize, Default)]
struct Entities<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<MentionEntity<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashtags: Vec<TagEntity<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    urls: Vec<UrlEntity<'a>>,
}

impl Entities<'_> {
    fn is_empty(&self) -> bool {
        self.mentions.is_empty() && self.hashtags.is_empty() && self.urls.is_empty()
    }
}

#[derive(Serialize)]
struct MentionEntity<'a> {
    start: usize,
    end: usize,
    username: &'a str,
    id: String,
}

#[derive(Serialize)]
struct TagEntity<'a> {
    start: usize,
    end: usize,
    tag: &'a str,
}

#[derive(Serialize)]
struct UrlEntity<'a> {
    start: usize,
    end: usize,
    url: String,
    expanded_url: &'a str,
    display_url: String,
}

#[derive(Serialize)]
struct TweetMetrics {
    retweet_count: u64,
    reply_count: u64,
    like_count: u64,
    quote_count: u64,
}

#[derive(Serialize)]
struct Includes<'a> {
    users: Vec<User<'a>>,
}

#[derive(Serialize)]
struct User<'a> {
    id: String,
    name: &'a str,
    username: &'a str,
    created_at: String,
    verified: bool,
    public_metrics: UserMetrics,
}

#[derive(Serialize)]
struct UserMetrics {
    followers_count: u64,
    following_count: u64,
    tweet_count: u64,
    listed_count: u64,
}

#[derive(Serialize)]
struct Rule<'a> {
    id: &'a str,
    tag: &'a str,
}

fn user(a: &Account) -> User<'_> {
    User {
        id: a.id.to_string(),
        name: &a.name,
        username: &a.username,
        created_at: format!("{}-{:02}-{:02}T12:00:00.000Z", a.created_year, 1 + a.n % 12, 1 + a.n % 28),
        verified: a.verified,
        public_metrics: UserMetrics {
            followers_count: a.followers,
            following_count: a.following,
            tweet_count: a.posts,
            listed_count: a.followers / 200,
        },
    }
}

/// The `t.co` link X shows for `url` in post `id` (links already on t.co stay).
fn tco(url: &str, id: u64) -> String {
    if url.starts_with("https://t.co/") || url.starts_with("http://t.co/") {
        return url.to_string();
    }
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut h =
        mix64(id ^ url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)));
    let mut s = String::from("https://t.co/");
    for _ in 0..10 {
        s.push(ALPHABET[(h % 62) as usize] as char);
        h /= 62;
    }
    s
}

pub(super) fn write<W: Write>(
    out: &mut W,
    post: &GenPost,
    brand: &BrandInfo,
    scratch: &mut String,
) -> Result<(), GenError> {
    let mut text = String::new();
    let mut entities = Entities::default();
    let mut pos = 0usize;
    let push = |text: &mut String, s: &str, pos: &mut usize| {
        text.push_str(s);
        *pos += s.chars().count();
    };
    for seg in &post.segs {
        let start = pos;
        match seg {
            Seg::Text(t) => push(&mut text, t, &mut pos),
            Seg::Mention(a) => {
                push(&mut text, "@", &mut pos);
                push(&mut text, &a.username, &mut pos);
                entities.mentions.push(MentionEntity { start, end: pos, username: &a.username, id: a.id.to_string() });
            }
            Seg::Tag(t) => {
                push(&mut text, "#", &mut pos);
                push(&mut text, t, &mut pos);
                entities.hashtags.push(TagEntity { start, end: pos, tag: t });
            }
            Seg::Link(l) => {
                let short = tco(l, post.id);
                push(&mut text, &short, &mut pos);
                let display = l.trim_start_matches("https://").trim_start_matches("http://");
                let display = if display.chars().count() > 26 {
                    format!("{}…", display.chars().take(25).collect::<String>())
                } else {
                    display.to_string()
                };
                entities.urls.push(UrlEntity { start, end: pos, url: short, expanded_url: l, display_url: display });
            }
        }
    }
    // The API escapes &, < and > in text.
    scratch.clear();
    for c in text.chars() {
        match c {
            '&' => scratch.push_str("&amp;"),
            '<' => scratch.push_str("&lt;"),
            '>' => scratch.push_str("&gt;"),
            c => scratch.push(c),
        }
    }
    let mut users = vec![user(&post.author)];
    let mut referenced = Vec::new();
    let mut in_reply_to = None;
    if let Some(parent) = &post.reply_to {
        referenced.push(Referenced { kind: "replied_to", id: parent.id.to_string() });
        in_reply_to = Some(parent.author.id.to_string());
        if parent.author.n != post.author.n {
            users.push(user(&parent.author));
        }
    }
    let id = post.id.to_string();
    let line = Line {
        data: Tweet {
            id: id.clone(),
            text: scratch,
            author_id: post.author.id.to_string(),
            created_at: rfc3339_ms(post.at_ms / 1000 * 1000),
            conversation_id: post.conversation_id().to_string(),
            edit_history_tweet_ids: [id],
            lang: "en",
            in_reply_to_user_id: in_reply_to,
            referenced_tweets: referenced,
            entities,
            public_metrics: TweetMetrics {
                retweet_count: post.metrics.reposts,
                reply_count: post.metrics.replies,
                like_count: post.metrics.likes,
                quote_count: post.metrics.quotes,
            },
        },
        includes: Includes { users },
        matching_rules: [Rule { id: &brand.rule_id, tag: &brand.rule_tag }],
    };
    json_line(out, &line)
}
