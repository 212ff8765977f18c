//! Loaders for the public labeled data in `shared/data` (see its README for sources and licences).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Errors loading a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// File could not be opened/read.
    #[error("{path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// CSV syntax error.
    #[error("{path}: {source}")]
    Csv {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: csv::Error,
    },
    /// A value did not parse.
    #[error("{path}: {msg}")]
    Bad {
        /// File path.
        path: PathBuf,
        /// What was wrong.
        msg: String,
    },
}

fn csv_reader(path: &Path) -> Result<csv::Reader<File>, DataError> {
    let f = File::open(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    Ok(csv::ReaderBuilder::new().flexible(true).from_reader(f))
}

fn read_rows(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), DataError> {
    let mut rdr = csv_reader(path)?;
    let headers = rdr.headers().map_err(|source| DataError::Csv { path: path.into(), source })?.clone();
    let rows =
        rdr.records().collect::<Result<Vec<_>, _>>().map_err(|source| DataError::Csv { path: path.into(), source })?;
    Ok((headers, rows))
}

fn col(headers: &csv::StringRecord, name: &str, path: &Path) -> Result<usize, DataError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| DataError::Bad { path: path.into(), msg: format!("no column {name:?}") })
}

/// One row of `complaints/train.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintRow {
    /// Tweet text.
    pub text: String,
    /// Is it a complaint.
    pub complaint: bool,
    /// Industry domain (or `random_tweet`/`random_reply`).
    pub domain: String,
    /// Severity 0–4 (0 = not a complaint); `None` where the join upstream found no severity.
    pub severity: Option<u8>,
}

/// Load `complaints/train.csv`.
///
/// # Errors
/// [`DataError`] on I/O or parse failure.
pub fn load_complaints(data_dir: &Path) -> Result<Vec<ComplaintRow>, DataError> {
    let path = data_dir.join("complaints/train.csv");
    let (h, rows) = read_rows(&path)?;
    let (t, c, d, s) =
        (col(&h, "text", &path)?, col(&h, "complaint", &path)?, col(&h, "domain", &path)?, col(&h, "severity", &path)?);
    rows.iter()
        .map(|r| {
            let bad = |msg: String| DataError::Bad { path: path.clone(), msg };
            let complaint = match r.get(c) {
                Some("1") => true,
                Some("0") => false,
                v => return Err(bad(format!("complaint {v:?}"))),
            };
            let severity = match r.get(s).unwrap_or("").trim() {
                "" => None,
                v => Some(v.parse::<f64>().map_err(|e| bad(format!("severity {v:?}: {e}")))? as u8),
            };
            Ok(ComplaintRow {
                text: r.get(t).unwrap_or("").to_owned(),
                complaint,
                domain: r.get(d).unwrap_or("").to_owned(),
                severity,
            })
        })
        .collect()
}

/// Undo the JSON-style escapes left in the TweetEval/SemEval text files (`\u2019`, `\u002c`, `\"`).
#[must_use]
pub fn unescape_tweeteval(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.len() >= 6
            && tail.as_bytes()[1] == b'u'
            && let Some(ch) = u32::from_str_radix(&tail[2..6], 16).ok().and_then(char::from_u32)
        {
            out.push(ch);
            rest = &tail[6..];
        } else if let Some(after) = tail.strip_prefix("\\\"") {
            out.push('"');
            rest = after;
        } else {
            out.push('\\');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

fn read_lines(path: &Path) -> Result<Vec<String>, DataError> {
    let f = File::open(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    BufReader::new(f).lines().collect::<Result<_, _>>().map_err(|source| DataError::Io { path: path.into(), source })
}

/// TweetEval sentiment: texts and labels (0 negative, 1 neutral, 2 positive).
#[derive(Debug, Clone, Default)]
pub struct LabeledTexts {
    /// Texts (escapes decoded).
    pub texts: Vec<String>,
    /// Labels.
    pub labels: Vec<u32>,
}

/// Load one TweetEval split (`train` or `val`).
///
/// # Errors
/// [`DataError`] on I/O failure, a bad label, or mismatched line counts.
pub fn load_tweeteval(data_dir: &Path, split: &str) -> Result<LabeledTexts, DataError> {
    let dir = data_dir.join("tweeteval-sentiment");
    let tp = dir.join(format!("{split}_text.txt"));
    let lp = dir.join(format!("{split}_labels.txt"));
    let texts = read_lines(&tp)?;
    let labels: Vec<u32> = read_lines(&lp)?
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim()
                .parse::<u32>()
                .ok()
                .filter(|&v| v < 3)
                .ok_or_else(|| DataError::Bad { path: lp.clone(), msg: format!("label {l:?}") })
        })
        .collect::<Result<_, _>>()?;
    if texts.len() < labels.len() {
        return Err(DataError::Bad { path: tp, msg: format!("{} texts for {} labels", texts.len(), labels.len()) });
    }
    let texts = texts[..labels.len()].iter().map(|t| unescape_tweeteval(t)).collect();
    Ok(LabeledTexts { texts, labels })
}

/// One row of `airline-sentiment/train.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct AirlineRow {
    /// Tweet id.
    pub tweet_id: String,
    /// `negative`, `neutral` or `positive`.
    pub sentiment: String,
    /// Negative reason (only for negative tweets).
    pub reason: Option<String>,
    /// Tweet text.
    pub text: String,
}

/// Load `airline-sentiment/train.csv`.
///
/// # Errors
/// [`DataError`] on I/O or parse failure.
pub fn load_airline(data_dir: &Path) -> Result<Vec<AirlineRow>, DataError> {
    let path = data_dir.join("airline-sentiment/train.csv");
    let (h, rows) = read_rows(&path)?;
    let (id, s, r, t) = (
        col(&h, "tweet_id", &path)?,
        col(&h, "airline_sentiment", &path)?,
        col(&h, "negativereason", &path)?,
        col(&h, "text", &path)?,
    );
    Ok(rows
        .iter()
        .map(|row| AirlineRow {
            tweet_id: row.get(id).unwrap_or("").to_owned(),
            sentiment: row.get(s).unwrap_or("").to_owned(),
            reason: row.get(r).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned),
            text: row.get(t).unwrap_or("").to_owned(),
        })
        .collect())
}

/// One hand-labeled customer tweet from `twcs-intents` (Kecht et al. 2021).
#[derive(Debug, Clone, PartialEq)]
pub struct TopicRow {
    /// `AmazonHelp`, `AppleSupport` or `SpotifyCares`.
    pub brand: String,
    /// Tweet text.
    pub text: String,
    /// Topic columns marked 1.
    pub topics: Vec<String>,
}

/// The three brands of `twcs-intents`.
pub const TWCS_INTENT_BRANDS: [&str; 3] = ["AmazonHelp", "AppleSupport", "SpotifyCares"];

/// Load the 600 labeled inbound tweets of `twcs-intents`.
///
/// # Errors
/// [`DataError`] on I/O or parse failure.
pub fn load_twcs_topics(data_dir: &Path) -> Result<Vec<TopicRow>, DataError> {
    let mut out = Vec::new();
    for brand in TWCS_INTENT_BRANDS {
        let path = data_dir.join(format!("twcs-intents/data/labeled/twcs-{brand}-200-inbound.csv"));
        let (h, rows) = read_rows(&path)?;
        let t = col(&h, "text", &path)?;
        let first_topic = col(&h, "company", &path)? + 1;
        for r in &rows {
            let topics = (first_topic..h.len())
                .filter(|&i| r.get(i).map(str::trim).is_some_and(|v| v == "1" || v == "1.0"))
                .map(|i| h[i].to_owned())
                .collect();
            out.push(TopicRow { brand: brand.to_owned(), text: r.get(t).unwrap_or("").to_owned(), topics });
        }
    }
    Ok(out)
}

/// Inbound (customer-written) tweets from the TWCS subsets, no labels. Order: file order, head5000 then
/// SpotifyCares.
///
/// # Errors
/// [`DataError`] on I/O or parse failure.
pub fn load_twcs_inbound(data_dir: &Path) -> Result<Vec<String>, DataError> {
    let mut out = Vec::new();
    for f in ["twcs/twcs_head5000.csv", "twcs/twcs_spotifycares_inbound15096.csv"] {
        let path = data_dir.join(f);
        let (h, rows) = read_rows(&path)?;
        let (inb, t) = (col(&h, "inbound", &path)?, col(&h, "text", &path)?);
        out.extend(rows.iter().filter(|r| r.get(inb) == Some("True")).map(|r| r.get(t).unwrap_or("").to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape() {
        assert_eq!(unescape_tweeteval(r#"a\u002c b\u2019s \"q\" \x"#), "a, b\u{2019}s \"q\" \\x");
        assert_eq!(unescape_tweeteval(r"end\"), "end\\");
        assert_eq!(unescape_tweeteval(r"\u12"), "\\u12");
    }
}
