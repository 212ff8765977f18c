//! Helpers shared by the integration tests (each test file that needs them declares `mod support;`; a file uses
//! only some of them).
#![allow(dead_code)]

pub mod chrome;
pub mod pg;
pub mod stored;
pub mod stream;
pub mod webhook;
