//! Helpers shared by the decoders' property tests.

use proptest::prelude::*;

/// Tweet-like text: Unicode, emoji, newlines, quotes, and the characters X HTML-escapes.
pub(crate) fn tweet_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 .,!?&<>#@é漢😀👍🏽\\n\"\\\\]{1,80}").expect("valid regex")
}

/// Escapes text the way the X APIs do (`&`, `<`, `>` only).
pub(crate) fn x_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
