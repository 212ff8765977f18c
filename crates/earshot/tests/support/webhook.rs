//! A webhook receiver on loopback that records every request, for the alert tests.

use std::sync::{Arc, Mutex};

/// Every request received: its headers and body.
pub type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// Serves `POST /hook` on a free loopback port (on the current tokio runtime), recording into `received`.
pub async fn receiver(received: Received) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let received = received.clone();
            async move {
                received.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}
