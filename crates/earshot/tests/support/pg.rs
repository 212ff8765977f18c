//! A PostgreSQL schema of its own per test.

use super::stream::DEFAULT_PG;

/// A schema of its own on the test server (`EARSHOT_TEST_POSTGRES_URL`, else the default URL when something answers
/// there), dropped at the end; earshot is put in it through [`Schema::url`].
pub struct Schema {
    /// The server's URL.
    pub base: String,
    /// The schema's name.
    pub name: String,
}

impl Schema {
    /// A fresh schema named `<prefix>_<tag>_<pid>_<nanos>`, or `None` (the test skips) when no server is configured
    /// or answering.
    pub fn new(prefix: &str, tag: &str) -> Option<Schema> {
        let base = match std::env::var("EARSHOT_TEST_POSTGRES_URL") {
            Ok(url) => url,
            Err(_) => {
                let addr = "127.0.0.1:5432".parse().unwrap();
                if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_err() {
                    eprintln!("skipped: no PostgreSQL at {DEFAULT_PG}");
                    return None;
                }
                DEFAULT_PG.to_string()
            }
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        Some(Schema { base, name: format!("{prefix}_{tag}_{}_{nanos}", std::process::id()) })
    }

    /// The URL that puts earshot in this schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{}", self.base, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // On a thread of its own: the sync client may not start its runtime inside an async test's.
        let (base, name) = (self.base.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&base, postgres::NoTls).map_err(|e| e.to_string())?;
            c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")).map_err(|e| e.to_string())
        });
        if let Err(e) = dropped.join().unwrap() {
            eprintln!("could not drop schema {}: {e}", self.name);
        }
    }
}
