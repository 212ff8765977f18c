//! Mastodon streaming `update` events in the WebSocket form, one per line:
//! `{"stream":["public"],"event":"update","payload":"<Status JSON as a string>"}`.
//!
//! Every account is local to [`MASTODON_HOST`], so `acct` is the bare
//! username, profile URLs are `https://host/@name`, and a status URI is
//! `https://host/users/name/statuses/{id}`: the decoder can then turn
//! `in_reply_to_id` into the parent's URI and threads survive.

use super::{MASTODON_HOST, json_line, rfc3339_ms};
use crate::GenError;
use crate::generator::{GenPost, Seg};
use crate::world::Account;
use serde::Serialize;
use std::io::Write;

/// The ActivityPub id of status `id` by `username`.
pub(crate) fn status_uri(username: &str, id: u64) -> String {
    format!("https://{MASTODON_HOST}/users/{username}/statuses/{id}")
}

#[derive(Serialize)]
struct Event {
    stream: [&'static str; 1],
    event: &'static str,
    payload: String,
}

#[derive(Serialize)]
struct Status<'a> {
    id: String,
    created_at: String,
    in_reply_to_id: Option<String>,
    in_reply_to_account_id: Option<String>,
    sensitive: bool,
    spoiler_text: &'static str,
    visibility: &'static str,
    language: &'static str,
    uri: String,
    url: String,
    replies_count: u64,
    reblogs_count: u64,
    favourites_count: u64,
    edited_at: Option<()>,
    content: String,
    reblog: Option<()>,
    account: AccountJson<'a>,
    media_attachments: [(); 0],
    mentions: Vec<MentionJson<'a>>,
    tags: Vec<TagJson>,
    emojis: [(); 0],
    card: Option<()>,
    poll: Option<()>,
}

#[derive(Serialize)]
struct AccountJson<'a> {
    id: String,
    username: &'a str,
    acct: &'a str,
    display_name: &'a str,
    locked: bool,
    bot: bool,
    discoverable: bool,
    group: bool,
    created_at: String,
    note: &'static str,
    url: String,
    avatar: String,
    avatar_static: String,
    followers_count: u64,
    following_count: u64,
    statuses_count: u64,
    emojis: [(); 0],
    fields: [(); 0],
}

#[derive(Serialize)]
struct MentionJson<'a> {
    id: String,
    username: &'a str,
    url: String,
    acct: &'a str,
}

#[derive(Serialize)]
struct TagJson {
    name: String,
    url: String,
}

fn account(a: &Account) -> AccountJson<'_> {
    let avatar = format!("https://{MASTODON_HOST}/system/accounts/avatars/{}/original/avatar.png", a.id);
    AccountJson {
        id: a.id.to_string(),
        username: &a.username,
        acct: &a.username,
        display_name: &a.name,
        locked: false,
        bot: false,
        discoverable: true,
        group: false,
        created_at: format!("{}-{:02}-{:02}T00:00:00.000Z", a.created_year, 1 + a.n % 12, 1 + a.n % 28),
        note: "",
        url: format!("https://{MASTODON_HOST}/@{}", a.username),
        avatar: avatar.clone(),
        avatar_static: avatar,
        followers_count: a.followers,
        following_count: a.following,
        statuses_count: a.posts,
        emojis: [],
        fields: [],
    }
}

/// HTML-escapes text content.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

pub(super) fn write<W: Write>(out: &mut W, post: &GenPost) -> Result<(), GenError> {
    let mut content = String::from("<p>");
    let mut mentions: Vec<MentionJson<'_>> = Vec::new();
    let mut tags: Vec<TagJson> = Vec::new();
    for seg in &post.segs {
        match seg {
            Seg::Text(t) => escape(t, &mut content),
            Seg::Mention(a) => {
                let url = format!("https://{MASTODON_HOST}/@{}", a.username);
                content.push_str("<span class=\"h-card\" translate=\"no\"><a href=\"");
                content.push_str(&url);
                content.push_str("\" class=\"u-url mention\">@<span>");
                escape(&a.username, &mut content);
                content.push_str("</span></a></span>");
                if !mentions.iter().any(|m| m.username == a.username) {
                    mentions.push(MentionJson { id: a.id.to_string(), username: &a.username, url, acct: &a.username });
                }
            }
            Seg::Tag(t) => {
                let url = format!("https://{MASTODON_HOST}/tags/{}", t.to_lowercase());
                content.push_str("<a href=\"");
                escape(&url, &mut content);
                content.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
                escape(t, &mut content);
                content.push_str("</span></a>");
                if !tags.iter().any(|x| x.name.eq_ignore_ascii_case(t)) {
                    tags.push(TagJson { name: t.clone(), url });
                }
            }
            Seg::Link(l) => {
                let (scheme, rest) = l.split_once("://").map_or(("", l.as_str()), |(s, r)| (s, r));
                content.push_str("<a href=\"");
                escape(l, &mut content);
                content.push_str("\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\"><span class=\"invisible\">");
                escape(scheme, &mut content);
                content.push_str("://</span><span class=\"\">");
                escape(rest, &mut content);
                content.push_str("</span><span class=\"invisible\"></span></a>");
            }
        }
    }
    content.push_str("</p>");
    let (in_reply_to_id, in_reply_to_account_id) = match &post.reply_to {
        Some(p) => (Some(p.id.to_string()), Some(p.author.id.to_string())),
        None => (None, None),
    };
    let status = Status {
        id: post.id.to_string(),
        created_at: rfc3339_ms(post.at_ms),
        in_reply_to_id,
        in_reply_to_account_id,
        sensitive: false,
        spoiler_text: "",
        visibility: "public",
        language: "en",
        uri: status_uri(&post.author.username, post.id),
        url: format!("https://{MASTODON_HOST}/@{}/{}", post.author.username, post.id),
        replies_count: post.metrics.replies,
        reblogs_count: post.metrics.reposts,
        favourites_count: post.metrics.likes,
        edited_at: None,
        content,
        reblog: None,
        account: account(&post.author),
        media_attachments: [],
        mentions,
        tags,
        emojis: [],
        card: None,
        poll: None,
    };
    let payload = serde_json::to_string(&status).map_err(|e| GenError::Io(e.into()))?;
    json_line(out, &Event { stream: ["public"], event: "update", payload })
}
