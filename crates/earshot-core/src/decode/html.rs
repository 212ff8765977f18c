//! HTML to plain text, for Mastodon `content` and blog posts and comments.
//!
//! Uses a real HTML5 parser (scraper/html5ever) so entities, unclosed tags
//! and odd markup are handled as a browser would; block elements and `<br>`
//! become line breaks, everything else is flattened to its text.

use scraper::{Html, Node};

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
];

/// Converts an HTML fragment to plain text.
pub fn to_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return html.trim().to_string();
    }
    let doc = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    for edge in doc.root_element().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if e.name() == "br" => out.push('\n'),
                Node::Element(e) if BLOCKS.contains(&e.name()) => ensure_break(&mut out, 1),
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    if e.name() == "p" {
                        ensure_break(&mut out, 2);
                    } else if BLOCKS.contains(&e.name()) {
                        ensure_break(&mut out, 1);
                    }
                }
            }
        }
    }
    // Collapse runs of spaces created by markup, keep line structure.
    let mut cleaned = String::with_capacity(out.len());
    for (i, line) in out.split('\n').enumerate() {
        if i > 0 {
            cleaned.push('\n');
        }
        cleaned.push_str(
            line.split([' ', '\t', '\u{a0}']).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ").as_str(),
        );
    }
    while cleaned.contains("\n\n\n") {
        cleaned = cleaned.replace("\n\n\n", "\n\n");
    }
    cleaned.trim().to_string()
}

fn ensure_break(out: &mut String, n: usize) {
    if out.trim().is_empty() {
        return;
    }
    let have = out.chars().rev().take_while(|c| *c == '\n').count();
    for _ in have..n {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn mastodon_content() {
        let html = r#"<p><span class="h-card"><a href="https://m.s/@gilt" class="u-url mention">@<span>gilt</span></a></span> my sandal broke &amp; I&#39;m sad</p><p>see <a href="https://example.com/photo"><span class="invisible">https://</span><span class="">example.com/photo</span><span class="invisible"></span></a><br>thanks</p>"#;
        assert_eq!(to_text(html), "@gilt my sandal broke & I'm sad\n\nsee https://example.com/photo\nthanks");
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(to_text("  hello  "), "hello");
    }

    #[test]
    fn script_is_text_not_markup() {
        assert_eq!(to_text("&lt;script&gt;alert(1)&lt;/script&gt;"), "<script>alert(1)</script>");
    }
}
