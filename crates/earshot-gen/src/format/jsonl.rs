//! earshot's plain JSON Lines (`crates/earshot-core/src/decode/jsonl.rs`):
//! one object per post with `id`, `platform` (`x`), `text`, `author`,
//! `created_at`, thread fields and entity lists.

use super::{json_line, rfc3339_ms};
use crate::GenError;
use crate::generator::GenPost;
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct Line<'a> {
    id: String,
    platform: &'static str,
    url: String,
    text: String,
    author: Author<'a>,
    created_at: String,
    lang: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to_author: Option<&'a str>,
    conversation_id: String,
    mentions: Vec<&'a str>,
    hashtags: Vec<&'a str>,
    links: Vec<&'a str>,
}

#[derive(Serialize)]
struct Author<'a> {
    id: String,
    handle: &'a str,
    display_name: &'a str,
    followers: u64,
}

pub(super) fn write<W: Write>(out: &mut W, post: &GenPost) -> Result<(), GenError> {
    let line = Line {
        id: post.id.to_string(),
        platform: "x",
        url: format!("https://x.com/{}/status/{}", post.author.username, post.id),
        text: post.text(),
        author: Author {
            id: post.author.id.to_string(),
            handle: &post.author.username,
            display_name: &post.author.name,
            followers: post.author.followers,
        },
        created_at: rfc3339_ms(post.at_ms),
        lang: "en",
        reply_to: post.reply_to.as_ref().map(|r| r.id.to_string()),
        reply_to_author: post.reply_to.as_ref().map(|r| r.author.username.as_str()),
        conversation_id: post.conversation_id().to_string(),
        mentions: post.mentions().iter().map(|a| a.username.as_str()).collect(),
        hashtags: post.hashtags(),
        links: post.links(),
    };
    json_line(out, &line)
}
