//! Earshot's domain: the normalized [`post::Post`] model, the format
//! [`decode`]rs that produce it, and [`brand`] attribution.
//!
//! Invariant: this crate does no network or database I/O and never reads the
//! wall clock; time and input bytes are passed in, so everything here is
//! deterministic and fuzzable.

pub mod brand;
pub mod decode;
pub mod post;

pub use post::{Author, Deletion, Media, MediaKind, Metrics, Platform, Post, PostKind};
