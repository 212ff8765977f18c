//! `timestamp,value` series in and `timestamp,value,anomaly_score` out:
//! what `earshot storms detect-series FILE.csv` runs.
//!
//! The input is a CSV of regularly bucketed counts, as in NAB's
//! `realTweets` files (`2015-02-26 21:42:53,104`). The detector runs over it
//! as it would over a live stream, one row at a time and never looking
//! ahead, so the scores are exactly what a live deployment would have
//! produced at each row.
//!
//! Accepted timestamps: `YYYY-MM-DD HH:MM:SS` (optionally with fractional
//! seconds or a `T`), RFC 3339 with an offset, or integer Unix seconds; all
//! are taken as UTC. A header row is optional; when there is one, columns
//! named `timestamp`/`value` (or `time`, `count`, `timestamp_utc`) are used,
//! otherwise the first two.

use std::io::{Read, Write};

use chrono::{DateTime, NaiveDateTime};

use crate::volume::{VolumeConfig, VolumeDetector};

/// A problem with a series file. Each names the line at fault and what the
/// line should look like.
#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    /// The CSV itself is malformed (quoting, encoding).
    #[error("line {line}: not readable as CSV: {source}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// The cause.
        source: csv::Error,
    },
    /// A row has fewer than two fields.
    #[error("line {line}: expected two fields, timestamp,value (e.g. 2015-02-26 21:42:53,104)")]
    MissingField {
        /// 1-based line number.
        line: u64,
    },
    /// A timestamp does not parse.
    #[error("line {line}: {value:?} is not a timestamp: use YYYY-MM-DD HH:MM:SS, RFC 3339 or Unix seconds")]
    BadTimestamp {
        /// 1-based line number.
        line: u64,
        /// The text.
        value: String,
    },
    /// A value is not a finite, non-negative number.
    #[error("line {line}: {value:?} is not a count: values must be finite numbers >= 0")]
    BadValue {
        /// 1-based line number.
        line: u64,
        /// The text.
        value: String,
    },
    /// Timestamps must increase from row to row.
    #[error(
        "line {line}: timestamp {time} is not after the previous row's {previous}: sort the file by time and merge duplicate rows"
    )]
    NotIncreasing {
        /// 1-based line number.
        line: u64,
        /// This row's time.
        time: NaiveDateTime,
        /// The previous row's time.
        previous: NaiveDateTime,
    },
    /// Two rows fall in the same bucket of the series' width.
    #[error(
        "line {line}: timestamp {time} falls in the same {bucket_secs}-second bucket as the previous row: the file is not regularly bucketed at that width (set the bucket width explicitly, or aggregate the rows first)"
    )]
    SameBucket {
        /// 1-based line number.
        line: u64,
        /// This row's time.
        time: NaiveDateTime,
        /// The bucket width in force.
        bucket_secs: i64,
    },
    /// No data rows.
    #[error("the series has no data rows: expected timestamp,value rows")]
    Empty,
    /// The bucket width cannot be inferred from a single row.
    #[error("cannot infer the bucket width from a single row: give the width explicitly (bucket_secs)")]
    CannotInferWidth,
    /// Writing the output failed.
    #[error("cannot write the scored series: {0}")]
    Write(#[from] std::io::Error),
}

/// One row of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRow {
    /// 1-based line number in the input.
    pub line: u64,
    /// The timestamp as written (echoed in the output).
    pub raw_time: String,
    /// The value as written (echoed in the output).
    pub raw_value: String,
    /// Parsed timestamp (UTC).
    pub time: NaiveDateTime,
    /// Parsed value.
    pub value: f64,
}

/// What [`detect_series`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSummary {
    /// Data rows read (and written).
    pub rows: usize,
    /// Bucket width used, in seconds (given or inferred).
    pub bucket_secs: i64,
    /// Whether the width was inferred from the timestamps.
    pub inferred_width: bool,
    /// Buckets missing between rows (counted as zero).
    pub missing_buckets: u64,
    /// Rows scoring `>= 0.5`.
    pub detections: usize,
    /// Highest score.
    pub max_score: f64,
    /// First and last timestamps.
    pub span: (NaiveDateTime, NaiveDateTime),
}

/// Parses the timestamp forms a series may use (see the module docs).
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t);
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_utc());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        let secs: i64 = text.parse().ok()?;
        return DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc());
    }
    None
}

fn parse_value(text: &str) -> Option<f64> {
    let v: f64 = text.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Reads all rows of a `timestamp,value` CSV, checking that timestamps
/// increase.
pub fn read_rows<R: Read>(input: R) -> Result<Vec<SeriesRow>, SeriesError> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(input);
    let mut columns = (0, 1);
    let mut rows: Vec<SeriesRow> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(source) => {
                let line = source.position().map_or(line, |p| p.line());
                return Err(SeriesError::Csv { line, source });
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        if first {
            first = false;
            let looks_like_data = record.get(0).and_then(parse_timestamp).is_some();
            if !looks_like_data {
                columns = header_columns(&record);
                continue;
            }
        }
        let (Some(raw_time), Some(raw_value)) = (record.get(columns.0), record.get(columns.1)) else {
            return Err(SeriesError::MissingField { line });
        };
        let time =
            parse_timestamp(raw_time).ok_or_else(|| SeriesError::BadTimestamp { line, value: raw_time.to_owned() })?;
        let value =
            parse_value(raw_value).ok_or_else(|| SeriesError::BadValue { line, value: raw_value.to_owned() })?;
        if let Some(previous) = rows.last()
            && time <= previous.time
        {
            return Err(SeriesError::NotIncreasing { line, time, previous: previous.time });
        }
        rows.push(SeriesRow { line, raw_time: raw_time.to_owned(), raw_value: raw_value.to_owned(), time, value });
    }
    Ok(rows)
}

/// Columns of the time and the value, from a header row.
fn header_columns(header: &csv::StringRecord) -> (usize, usize) {
    let find = |names: &[&str]| header.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
    let time = find(&["timestamp", "timestamp_utc", "time", "date", "datetime"]).unwrap_or(0);
    let value = find(&["value", "count", "counts", "volume"]).unwrap_or(if time == 0 { 1 } else { 0 });
    (time, value)
}

/// The bucket width of a series: the most common gap between consecutive
/// timestamps (the smallest among equally common ones), so a few missing
/// buckets or a clock jitter do not change it. `None` with fewer than two
/// timestamps.
pub fn infer_bucket_secs(times: &[i64]) -> Option<i64> {
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).filter(|&g| g > 0).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let (mut best, mut best_run) = (gaps[0], 0);
    let mut i = 0;
    while i < gaps.len() {
        let j = i + gaps[i..].iter().take_while(|&&g| g == gaps[i]).count();
        if j - i > best_run {
            best = gaps[i];
            best_run = j - i;
        }
        i = j;
    }
    Some(best)
}

/// Runs a detector over `(Unix seconds, value)` points as a stream and
/// returns one score per point.
pub fn score_points(times: &[i64], values: &[f64], config: &VolumeConfig) -> Vec<f64> {
    let mut detector = VolumeDetector::new(config.clone());
    times.iter().zip(values).map(|(&t, &v)| detector.push(t, v)).collect()
}

/// Reads a `timestamp,value` CSV, scores it as a stream and writes
/// `timestamp,value,anomaly_score` rows (the input's text echoed, the score
/// in `[0, 1]`; `>= 0.5` is a detection). A `config.bucket_secs` of 0 or
/// less means "infer the width from the timestamps".
pub fn detect_series<R: Read, W: Write>(
    input: R,
    output: W,
    config: &VolumeConfig,
) -> Result<SeriesSummary, SeriesError> {
    let rows = read_rows(input)?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Err(SeriesError::Empty);
    };
    let times: Vec<i64> = rows.iter().map(|r| r.time.and_utc().timestamp()).collect();
    let inferred_width = config.bucket_secs <= 0;
    let bucket_secs = if inferred_width {
        infer_bucket_secs(&times).ok_or(SeriesError::CannotInferWidth)?
    } else {
        config.bucket_secs
    };
    // Bucket indices from the first row: rows must fall in distinct buckets.
    let mut missing_buckets = 0;
    for (k, row) in rows.iter().enumerate().skip(1) {
        let index = (times[k] - times[0]).div_euclid(bucket_secs);
        let previous = (times[k - 1] - times[0]).div_euclid(bucket_secs);
        if index == previous {
            return Err(SeriesError::SameBucket { line: row.line, time: row.time, bucket_secs });
        }
        missing_buckets += (index - previous - 1) as u64;
    }
    let config = VolumeConfig { bucket_secs, ..config.clone() };
    let values: Vec<f64> = rows.iter().map(|r| r.value).collect();
    let scores = score_points(&times, &values, &config);

    let mut writer = csv::Writer::from_writer(output);
    let csv_error = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => SeriesError::Write(io),
        other => SeriesError::Write(std::io::Error::other(format!("{other:?}"))),
    };
    writer.write_record(["timestamp", "value", "anomaly_score"]).map_err(csv_error)?;
    for (row, score) in rows.iter().zip(&scores) {
        writer.write_record([row.raw_time.as_str(), row.raw_value.as_str(), &score.to_string()]).map_err(csv_error)?;
    }
    writer.flush()?;
    Ok(SeriesSummary {
        rows: rows.len(),
        bucket_secs,
        inferred_width,
        missing_buckets,
        detections: scores.iter().filter(|&&s| s >= 0.5).count(),
        max_score: scores.iter().copied().fold(0.0, f64::max),
        span: (first.time, last.time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(input: &str, bucket_secs: i64) -> Result<(SeriesSummary, String), SeriesError> {
        let mut out = Vec::new();
        let config = VolumeConfig { bucket_secs, ..VolumeConfig::default() };
        let summary = detect_series(input.as_bytes(), &mut out, &config)?;
        Ok((summary, String::from_utf8(out).expect("utf-8 output")))
    }

    /// A NAB-like series: `n` five-minute rows of `base` with `spike` at row
    /// `at`.
    fn nab_csv(n: usize, base: u32, at: usize, spike: u32) -> String {
        let t0 = parse_timestamp("2015-02-26 21:42:53").expect("valid");
        let mut s = String::from("timestamp,value\n");
        for i in 0..n {
            let t = t0 + chrono::Duration::minutes(5 * i as i64);
            let v = if i == at { spike } else { base + (i as u32 * 7) % 5 };
            s.push_str(&format!("{},{v}\n", t.format("%Y-%m-%d %H:%M:%S")));
        }
        s
    }

    #[test]
    fn scores_every_row_and_echoes_the_input() {
        let input = nab_csv(600, 20, 500, 400);
        let (summary, out) = detect(&input, 0).expect("valid series");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "timestamp,value,anomaly_score");
        assert_eq!(lines.len(), 601);
        assert!(lines[1].starts_with("2015-02-26 21:42:53,20,"));
        assert_eq!(summary.rows, 600);
        assert_eq!(summary.bucket_secs, 300);
        assert!(summary.inferred_width);
        assert_eq!(summary.missing_buckets, 0);
        assert_eq!(summary.detections, 1);
        let spike: Vec<&str> = lines[501].split(',').collect();
        let score: f64 = spike[2].parse().expect("a number");
        assert!(score >= 0.5, "{}", lines[501]);
        for line in &lines[1..] {
            let s: f64 = line.rsplit(',').next().and_then(|s| s.parse().ok()).expect("score");
            assert!((0.0..=1.0).contains(&s));
        }
    }

    #[test]
    fn never_looks_ahead() {
        // The scores of a prefix are the prefix of the scores.
        let full = nab_csv(600, 20, 500, 400);
        let prefix: String = full.lines().take(451).map(|l| format!("{l}\n")).collect();
        let (_, a) = detect(&full, 300).expect("valid");
        let (_, b) = detect(&prefix, 300).expect("valid");
        assert!(a.starts_with(&b));
    }

    #[test]
    fn accepts_other_timestamp_forms_and_headers() {
        assert_eq!(parse_timestamp("2015-02-26T21:42:53Z"), parse_timestamp("2015-02-26 21:42:53"));
        assert_eq!(parse_timestamp("2015-02-26T22:42:53+01:00"), parse_timestamp("2015-02-26 21:42:53"));
        assert_eq!(parse_timestamp("1424986973"), parse_timestamp("2015-02-26 21:42:53"));
        assert_eq!(parse_timestamp("yesterday"), None);
        // Twitter's AnomalyDetection layout: timestamp_utc,count.
        let rows =
            read_rows("timestamp_utc,count\n1980-09-25 14:01:00,182.478\n1980-09-25 14:02:00,176.231\n".as_bytes())
                .expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].value, 176.231);
        // Columns found by name, in any order; no header at all works too.
        let rows = read_rows("value,timestamp\n3,2015-02-26 21:42:53\n".as_bytes()).expect("valid");
        assert_eq!(rows[0].value, 3.0);
        let rows = read_rows("2015-02-26 21:42:53,4\n".as_bytes()).expect("valid");
        assert_eq!((rows[0].line, rows[0].value), (1, 4.0));
    }

    #[test]
    fn gaps_are_counted_as_missing_buckets() {
        let input = "timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,2\n2015-01-01 00:20:00,3\n2015-01-01 00:25:00,3\n";
        let (summary, _) = detect(input, 0).expect("valid");
        assert_eq!((summary.bucket_secs, summary.missing_buckets), (300, 2));
    }

    #[test]
    fn the_width_is_the_most_common_gap() {
        assert_eq!(infer_bucket_secs(&[0, 300, 600, 1500, 1800, 2100]), Some(300));
        assert_eq!(infer_bucket_secs(&[0, 60, 120, 3600]), Some(60));
        assert_eq!(infer_bucket_secs(&[0]), None);
    }

    fn error(input: &str, bucket_secs: i64) -> String {
        detect(input, bucket_secs).expect_err("invalid").to_string()
    }

    #[test]
    fn bad_rows_name_their_line() {
        let head = "timestamp,value\n2015-01-01 00:00:00,1\n";
        assert_eq!(
            error(&format!("{head}2015-01-01 00:05:00,many\n"), 0),
            "line 3: \"many\" is not a count: values must be finite numbers >= 0"
        );
        assert_eq!(
            error(&format!("{head}2015-01-01 00:05:00,-1\n"), 0),
            "line 3: \"-1\" is not a count: values must be finite numbers >= 0"
        );
        assert!(error(&format!("{head}01/02/2015,1\n"), 0).starts_with("line 3: \"01/02/2015\" is not a timestamp"));
        assert!(
            error(&format!("{head}2014-12-31 23:55:00,1\n"), 0)
                .starts_with("line 3: timestamp 2014-12-31 23:55:00 is not after the previous row's")
        );
        assert!(error(&format!("{head}2015-01-01 00:05:00\n"), 0).starts_with("line 3: expected two fields"));
        assert!(
            error(&format!("{head}2015-01-01 00:01:00,1\n"), 300)
                .starts_with("line 3: timestamp 2015-01-01 00:01:00 falls in the same 300-second bucket")
        );
        assert_eq!(error("timestamp,value\n", 0), "the series has no data rows: expected timestamp,value rows");
        assert!(error(head, 0).starts_with("cannot infer the bucket width from a single row"));
    }

    #[test]
    fn a_single_row_with_a_known_width_is_scored() {
        let (summary, out) = detect("timestamp,value\n2015-01-01 00:00:00,1\n", 300).expect("valid");
        assert_eq!(summary.rows, 1);
        assert_eq!(out.lines().nth(1), Some("2015-01-01 00:00:00,1,0"));
    }
}
