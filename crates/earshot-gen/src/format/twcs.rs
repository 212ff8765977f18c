//! Rows of the Customer Support on Twitter CSV:
//! `tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id`.
//!
//! As in the data set, customers are anonymised numbers (in `author_id` and
//! in the `@mentions` of care replies) while care accounts keep their screen
//! names, and `inbound` is `False` for care accounts. `response_tweet_id`
//! (the ids of later replies) is left empty: a stream cannot know its future,
//! and earshot derives it from the replies themselves.

use crate::GenError;
use crate::generator::{GenPost, Seg};
use crate::world::Account;
use std::io::Write;

/// The anonymised id TWCS gives a customer.
fn anonymised(a: &Account) -> String {
    (100_000 + a.n).to_string()
}

/// The handle a post shows for `a`.
fn handle(a: &Account, brand: bool) -> String {
    if brand { a.username.clone() } else { anonymised(a) }
}

pub(super) fn writer<W: Write>(out: W) -> Result<csv::Writer<W>, GenError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "tweet_id",
        "author_id",
        "inbound",
        "created_at",
        "text",
        "response_tweet_id",
        "in_response_to_tweet_id",
    ])
    .map_err(csv_error)?;
    Ok(w)
}

fn csv_error(e: csv::Error) -> GenError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => GenError::Io(e),
        other => GenError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

pub(super) fn write<W: Write>(w: &mut csv::Writer<W>, post: &GenPost) -> Result<(), GenError> {
    let mut text = String::new();
    for seg in &post.segs {
        match seg {
            Seg::Text(t) => text.push_str(t),
            Seg::Mention(a) => {
                text.push('@');
                text.push_str(&handle(a, a.kind == crate::world::AccountKind::Brand));
            }
            Seg::Tag(t) => {
                text.push('#');
                text.push_str(t);
            }
            Seg::Link(l) => text.push_str(l),
        }
    }
    // Like the data set (and the API), text is HTML-escaped.
    let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let created = chrono::DateTime::from_timestamp_millis(post.at_ms).unwrap_or_default();
    let reply = post.reply_to.as_ref().map(|r| r.id.to_string()).unwrap_or_default();
    w.write_record([
        post.id.to_string().as_str(),
        handle(&post.author, post.from_brand).as_str(),
        if post.from_brand { "False" } else { "True" },
        created.format("%a %b %d %H:%M:%S +0000 %Y").to_string().as_str(),
        text.as_str(),
        "",
        reply.as_str(),
    ])
    .map_err(csv_error)
}
