//! RSS 2.0 / RSS 1.0 and Atom feeds of blog posts and of their comments.
//!
//! Every `<item>` / `<entry>` becomes one [`Post`] on [`Platform::Blog`]; its
//! `raw` is the item's XML exactly as it appears in the file (the byte range
//! from `<item` to `</item>`), so nothing the feed sent is lost.
//!
//! # Identity
//!
//! A post's `native_id` is the feed's own identifier: the RSS `<guid>` (else
//! `<link>`, else RSS 1.0 `rdf:about`) or the Atom `<id>` (else its alternate
//! link). Comments point at their post with that same identifier, so when a
//! post feed and its comment feed are both ingested, `comment.reply_to ==
//! post.native_id`:
//!
//! - Atom comment feeds (Blogger, WordPress `/comments/feed/atom/`) say it
//!   outright with RFC 4685 `<thr:in-reply-to ref="…">`, whose `ref` is the
//!   parent's `<id>` / `<guid>`; `reply_to` is that `ref`.
//! - WordPress RSS comment feeds have no `thr` element, but WordPress builds
//!   a comment's guid as *post guid* + `#comment-N` (`get_comment_guid()`), so
//!   `reply_to` is the comment's guid without `#comment-N`. Only when the guid
//!   lacks that shape is the comment's `<link>` used instead, minus
//!   `#comment-N` and any `comment-page-N/` (the post's permalink).
//!
//! The guid rather than the permalink is the key because WordPress's own
//! Atom threading uses it (`thr:in-reply-to ref="<post guid>"`), and because a
//! guid survives slug and permalink-structure changes that would otherwise
//! duplicate posts. A comment's `conversation_id` is its post's `native_id`
//! (the `ref` minus any `#comment-N`, for replies to comments); a post's
//! `conversation_id` is its own `native_id`.
//!
//! # Text
//!
//! A post's text is its title, a blank line and its body (`content:encoded`,
//! else `description`; Atom `content`, else `summary`) turned to plain text.
//! A comment's text is its body only: comment titles are generated ("Comment
//! on *post* by *name*", or the body's first words on Blogger) and would put
//! the post's title, with any brand names in it, into every comment.
//!
//! # Authors
//!
//! Blogs have names, not handles: `author.handle` is `dc:creator` or the Atom
//! author's name as written (`author.url` its `<uri>`); RSS `<author>`'s
//! `email (Name)` form gives the e-mail as handle and the name as display
//! name. Without any, the feed's author (Atom inheritance) or
//! `managingEditor` is used, then the blog's host name.
//!
//! `wfw:commentRss`, `slash:comments`, `<comments>` and Atom
//! `<link rel="replies">` stay in `raw`; the reply counts they carry also
//! become `metrics.replies`.
//!
//! # Errors and limits
//!
//! An item without an id (guid/link/id) or without a readable date is
//! rejected as `item N` (0-based, in document order) with its XML; the others
//! still decode. XML that is not well-formed stops the reading where the
//! parser stops: the items before it are kept and one reject names the byte
//! and line. Only UTF-8 feeds are read (anything else is rejected with the
//! first bad byte). An item's `raw` lacks the root's namespace declarations;
//! the conventional prefixes (`dc`, `content`, `media`, `slash`, `thr`,
//! `atom`) are understood without them, so `raw` decodes again on its own.
//!
//! Why quick-xml and not feed-rs: feed-rs (2.x) maps feeds into its own model
//! and drops what care needs here — `thr:in-reply-to`, `slash:comments`,
//! `wfw:commentRss` (its comment-link support is only planned for 3.0, see
//! feed-rs issue #277) — and it cannot give the byte range of each item, which
//! `raw` must hold. A streaming quick-xml pass gives all of that.

use super::{Decoded, Decoder, Framing, Record, SniffInput, html, text};
use crate::post::{Author, Media, MediaKind, Metrics, Platform, Post, PostKind, push_unique};
use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// RSS 2.0 and Atom feeds of blog posts and comments.
#[derive(Debug, Clone, Copy, Default)]
pub struct Feed;

/// The namespaces this decoder reads; everything else is kept in `raw` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace, Atom or RSS 1.0: the core feed vocabulary.
    Core,
    Content,
    Dc,
    Slash,
    Media,
    Thr,
    Other,
}

fn ns_of_uri(uri: &str) -> Ns {
    match uri.trim_end_matches('/') {
        "http://www.w3.org/2005/Atom" | "http://purl.org/atom/ns#" | "http://purl.org/rss/1.0" => Ns::Core,
        "http://purl.org/rss/1.0/modules/content" => Ns::Content,
        "http://purl.org/dc/elements/1.1" => Ns::Dc,
        "http://purl.org/rss/1.0/modules/slash" => Ns::Slash,
        "http://search.yahoo.com/mrss" => Ns::Media,
        "http://purl.org/syndication/thread/1.0" => Ns::Thr,
        _ => Ns::Other,
    }
}

/// Undeclared prefixes are read by their conventional names, so an item's
/// `raw` fragment (cut out of a feed whose root declared them) still decodes,
/// as do feeds that forget a declaration.
fn ns_of_prefix(prefix: &str) -> Ns {
    match prefix {
        "atom" => Ns::Core,
        "content" => Ns::Content,
        "dc" => Ns::Dc,
        "slash" => Ns::Slash,
        "media" => Ns::Media,
        "thr" => Ns::Thr,
        _ => Ns::Other,
    }
}

/// The elements this decoder looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Rss,
    Rdf,
    Channel,
    Feed,
    Item,
    Entry,
    Title,
    Link,
    Guid,
    PubDate,
    Description,
    Author,
    Name,
    Uri,
    Email,
    Language,
    ManagingEditor,
    Id,
    Published,
    Updated,
    Content,
    Summary,
    Enclosure,
    DcCreator,
    DcDate,
    DcLanguage,
    ContentEncoded,
    SlashComments,
    MediaContent,
    MediaGroup,
    MediaDescription,
    MediaTitle,
    ThrInReplyTo,
    ThrTotal,
    Other,
}

fn tag_of(ns: Ns, local: &str) -> Tag {
    match (ns, local) {
        (Ns::Core, "rss") => Tag::Rss,
        (Ns::Core, "channel") => Tag::Channel,
        (Ns::Core, "feed") => Tag::Feed,
        (Ns::Core, "item") => Tag::Item,
        (Ns::Core, "entry") => Tag::Entry,
        (Ns::Core, "title") => Tag::Title,
        (Ns::Core, "link") => Tag::Link,
        (Ns::Core, "guid") => Tag::Guid,
        (Ns::Core, "pubDate") => Tag::PubDate,
        (Ns::Core, "description") => Tag::Description,
        (Ns::Core, "author") => Tag::Author,
        (Ns::Core, "name") => Tag::Name,
        (Ns::Core, "uri") => Tag::Uri,
        (Ns::Core, "email") => Tag::Email,
        (Ns::Core, "language") => Tag::Language,
        (Ns::Core, "managingEditor") => Tag::ManagingEditor,
        (Ns::Core, "id") => Tag::Id,
        (Ns::Core, "published") => Tag::Published,
        (Ns::Core, "updated") => Tag::Updated,
        (Ns::Core, "content") => Tag::Content,
        (Ns::Core, "summary") => Tag::Summary,
        (Ns::Core, "enclosure") => Tag::Enclosure,
        (Ns::Dc, "creator") => Tag::DcCreator,
        (Ns::Dc, "date") => Tag::DcDate,
        (Ns::Dc, "language") => Tag::DcLanguage,
        (Ns::Content, "encoded") => Tag::ContentEncoded,
        (Ns::Slash, "comments") => Tag::SlashComments,
        (Ns::Media, "content") => Tag::MediaContent,
        (Ns::Media, "group") => Tag::MediaGroup,
        (Ns::Media, "description") => Tag::MediaDescription,
        (Ns::Media, "title") => Tag::MediaTitle,
        (Ns::Thr, "in-reply-to") => Tag::ThrInReplyTo,
        (Ns::Thr, "total") => Tag::ThrTotal,
        (Ns::Other, "RDF") => Tag::Rdf,
        _ => Tag::Other,
    }
}

/// How a captured text is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    /// Plain text (RSS titles, Atom `type="text"`).
    Plain,
    /// HTML source (RSS descriptions, Atom `type="html"`, inline XHTML markup).
    Html,
}

/// A captured element text with how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    value: String,
    kind: TextKind,
}

impl Text {
    /// The text as plain text, line structure kept.
    fn plain(&self) -> String {
        match self.kind {
            TextKind::Plain => self.value.trim().to_string(),
            TextKind::Html => html::to_text(&self.value),
        }
    }

    /// The text on one line (titles, names): whitespace runs become one space.
    fn one_line(&self) -> String {
        self.plain().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Which field a captured element text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Link,
    Guid,
    PubDate,
    DcDate,
    Published,
    Updated,
    DcCreator,
    RssAuthor,
    AuthorName,
    AuthorUri,
    Description,
    ContentEncoded,
    Content,
    Summary,
    Id,
    Replies,
    Lang,
    MediaAlt,
    FeedTitle,
    FeedLink,
    FeedLang,
    FeedEditor,
    FeedAuthorName,
    FeedAuthorUri,
}

/// Everything read from one item or entry.
#[derive(Debug, Default)]
struct Item {
    index: usize,
    start: usize,
    end: usize,
    atom: bool,
    title: Option<Text>,
    link: Option<String>,
    alternate: Option<String>,
    guid: Option<String>,
    guid_is_permalink: bool,
    id: Option<String>,
    about: Option<String>,
    dates: Vec<(&'static str, String)>,
    creator: Option<String>,
    rss_author: Option<String>,
    author_name: Option<String>,
    author_uri: Option<String>,
    description: Option<Text>,
    content_encoded: Option<Text>,
    content: Option<Text>,
    summary: Option<Text>,
    in_reply_to: Option<String>,
    replies: Option<u64>,
    media: Vec<Media>,
    lang: Option<String>,
}

/// Feed-level facts items inherit.
#[derive(Debug, Default)]
struct FeedInfo {
    title: Option<String>,
    link: Option<String>,
    lang: Option<String>,
    editor: Option<String>,
    author_name: Option<String>,
    author_uri: Option<String>,
}

/// An element whose text is being collected.
#[derive(Debug)]
struct Capture {
    field: Field,
    /// Stack depth with the element open; its end tag closes the capture.
    depth: usize,
    /// Byte offset just after its start tag, to cut inline markup out whole.
    inner_start: usize,
    buf: String,
    kind: TextKind,
    /// Child elements were seen (Atom `type="xhtml"`, or unescaped HTML in RSS).
    markup: bool,
}

/// An attribute value by local name (`xml:lang` by full name), unescaped.
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().with_checks(false).filter_map(Result::ok).find_map(|a| {
        let key = a.key;
        let hit = if name.contains(':') { key.0 == name } else { key.local_name().as_ref() == name };
        if !hit {
            return None;
        }
        // Undeclared entities (`&nbsp;`) are invalid in XML attributes; keep such values as written.
        let value = a
            .normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_xml_entity)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| a.value.clone().into_owned());
        Some(value.trim().to_string())
    })
}

fn media_kind(mime_or_medium: &str) -> MediaKind {
    let m = mime_or_medium.trim().to_ascii_lowercase();
    if m.starts_with("image") {
        MediaKind::Image
    } else if m.starts_with("video") {
        MediaKind::Video
    } else if m.starts_with("audio") {
        MediaKind::Audio
    } else {
        MediaKind::Other
    }
}

fn push_media(list: &mut Vec<Media>, kind: MediaKind, url: Option<String>, alt: Option<String>) {
    let url = url.filter(|u| !u.is_empty());
    if url.is_some() && list.iter().any(|m| m.url == url) {
        return;
    }
    list.push(Media { kind, url, alt: alt.filter(|a| !a.is_empty()) });
}

/// Where a text capture for `tag` goes, given its parent and grandparent, or `None` to ignore it.
fn field_for(tag: Tag, parent: Tag, grand: Tag, item: Option<&Item>) -> Option<Field> {
    match item {
        Some(it) => {
            let direct = parent == Tag::Item || parent == Tag::Entry;
            match tag {
                Tag::Title if direct => Some(Field::Title),
                Tag::Link if direct && !it.atom => Some(Field::Link),
                Tag::Guid if direct => Some(Field::Guid),
                Tag::PubDate if direct => Some(Field::PubDate),
                Tag::DcDate if direct => Some(Field::DcDate),
                Tag::Published if direct => Some(Field::Published),
                Tag::Updated if direct => Some(Field::Updated),
                Tag::DcCreator if direct => Some(Field::DcCreator),
                Tag::Author if direct && !it.atom => Some(Field::RssAuthor),
                Tag::Name if parent == Tag::Author && (grand == Tag::Entry || grand == Tag::Item) => {
                    Some(Field::AuthorName)
                }
                Tag::Uri if parent == Tag::Author && (grand == Tag::Entry || grand == Tag::Item) => {
                    Some(Field::AuthorUri)
                }
                Tag::Description if direct => Some(Field::Description),
                Tag::ContentEncoded if direct => Some(Field::ContentEncoded),
                Tag::Content if direct => Some(Field::Content),
                Tag::Summary if direct => Some(Field::Summary),
                Tag::Id if direct => Some(Field::Id),
                Tag::SlashComments | Tag::ThrTotal if direct => Some(Field::Replies),
                Tag::DcLanguage if direct => Some(Field::Lang),
                Tag::MediaDescription | Tag::MediaTitle if parent == Tag::MediaContent => Some(Field::MediaAlt),
                _ => None,
            }
        }
        None => match (tag, parent) {
            (Tag::Title, Tag::Channel | Tag::Feed) => Some(Field::FeedTitle),
            (Tag::Link, Tag::Channel) => Some(Field::FeedLink),
            (Tag::Language | Tag::DcLanguage, Tag::Channel) => Some(Field::FeedLang),
            (Tag::ManagingEditor | Tag::DcCreator, Tag::Channel) => Some(Field::FeedEditor),
            (Tag::Name, Tag::Author) if grand == Tag::Feed => Some(Field::FeedAuthorName),
            (Tag::Uri, Tag::Author) if grand == Tag::Feed => Some(Field::FeedAuthorUri),
            _ => None,
        },
    }
}

/// Reads what an opening tag says through its attributes (links, enclosures, threading).
fn open_attributes(e: &BytesStart<'_>, tag: Tag, parent: Tag, item: Option<&mut Item>, feed: &mut FeedInfo) {
    match item {
        Some(it) => {
            let direct = parent == Tag::Item || parent == Tag::Entry;
            match tag {
                Tag::Item | Tag::Entry => {
                    it.lang = attr(e, "xml:lang");
                    it.about = attr(e, "about");
                }
                Tag::Guid if direct => {
                    // RSS 2.0: isPermaLink defaults to true.
                    it.guid_is_permalink = attr(e, "isPermaLink").is_none_or(|v| v.eq_ignore_ascii_case("true"));
                }
                Tag::Link if direct => {
                    let Some(href) = attr(e, "href").filter(|h| !h.is_empty()) else { return };
                    let rel = attr(e, "rel").unwrap_or_else(|| "alternate".to_string());
                    let kind = attr(e, "type").unwrap_or_default();
                    match rel.as_str() {
                        "alternate" if it.alternate.is_none() && (kind.is_empty() || kind.contains("html")) => {
                            it.alternate = Some(href);
                        }
                        // RFC 4685 §4: thr:count on a replies link.
                        "replies" => {
                            if let Some(n) = attr(e, "count").and_then(|c| c.parse().ok()) {
                                it.replies = Some(it.replies.map_or(n, |r: u64| r.max(n)));
                            }
                        }
                        "enclosure" => push_media(&mut it.media, media_kind(&kind), Some(href), None),
                        _ => {}
                    }
                }
                Tag::Enclosure if direct => {
                    let kind = media_kind(&attr(e, "type").unwrap_or_default());
                    push_media(&mut it.media, kind, attr(e, "url"), None);
                }
                Tag::MediaContent if direct || parent == Tag::MediaGroup => {
                    let kind = attr(e, "medium").or_else(|| attr(e, "type")).unwrap_or_default();
                    push_media(&mut it.media, media_kind(&kind), attr(e, "url"), None);
                }
                Tag::ThrInReplyTo if direct && it.in_reply_to.is_none() => {
                    // RFC 4685 §3: `ref` is the parent's id and required; `href` is a fallback.
                    it.in_reply_to = attr(e, "ref").filter(|r| !r.is_empty()).or_else(|| attr(e, "href"));
                }
                _ => {}
            }
        }
        None => match (tag, parent) {
            (Tag::Feed, _) => feed.lang = attr(e, "xml:lang"),
            (Tag::Link, Tag::Feed) if feed.link.is_none() && attr(e, "rel").is_none_or(|r| r == "alternate") => {
                feed.link = attr(e, "href");
            }
            _ => {}
        },
    }
}

/// Stores a finished capture.
fn assign(cap: &Capture, value: String, item: Option<&mut Item>, feed: &mut FeedInfo) {
    let text = Text { value, kind: if cap.markup { TextKind::Html } else { cap.kind } };
    let line = || Some(text.one_line()).filter(|s| !s.is_empty());
    match item {
        Some(it) => match cap.field {
            // The first of a kind wins: later ones are duplicates or other vocabularies' variants.
            Field::Title => it.title = it.title.take().or(Some(text)),
            Field::Link => it.link = it.link.take().or_else(line),
            Field::Guid => it.guid = it.guid.take().or_else(line),
            Field::PubDate => it.dates.push(("pubDate", text.value)),
            Field::DcDate => it.dates.push(("dc:date", text.value)),
            Field::Published => it.dates.push(("published", text.value)),
            Field::Updated => it.dates.push(("updated", text.value)),
            Field::DcCreator => it.creator = it.creator.take().or_else(line),
            Field::RssAuthor => it.rss_author = it.rss_author.take().or_else(line),
            Field::AuthorName => it.author_name = it.author_name.take().or_else(line),
            Field::AuthorUri => it.author_uri = it.author_uri.take().or_else(line),
            Field::Description => it.description = it.description.take().or(Some(text)),
            Field::ContentEncoded => it.content_encoded = it.content_encoded.take().or(Some(text)),
            Field::Content => it.content = it.content.take().or(Some(text)),
            Field::Summary => it.summary = it.summary.take().or(Some(text)),
            Field::Id => it.id = it.id.take().or_else(line),
            Field::Replies => {
                if let Ok(n) = text.value.trim().parse::<u64>() {
                    it.replies = Some(it.replies.map_or(n, |r| r.max(n)));
                }
            }
            Field::Lang => it.lang = it.lang.take().or_else(line),
            Field::MediaAlt => {
                let alt = line();
                if let Some(m) = it.media.last_mut().filter(|m| m.alt.is_none()) {
                    m.alt = alt;
                }
            }
            _ => {}
        },
        None => match cap.field {
            Field::FeedTitle => feed.title = feed.title.take().or_else(line),
            Field::FeedLink => feed.link = feed.link.take().or_else(line),
            Field::FeedLang => feed.lang = feed.lang.take().or_else(line),
            Field::FeedEditor => feed.editor = feed.editor.take().or_else(line),
            Field::FeedAuthorName => feed.author_name = feed.author_name.take().or_else(line),
            Field::FeedAuthorUri => feed.author_uri = feed.author_uri.take().or_else(line),
            _ => {}
        },
    }
}

/// The text kind an element's content has by format and `type` attribute.
fn text_kind(field: Field, e: &BytesStart<'_>) -> TextKind {
    match field {
        Field::Description | Field::ContentEncoded => TextKind::Html,
        // Atom text constructs (RFC 4287 §3.1): text (default), html, xhtml; content may carry a MIME type.
        Field::Title | Field::Content | Field::Summary | Field::FeedTitle => match attr(e, "type").as_deref() {
            Some("html" | "xhtml" | "text/html" | "application/xhtml+xml") => TextKind::Html,
            _ => TextKind::Plain,
        },
        _ => TextKind::Plain,
    }
}

/// 1-based line of byte `at`.
fn line_of(doc: &[u8], at: usize) -> usize {
    1 + memchr::memchr_iter(b'\n', &doc[..at.min(doc.len())]).count()
}

/// The result of reading a feed document.
#[derive(Debug, Default)]
struct Parsed {
    items: Vec<Item>,
    feed: FeedInfo,
    /// Why reading stopped early (the items before it are complete and kept),
    /// with the byte offset when the XML itself is broken there.
    error: Option<(Option<usize>, String)>,
}

/// Reads a feed document into items (one streaming pass; nothing is built yet).
fn parse(doc: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut reader = NsReader::from_str(doc);
    let mut stack: Vec<Tag> = Vec::with_capacity(16);
    let mut root_seen = false;
    let mut item: Option<Item> = None;
    let mut item_depth = 0usize;
    let mut cap: Option<Capture> = None;
    let mut count = 0usize;
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(uri), ev)) => (ns_of_uri(uri.0), ev),
            Ok((ResolveResult::Unknown(prefix), ev)) => (ns_of_prefix(&prefix), ev),
            Ok((ResolveResult::Unbound, ev)) => (Ns::Core, ev),
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(pos);
                let line = line_of(doc.as_bytes(), at);
                let reason =
                    format!("not well-formed XML at byte {at} (line {line}): {e}; items from here on were not read");
                out.error = Some((Some(at), reason));
                return out;
            }
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let tag = tag_of(ns, e.local_name().as_ref());
                if stack.is_empty() {
                    if root_seen {
                        let reason = format!("not well-formed XML at byte {pos}: content after the root element");
                        out.error = Some((Some(pos), reason));
                        return out;
                    }
                    root_seen = true;
                    if !matches!(tag, Tag::Rss | Tag::Rdf | Tag::Feed | Tag::Item | Tag::Entry) {
                        let name = e.name().0;
                        out.error = Some((None, format!("not an RSS or Atom feed: the root element is <{name}>")));
                        return out;
                    }
                }
                let parent = stack.last().copied().unwrap_or(Tag::Other);
                let grand = stack.len().checked_sub(2).and_then(|i| stack.get(i)).copied().unwrap_or(Tag::Other);
                if let Some(c) = cap.as_mut() {
                    // Markup inside a text element: inline XHTML (or unescaped HTML); cut out whole at its end.
                    c.markup = true;
                } else {
                    if item.is_none() && matches!(tag, Tag::Item | Tag::Entry) {
                        item = Some(Item { index: count, start: pos, atom: tag == Tag::Entry, ..Item::default() });
                        count += 1;
                        item_depth = stack.len() + 1;
                    }
                    open_attributes(e, tag, parent, item.as_mut(), &mut out.feed);
                    if !empty && let Some(field) = field_for(tag, parent, grand, item.as_ref()) {
                        let kind = text_kind(field, e);
                        let depth = stack.len() + 1;
                        cap =
                            Some(Capture { field, depth, inner_start: after, buf: String::new(), kind, markup: false });
                    }
                }
                if empty {
                    // `<item/>`: an item with nothing in it.
                    if item_depth == stack.len() + 1
                        && let Some(mut it) = item.take()
                    {
                        it.end = after;
                        out.items.push(it);
                    }
                } else {
                    stack.push(tag);
                }
            }
            Event::End(_) => {
                if let Some(mut c) = cap.take_if(|c| c.depth == stack.len()) {
                    let value = if c.markup {
                        doc.get(c.inner_start..pos).unwrap_or_default().to_string()
                    } else {
                        std::mem::take(&mut c.buf)
                    };
                    assign(&c, value, item.as_mut(), &mut out.feed);
                }
                stack.pop();
                if stack.len() + 1 == item_depth
                    && let Some(mut it) = item.take()
                {
                    it.end = after;
                    out.items.push(it);
                }
            }
            Event::Text(t) => {
                if let Some(c) = cap.as_mut() {
                    c.buf.push_str(&t.xml10_content());
                } else if stack.is_empty() && !t.trim().is_empty() {
                    out.error = Some((None, "not an RSS or Atom feed: text outside any element".to_string()));
                    return out;
                }
            }
            Event::CData(t) => {
                if let Some(c) = cap.as_mut() {
                    c.buf.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = cap.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => c.buf.push(ch),
                        _ => match resolve_xml_entity(&r) {
                            Some(s) => c.buf.push_str(s),
                            // HTML entities (`&nbsp;`) are undeclared in XML; keep them for the HTML pass.
                            None => {
                                c.buf.push('&');
                                c.buf.push_str(&r);
                                c.buf.push(';');
                            }
                        },
                    }
                }
            }
            Event::Eof => {
                if !root_seen {
                    out.error = Some((None, "not an RSS or Atom feed: no root element".to_string()));
                } else if !stack.is_empty() {
                    out.error = Some((
                        Some(pos),
                        format!(
                            "not well-formed XML at byte {pos} (line {}): the document ends inside {} open element(s)",
                            line_of(doc.as_bytes(), pos),
                            stack.len()
                        ),
                    ));
                }
                return out;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

/// `s` without a trailing `#comment-N` (WordPress comment guids and links), if it has one.
fn strip_comment_fragment(s: &str) -> Option<&str> {
    let at = s.rfind("#comment-")?;
    let n = &s[at + "#comment-".len()..];
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(&s[..at])
}

/// A comment link's post permalink: without `#comment-N` and any `comment-page-N/` segment.
fn post_permalink(link: &str) -> Option<String> {
    let base = strip_comment_fragment(link)?;
    let trimmed = base.trim_end_matches('/');
    if let Some(at) = trimmed.rfind("/comment-page-") {
        let n = &trimmed[at + "/comment-page-".len()..];
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("{}/", &trimmed[..at]));
        }
    }
    Some(base.to_string())
}

/// Splits RSS `<author>`'s `email (Name)` form.
fn split_email_name(s: &str) -> (String, Option<String>) {
    if let Some(open) = s.find('(')
        && s.ends_with(')')
        && s[..open].contains('@')
    {
        let name = s[open + 1..s.len() - 1].trim();
        return (s[..open].trim().to_string(), Some(name.to_string()).filter(|n| !n.is_empty()));
    }
    (s.to_string(), None)
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())
}

/// The author of an item, falling back to the feed's (Atom inheritance, RSS
/// managingEditor), then to the blog's host so a post always has a handle.
fn author_of(it: &Item, feed: &FeedInfo, url: Option<&str>) -> Author {
    let (handle, name, uri) = if let Some(c) = &it.creator {
        (c.clone(), None, None)
    } else if let Some(a) = &it.rss_author {
        let (h, n) = split_email_name(a);
        (h, n, None)
    } else if let Some(n) = &it.author_name {
        (n.clone(), None, it.author_uri.clone())
    } else if let Some(n) = &feed.author_name {
        (n.clone(), None, feed.author_uri.clone())
    } else if let Some(e) = &feed.editor {
        let (h, n) = split_email_name(e);
        (h, n, None)
    } else {
        let host = url.and_then(host_of).or_else(|| feed.link.as_deref().and_then(host_of));
        (host.or(feed.title.as_deref()).unwrap_or("unknown").to_string(), None, None)
    };
    Author { handle, display_name: name, url: uri, ..Author::default() }
}

/// True when `url` names an image file (a link to the full-size picture).
fn is_image_url(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    (url.starts_with("http://") || url.starts_with("https://"))
        && [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"].iter().any(|ext| path.ends_with(ext))
}

/// Links (`<a href>`) and images (`<img src alt>`) in an HTML body.
///
/// Blog engines wrap pictures in a link to the full-size file (Blogger always,
/// WordPress on "link to media file"); such a link is the picture, not a
/// link the author shared, so it becomes the image's URL instead.
fn html_links_and_images(body: &str, links: &mut Vec<String>, media: &mut Vec<Media>) {
    if !body.contains('<') {
        return;
    }
    let doc = scraper::Html::parse_fragment(body);
    for node in doc.root_element().descendants() {
        let Some(el) = node.value().as_element() else { continue };
        match el.name() {
            "a" => {
                let has_image = node.descendants().any(|d| d.value().as_element().is_some_and(|e| e.name() == "img"));
                let has_text = node.descendants().any(|d| d.value().as_text().is_some_and(|t| !t.trim().is_empty()));
                if has_image && !has_text {
                    continue;
                }
                if let Some(href) = el.attr("href").map(str::trim)
                    && (href.starts_with("http://") || href.starts_with("https://"))
                {
                    push_unique(links, href);
                }
            }
            "img" => {
                // 1×1 images are tracking pixels (WordPress stats, FeedBurner), not media.
                let pixel = el.attr("width") == Some("1") && el.attr("height") == Some("1");
                let Some(src) = el.attr("src").map(str::trim).filter(|s| !s.is_empty() && !pixel) else { continue };
                let full = node
                    .ancestors()
                    .find_map(|a| a.value().as_element().filter(|e| e.name() == "a").and_then(|e| e.attr("href")))
                    .map(str::trim)
                    .filter(|h| is_image_url(h));
                let alt = el.attr("alt").map(|a| a.trim().to_string());
                push_media(media, MediaKind::Image, Some(full.unwrap_or(src).to_string()), alt);
            }
            _ => {}
        }
    }
}

/// Builds the post for one item, or says what is missing.
fn build(it: Item, feed: &FeedInfo, doc: &str) -> Result<Post, String> {
    let native_id = if it.atom {
        it.id.clone().or_else(|| it.alternate.clone()).or_else(|| it.guid.clone())
    } else {
        it.guid.clone().or_else(|| it.link.clone()).or_else(|| it.about.clone()).or_else(|| it.id.clone())
    };
    let mut dates = it.dates.clone();
    // Prefer the publication date over the last-modified one, whatever the element order.
    dates.sort_by_key(|(name, _)| {
        ["pubDate", "published", "dc:date", "updated"].iter().position(|n| n == name).unwrap_or(4)
    });
    let published_at = dates.iter().find_map(|(_, v)| text::parse_any_date(v));
    let mut problems = Vec::new();
    if native_id.is_none() {
        problems.push(if it.atom { "no <id> or alternate link" } else { "no <guid> or <link>" }.to_string());
    }
    if published_at.is_none() {
        problems.push(match dates.first() {
            Some((name, value)) => format!("no readable date ({name} {:?})", value.trim()),
            None => "no date (pubDate, dc:date, published or updated)".to_string(),
        });
    }
    let (Some(native_id), Some(published_at)) = (native_id, published_at) else {
        return Err(format!("{} has {}", if it.atom { "entry" } else { "item" }, problems.join(" and ")));
    };
    let url = if it.atom {
        it.alternate.clone()
    } else {
        it.link.clone().or_else(|| it.guid.clone().filter(|g| it.guid_is_permalink && g.starts_with("http")))
    };
    // Threading: RFC 4685 first, then the WordPress RSS comment shapes.
    let reply_to = match &it.in_reply_to {
        Some(r) => Some(r.clone()),
        None if !it.atom => match it.guid.as_deref().and_then(strip_comment_fragment) {
            Some(post) => Some(post.to_string()),
            None => it.link.as_deref().and_then(post_permalink),
        },
        None => None,
    };
    let conversation_id = match &reply_to {
        Some(r) => Some(strip_comment_fragment(r).unwrap_or(r).to_string()),
        None => Some(native_id.clone()),
    };
    let body = if it.atom {
        it.content.as_ref().filter(|c| !c.value.trim().is_empty()).or(it.summary.as_ref())
    } else {
        it.content_encoded.as_ref().filter(|c| !c.value.trim().is_empty()).or(it.description.as_ref())
    };
    let body_text = body.map(Text::plain).unwrap_or_default();
    let title = it.title.as_ref().map(Text::one_line).unwrap_or_default();
    let text = if reply_to.is_some() && !body_text.is_empty() {
        body_text
    } else if title.is_empty() || body_text.starts_with(&title) {
        if body_text.is_empty() { title } else { body_text }
    } else if body_text.is_empty() {
        title
    } else {
        format!("{title}\n\n{body_text}")
    };
    let mut links = Vec::new();
    let mut media = it.media.clone();
    if let Some(b) = body.filter(|b| b.kind == TextKind::Html) {
        html_links_and_images(&b.value, &mut links, &mut media);
    }
    let found = text::entities(&text);
    for l in &found.links {
        push_unique(&mut links, l);
    }
    let author = {
        let mut a = author_of(&it, feed, url.as_deref());
        if a.display_name.as_deref() == Some(a.handle.as_str()) {
            a.display_name = None;
        }
        a
    };
    Ok(Post {
        url,
        lang: it.lang.clone().or_else(|| feed.lang.clone()),
        kind: if reply_to.is_some() { PostKind::Reply } else { PostKind::Original },
        reply_to,
        conversation_id,
        mentions: found.mentions,
        hashtags: found.hashtags,
        links,
        media,
        metrics: Metrics { replies: it.replies, ..Metrics::default() },
        raw: doc.get(it.start..it.end).unwrap_or_default().to_string(),
        ..Post::new(Platform::Blog, native_id, author, text, published_at, "feed".to_string())
    })
}

/// Decodes a whole feed document.
fn decode_document(bytes: &[u8], out: &mut Vec<Decoded>) {
    let doc = match std::str::from_utf8(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e.valid_up_to();
            return out.push(Decoded::reject(format!(
                "the feed is not valid UTF-8 at byte {at} (line {}); only UTF-8 feeds are supported",
                line_of(bytes, at)
            )));
        }
    };
    let parsed = parse(doc);
    let total = parsed.items.len();
    for it in parsed.items {
        let index = it.index;
        let raw = doc.get(it.start..it.end).unwrap_or_default().as_bytes().to_vec();
        match build(it, &parsed.feed, doc) {
            Ok(post) => out.push(Decoded::Post(Box::new(post))),
            Err(reason) => out.push(Decoded::reject_item(format!("item {index}"), reason, Some(raw))),
        }
    }
    match parsed.error {
        Some((Some(at), reason)) => out.push(Decoded::reject_item(format!("byte {at}"), reason, None)),
        Some((None, reason)) => out.push(Decoded::reject(reason)),
        None if total == 0 => out.push(Decoded::Skipped { reason: "the feed has no items".to_string() }),
        None => {}
    }
}

/// True when `tag` (like `<rss`) occurs in `hay` as a whole element name.
fn has_tag(hay: &[u8], tag: &[u8]) -> bool {
    memchr::memmem::find_iter(hay, tag)
        .any(|at| matches!(hay.get(at + tag.len()), Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')))
}

impl Decoder for Feed {
    fn name(&self) -> &'static str {
        "feed"
    }
    fn description(&self) -> &'static str {
        "RSS 2.0 and Atom feeds of blog posts and comments"
    }
    fn framing(&self) -> Framing {
        Framing::Document
    }
    fn sniff(&self, input: SniffInput<'_>) -> u8 {
        let head = input.head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input.head).trim_ascii_start();
        if !head.starts_with(b"<") {
            return 0;
        }
        // The root element follows at most a declaration, stylesheet PIs and comments.
        let head = &head[..head.len().min(4096)];
        let find = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
        if has_tag(head, b"<rss") || (has_tag(head, b"<feed") && find(b"http://www.w3.org/2005/Atom")) {
            95
        } else if has_tag(head, b"<rdf:RDF") && find(b"http://purl.org/rss/1.0/") {
            90
        } else if head.starts_with(b"<?xml") && has_tag(head, b"<feed") {
            60
        } else {
            0
        }
    }
    fn decode(&self, record: Record<'_>, out: &mut Vec<Decoded>) {
        match record {
            Record::Document(bytes) | Record::Line(bytes) => decode_document(bytes, out),
            Record::Csv { .. } => out.push(Decoded::reject("the feed decoder expects an XML document, got a CSV row")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_all;
    use proptest::prelude::*;

    fn decode(input: &str) -> Vec<Decoded> {
        decode_all(&Feed, input.as_bytes())
    }

    fn posts(input: &str) -> Vec<Post> {
        decode(input)
            .into_iter()
            .map(|d| match d {
                Decoded::Post(p) => *p,
                other => panic!("expected posts only, got {other:?}"),
            })
            .collect()
    }

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/feed").join(name);
        std::fs::read_to_string(path).unwrap()
    }

    const WP_ITEM: &str = r#"<item>
		<title>Spring recall &#8211; Trailhead 2</title>
		<link>https://blog.example/2024/03/04/recall/</link>
		<dc:creator><![CDATA[Priya]]></dc:creator>
		<pubDate>Mon, 04 Mar 2024 14:00:00 +0000</pubDate>
		<guid isPermaLink="false">https://blog.example/?p=12</guid>
		<description><![CDATA[Short excerpt &#8230;]]></description>
		<content:encoded><![CDATA[<p>Stop using the stove &amp; <a href="https://acme.example/recall">register</a>.</p><img src="https://blog.example/a.jpg" alt="the valve">]]></content:encoded>
		<wfw:commentRss>https://blog.example/2024/03/04/recall/feed/</wfw:commentRss>
		<slash:comments>3</slash:comments>
		<enclosure url="https://blog.example/notice.pdf" length="1" type="application/pdf" />
	</item>"#;

    fn wp_feed(items: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/"><channel><title>Blog</title><link>https://blog.example</link><language>en-US</language>{items}</channel></rss>"#
        )
    }

    #[test]
    fn wordpress_post_item() {
        let input = wp_feed(WP_ITEM);
        let [p] = posts(&input).try_into().unwrap();
        assert_eq!(p.platform, Platform::Blog);
        assert_eq!(p.native_id, "https://blog.example/?p=12");
        assert_eq!(p.url.as_deref(), Some("https://blog.example/2024/03/04/recall/"));
        assert_eq!(p.author.handle, "Priya");
        assert_eq!(p.text, "Spring recall – Trailhead 2\n\nStop using the stove & register.");
        assert_eq!(p.published_at.to_rfc3339(), "2024-03-04T14:00:00+00:00");
        assert_eq!(p.kind, PostKind::Original);
        assert_eq!(p.conversation_id.as_deref(), Some("https://blog.example/?p=12"));
        assert_eq!(p.links, ["https://acme.example/recall"]);
        assert_eq!(p.media.len(), 2);
        assert_eq!(p.media[0].kind, MediaKind::Other);
        assert_eq!(
            p.media[1],
            Media {
                kind: MediaKind::Image,
                url: Some("https://blog.example/a.jpg".into()),
                alt: Some("the valve".into())
            }
        );
        assert_eq!(p.metrics.replies, Some(3));
        assert_eq!(p.lang.as_deref(), Some("en-US"));
        assert_eq!(p.raw, WP_ITEM);
        assert!(p.raw.contains("<wfw:commentRss>"));
    }

    #[test]
    fn raw_fragment_decodes_on_its_own() {
        let input = wp_feed(WP_ITEM);
        let [p] = posts(&input).try_into().unwrap();
        // The fragment has no namespace declarations; conventional prefixes are understood.
        let [again] = posts(&p.raw).try_into().unwrap();
        assert_eq!(again.native_id, p.native_id);
        assert_eq!(again.text, p.text);
        assert_eq!(again.media, p.media);
        assert_eq!(again.metrics, p.metrics);
        assert_eq!(again.raw, p.raw);
    }

    #[test]
    fn wordpress_comment_points_at_post_guid() {
        let item = r#"<item><title>Comment on Spring recall by Dana</title>
            <link>https://blog.example/2024/03/04/recall/comment-page-2/#comment-41</link>
            <dc:creator><![CDATA[Dana]]></dc:creator><pubDate>Mon, 04 Mar 2024 16:21:09 +0000</pubDate>
            <guid isPermaLink="false">https://blog.example/?p=12#comment-41</guid>
            <content:encoded><![CDATA[<p>Still no label!</p>]]></content:encoded></item>"#;
        let [c] = posts(&wp_feed(item)).try_into().unwrap();
        assert_eq!(c.kind, PostKind::Reply);
        assert_eq!(c.native_id, "https://blog.example/?p=12#comment-41");
        assert_eq!(c.reply_to.as_deref(), Some("https://blog.example/?p=12"));
        assert_eq!(c.conversation_id.as_deref(), Some("https://blog.example/?p=12"));
        assert_eq!(c.text, "Still no label!");
        // Without the WordPress guid shape, the link gives the post's permalink.
        let item = item.replace("https://blog.example/?p=12#comment-41</guid>", "c41</guid>");
        let [c] = posts(&wp_feed(&item)).try_into().unwrap();
        assert_eq!(c.reply_to.as_deref(), Some("https://blog.example/2024/03/04/recall/"));
    }

    #[test]
    fn post_and_comment_fixtures_link_up() {
        for (post_feed, comment_feed) in [
            ("wordpress-posts.rss.xml", "wordpress-comments.rss.xml"),
            ("blogger-posts.atom.xml", "blogger-comments.atom.xml"),
        ] {
            let posts_in = posts(&fixture(post_feed));
            let comments = posts(&fixture(comment_feed));
            assert!(!comments.is_empty());
            for c in &comments {
                assert_eq!(c.kind, PostKind::Reply, "{}", c.native_id);
                let parent = posts_in.iter().find(|p| Some(&p.native_id) == c.reply_to.as_ref());
                assert!(parent.is_some(), "{comment_feed}: {} replies to unknown {:?}", c.native_id, c.reply_to);
                assert_eq!(c.conversation_id, c.reply_to);
            }
        }
    }

    #[test]
    fn blogger_entries() {
        let comments = posts(&fixture("blogger-comments.atom.xml"));
        assert_eq!(comments.len(), 4);
        let c = &comments[0];
        assert_eq!(c.native_id, "tag:blogger.com,1999:blog-4815162342108108108.post-1234500000000000001");
        assert_eq!(c.author.handle, "Hannah W");
        assert_eq!(c.author.url.as_deref(), Some("https://www.blogger.com/profile/09876543210987654321"));
        assert_eq!(
            c.text,
            "Sent my poles in three weeks ago and heard nothing. Ticket #88121, can someone check?\n\nAlso the repair form won't accept my order number."
        );
        assert_eq!(c.published_at.to_rfc3339(), "2024-03-05T20:02:41.338+00:00");
        let p = &posts(&fixture("blogger-posts.atom.xml"))[0];
        assert_eq!(p.metrics.replies, Some(3));
        assert_eq!(
            p.url.as_deref(),
            Some("https://acme-trail-notes.blogspot.com/2024/03/why-your-tent-pole-shock-cord-snapped.html")
        );
        assert!(
            p.text
                .starts_with("Why your tent pole shock cord snapped (and how we fix it)\n\nShock cord wears out & UV")
        );
        assert_eq!(p.media.len(), 1, "{:?}", p.media);
        assert_eq!(p.media[0].alt.as_deref(), Some("Worn shock cord next to a new one"));
        // The picture's link is the full-size file, not a shared link.
        assert_eq!(
            p.media[0].url.as_deref(),
            Some("https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsEi7Q/s1600/shock-cord.jpg")
        );
        assert_eq!(p.links, ["https://acme-outdoor.example/repairs/form"]);
    }

    #[test]
    fn atom_text_constructs_and_inheritance() {
        let input = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><author><name>Feed Author</name></author>
            <entry><id>urn:1</id><updated>2024-03-05T18:30:02Z</updated><title type="text">a &lt; b</title>
            <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>world</b> &amp; <a href="https://x.example/">you</a></p></div></content>
            <link rel="alternate" type="text/html" href="https://x.example/1"/><link rel="replies" href="https://x.example/1/c" thr:count="7" xmlns:thr="http://purl.org/syndication/thread/1.0"/></entry></feed>"#;
        let [p] = posts(input).try_into().unwrap();
        assert_eq!(p.text, "a < b\n\nHello world & you");
        assert_eq!(p.author.handle, "Feed Author");
        assert_eq!(p.lang.as_deref(), Some("en"));
        assert_eq!(p.links, ["https://x.example/"]);
        assert_eq!(p.url.as_deref(), Some("https://x.example/1"));
        assert_eq!(p.metrics.replies, Some(7));
    }

    #[test]
    fn rss_1_0_items() {
        let input = r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel rdf:about="https://b.example/"><title>B</title><link>https://b.example/</link></channel>
            <item rdf:about="https://b.example/p/1"><title>One</title><link>https://b.example/p/1</link><dc:date>2024-03-05T10:00:00Z</dc:date><dc:creator>Ann</dc:creator></item>
            </rdf:RDF>"#;
        let [p] = posts(input).try_into().unwrap();
        assert_eq!(p.native_id, "https://b.example/p/1");
        assert_eq!(p.author.handle, "Ann");
        assert_eq!(p.text, "One");
    }

    #[test]
    fn wordpress_atom_reply_to_a_comment() {
        // feed-atom-comments.php: a reply to a comment names the parent comment's guid.
        let input = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
            <entry><title>By: Acme</title><link rel="alternate" href="https://blog.example/recall/#comment-35" type="text/html"/>
            <author><name>Acme</name></author><id>https://blog.example/?p=12#comment-35</id>
            <published>2024-03-04T17:02:44Z</published><content type="html"><![CDATA[<p>On it!</p>]]></content>
            <thr:in-reply-to ref="https://blog.example/?p=12#comment-34" href="https://blog.example/recall/#comment-34" type="text/html"/></entry></feed>"#;
        let [c] = posts(input).try_into().unwrap();
        assert_eq!(c.reply_to.as_deref(), Some("https://blog.example/?p=12#comment-34"));
        assert_eq!(c.conversation_id.as_deref(), Some("https://blog.example/?p=12"));
        assert_eq!(c.text, "On it!");
    }

    #[test]
    fn rss_author_email_form_and_fallbacks() {
        let input = r#"<rss><channel><link>https://b.example/</link>
            <item><guid>g1</guid><pubDate>Tue, 05 Mar 2024 18:20:00 GMT</pubDate><author>jo@b.example (Jo Bloggs)</author><title>t</title></item>
            <item><guid>g2</guid><pubDate>Tue, 05 Mar 2024 18:20:00 GMT</pubDate><title>t</title></item></channel></rss>"#;
        let [a, b] = posts(input).try_into().unwrap();
        assert_eq!(a.author.handle, "jo@b.example");
        assert_eq!(a.author.display_name.as_deref(), Some("Jo Bloggs"));
        assert_eq!(b.author.handle, "b.example");
        assert_eq!(b.url, None, "a guid that is not a URL is no permalink");
    }

    #[test]
    fn malformed_items_are_rejected_alone() {
        let out = decode(&fixture("malformed-items.rss.xml"));
        assert_eq!(out.len(), 4);
        assert!(matches!(&out[0], Decoded::Post(p) if p.author.handle == "mod@forum.trail.example"));
        match &out[1] {
            Decoded::Rejected { within, reason, raw } => {
                assert_eq!(within.as_deref(), Some("item 1"));
                assert_eq!(reason, "item has no <guid> or <link> and no date (pubDate, dc:date, published or updated)");
                assert!(raw.as_ref().is_some_and(|r| r.starts_with(b"<item>")));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&out[2], Decoded::Rejected { reason, .. } if reason.contains("next Tuesday-ish")));
        assert!(matches!(&out[3], Decoded::Post(p) if p.published_at.to_rfc3339() == "2024-03-06T06:00:00+00:00"));
    }

    #[test]
    fn broken_xml_keeps_earlier_items_and_says_where() {
        let out = decode(&fixture("broken-xml.atom.xml"));
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            matches!(&out[0], Decoded::Post(p) if p.lang.as_deref() == Some("de") && p.author.handle == "Acme Outdoor DE")
        );
        match &out[1] {
            Decoded::Rejected { within, reason, .. } => {
                assert!(within.as_deref().is_some_and(|w| w.starts_with("byte ")), "{within:?}");
                assert!(reason.starts_with("not well-formed XML at byte "), "{reason}");
                assert!(reason.contains("(line 20)"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn documents_that_are_not_feeds() {
        let reason = |s: &[u8]| match decode_all(&Feed, s).as_slice() {
            [Decoded::Rejected { reason, .. }] => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason(b"<html><body>hi</body></html>").contains("root element is <html>"));
        assert!(reason(b"just text").contains("not an RSS or Atom feed"));
        assert!(reason(b"<rss><channel><item>").contains("ends inside"));
        assert!(reason(b"<rss>\xff</rss>").contains("not valid UTF-8 at byte 5"));
        assert_eq!(
            decode_all(&Feed, b"<rss><channel/></rss>"),
            vec![Decoded::Skipped { reason: "the feed has no items".into() }]
        );
    }

    #[test]
    fn sniffing() {
        let sniff = |s: &str| Feed.sniff(SniffInput { head: s.as_bytes(), file_name: None });
        assert_eq!(sniff("<?xml version='1.0'?>\n<rss version=\"2.0\">"), 95);
        assert_eq!(sniff("\u{feff}  <feed xmlns='http://www.w3.org/2005/Atom'>"), 95);
        assert_eq!(sniff("<?xml version='1.0'?><rdf:RDF xmlns='http://purl.org/rss/1.0/'>"), 90);
        assert_eq!(sniff("<?xml version='1.0'?><feed>"), 60);
        assert_eq!(sniff("<rssfoo>"), 0);
        assert_eq!(sniff("{\"rss\": 1}"), 0);
        assert_eq!(sniff("<html><feed></feed></html>"), 0);
    }

    fn xml_escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_all(&Feed, &bytes);
        }

        #[test]
        fn arbitrary_markup_never_panics(s in "(<(/?)(rss|channel|item|entry|feed|title|link|guid|content|thr:in-reply-to|dc:creator)( ref='x'| href=\"h\"| type='xhtml')?(/?)>|[a-z&;#<>\"' ]{0,6}|<!\\[CDATA\\[[a-z<>&]{0,5}\\]\\]>){0,40}") {
            let _ = decode_all(&Feed, s.as_bytes());
        }

        #[test]
        fn generated_items_decode(
            title in "[a-zA-Z0-9😀é&<>\"',#@]([a-zA-Z0-9😀é&<>\"',#@ ]{0,30}[a-zA-Z0-9😀é&<>\"',#@])?",
            body in "[a-zA-Z0-9😀é&<>\"',#@]([a-zA-Z0-9😀é&<>\"',#@ ]{0,40}[a-zA-Z0-9😀é&<>\"',#@])?",
            author in "[A-Za-z][A-Za-z0-9 _.]{0,20}[A-Za-z0-9]",
            id in "[a-z0-9:/._?=-]{1,40}",
            secs in 0i64..4_000_000_000,
            cdata in any::<bool>(),
            atom in any::<bool>(),
        ) {
            prop_assume!(!title.contains("  ") && !body.contains("  ") && !author.contains("  "));
            prop_assume!(!body.starts_with(&title));
            let when = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            // The body is HTML: escape it as HTML, then for XML (or wrap the HTML in CDATA).
            let html = format!("<p>{}</p>", xml_escape(&body));
            let html_in_xml = if cdata { format!("<![CDATA[{html}]]>") } else { xml_escape(&html) };
            let doc = if atom {
                format!(
                    "<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>{}</id><published>{}</published><author><name>{}</name></author><title type='text'>{}</title><content type='html'>{html_in_xml}</content></entry></feed>",
                    xml_escape(&id), when.to_rfc3339(), xml_escape(&author), xml_escape(&title)
                )
            } else {
                format!(
                    "<rss><channel><item><guid isPermaLink='false'>{}</guid><pubDate>{}</pubDate><dc:creator>{}</dc:creator><title>{}</title><description>{html_in_xml}</description></item></channel></rss>",
                    xml_escape(&id), when.to_rfc2822(), xml_escape(&author), xml_escape(&title)
                )
            };
            let out = decode(&doc);
            let [Decoded::Post(p)] = out.as_slice() else { panic!("{doc}\n{out:?}") };
            prop_assert_eq!(&p.native_id, &id);
            prop_assert_eq!(p.published_at, when);
            prop_assert_eq!(&p.author.handle, &author);
            prop_assert_eq!(&p.text, &format!("{title}\n\n{body}"));
            prop_assert!(doc.contains(&p.raw));
        }
    }
}
