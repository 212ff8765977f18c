//! The Numenta Anomaly Benchmark (NAB) scorer, so the volume detector can be
//! compared with published detectors on the same terms.
//!
//! This follows NAB 1.x (`nab/sweeper.py`, `nab/optimizer.py`,
//! `nab/runner.py`) step for step:
//! - labelled **windows** (`combined_windows.json`) surround each true
//!   anomaly; the first 15% of every file (at most 750 rows) is a
//!   **probationary period** that is not scored at all;
//! - a detection inside a window earns the **scaled sigmoid** of its
//!   relative position (`2·sigmoid(-5·x) − 1`, divided by its value at the
//!   left edge so the earliest detection earns the full `A_tp`), and only the
//!   **earliest** detection in a window counts; a window without detection
//!   costs `A_fn`;
//! - every detection outside a window is a **false positive** costing
//!   `A_fp` times the sigmoid of its distance past the preceding window
//!   (nearly free just after a window, the full cost far from one or before
//!   the first);
//! - the **threshold** turning scores into detections is either fixed (0.5)
//!   or **optimized** over the whole corpus by sweeping every distinct score,
//!   as NAB's optimizer does;
//! - scores are **normalized** against the null detector (a constant 0.5,
//!   itself scored at its optimized threshold) and the perfect detector (one
//!   `A_tp` per window): `100 · (raw − null) / (perfect − null)`.
//!
//! Rows are scored by position, windows are matched to rows by exact
//! timestamp (as NAB does), and a window limit that is not a row is an error
//! rather than a silently missing window.
//!
//! Hand-written because no crate implements NAB scoring; it is a few hundred
//! lines of bookkeeping, tested against hand-computed cases below.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::series::{self, SeriesError};

/// Share of each file that is probationary (not scored).
pub const PROBATION_PERCENT: f64 = 0.15;

/// Errors while loading or scoring a corpus. Each names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum NabError {
    /// A corpus file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A labels or profiles file is not the JSON NAB writes.
    #[error("{path} is not valid NAB JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A timestamp in the labels does not parse.
    #[error("{path}: window limit {value:?} for {file} is not a timestamp like 2015-02-26 21:42:53")]
    BadWindowTime {
        /// The labels file.
        path: PathBuf,
        /// The data file the window belongs to.
        file: String,
        /// The text that did not parse.
        value: String,
    },
    /// A window limit is not the timestamp of any row of its file.
    #[error(
        "window limit {timestamp} of {file} is not a row of that file; NAB windows must start and end on rows (is the labels file for this data?)"
    )]
    WindowNotInData {
        /// The data file.
        file: String,
        /// The limit not found.
        timestamp: NaiveDateTime,
    },
    /// A data file does not parse.
    #[error("{path}: {source}")]
    Series {
        /// The data file.
        path: PathBuf,
        /// What was wrong, with its line.
        source: SeriesError,
    },
    /// No data file of the corpus has labels.
    #[error(
        "no labelled data file found under {dir}: expected combined_windows.json and CSV files it names (in {dir}/data or below)"
    )]
    EmptyCorpus {
        /// The corpus directory.
        dir: PathBuf,
    },
    /// A detector returned the wrong number of scores for a file.
    #[error("the detector returned {got} scores for {file}, which has {expected} rows")]
    ScoreCount {
        /// The data file.
        file: String,
        /// Rows in the file.
        expected: usize,
        /// Scores returned.
        got: usize,
    },
}

/// NAB's cost matrix for one application profile.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostMatrix {
    /// Reward of a true positive at the left edge of a window (`A_tp`).
    #[serde(rename = "tpWeight")]
    pub tp_weight: f64,
    /// Cost of a false positive far from any window (`|A_fp|`).
    #[serde(rename = "fpWeight")]
    pub fp_weight: f64,
    /// Cost of a window without detection (`|A_fn|`).
    #[serde(rename = "fnWeight")]
    pub fn_weight: f64,
}

/// A named application profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// `standard`, `reward_low_FP_rate` or `reward_low_FN_rate` in NAB.
    pub name: String,
    /// Its weights.
    pub costs: CostMatrix,
}

/// NAB's three profiles, used when a corpus has no `profiles.json`.
pub fn nab_profiles() -> Vec<Profile> {
    let p = |name: &str, fp_weight, fn_weight| Profile {
        name: name.to_owned(),
        costs: CostMatrix { tp_weight: 1.0, fp_weight, fn_weight },
    };
    vec![p("standard", 0.11, 1.0), p("reward_low_FP_rate", 0.22, 1.0), p("reward_low_FN_rate", 0.11, 2.0)]
}

#[derive(Deserialize)]
struct ProfileFile {
    #[serde(rename = "CostMatrix")]
    cost_matrix: CostMatrix,
}

/// Reads NAB's `profiles.json`, `standard` first, then by name.
pub fn load_profiles(path: &Path) -> Result<Vec<Profile>, NabError> {
    let text = fs::read_to_string(path).map_err(|source| NabError::Io { path: path.to_owned(), source })?;
    let map: BTreeMap<String, ProfileFile> =
        serde_json::from_str(&text).map_err(|source| NabError::Json { path: path.to_owned(), source })?;
    let mut profiles: Vec<Profile> = map.into_iter().map(|(name, p)| Profile { name, costs: p.cost_matrix }).collect();
    profiles.sort_by_key(|p| p.name != "standard");
    Ok(profiles)
}

/// One labelled anomaly window, inclusive at both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First timestamp of the window.
    pub start: NaiveDateTime,
    /// Last timestamp of the window.
    pub end: NaiveDateTime,
}

/// Reads NAB's `combined_windows.json`: file name → windows.
pub fn load_windows(path: &Path) -> Result<BTreeMap<String, Vec<Window>>, NabError> {
    let text = fs::read_to_string(path).map_err(|source| NabError::Io { path: path.to_owned(), source })?;
    let raw: BTreeMap<String, Vec<[String; 2]>> =
        serde_json::from_str(&text).map_err(|source| NabError::Json { path: path.to_owned(), source })?;
    let mut out = BTreeMap::new();
    for (file, limits) in raw {
        let mut windows = Vec::with_capacity(limits.len());
        for [a, b] in limits {
            let parse = |value: &str| {
                series::parse_timestamp(value).ok_or_else(|| NabError::BadWindowTime {
                    path: path.to_owned(),
                    file: file.clone(),
                    value: value.to_owned(),
                })
            };
            windows.push(Window { start: parse(&a)?, end: parse(&b)? });
        }
        windows.sort_by_key(|w| w.start);
        out.insert(file, windows);
    }
    Ok(out)
}

/// NAB's scaled sigmoid of a relative position: about 0.987 at the left edge
/// of a window (`-1`), 0 at its right edge, falling to −1 at three window
/// lengths past it.
pub fn scaled_sigmoid(position: f64) -> f64 {
    if position >= 3.0 { -1.0 } else { 2.0 / (1.0 + (5.0 * position).exp()) - 1.0 }
}

/// Rows of a file of `rows` rows that are probationary: NAB's
/// `min(floor(0.15·rows), 0.15·5000)` (750 rows at most).
pub fn probation_len(rows: usize) -> usize {
    probation_len_with(rows, PROBATION_PERCENT)
}

/// [`probation_len`] for another share (NAB's `probationPercent`).
pub fn probation_len_with(rows: usize, percent: f64) -> usize {
    let share = (percent * rows as f64).floor();
    share.min(percent * 5000.0) as usize
}

/// Where a row stands for scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// In the probationary period: not scored.
    Probationary,
    /// Outside every window: a detection here is a false positive.
    Outside,
    /// In window number `n` (numbered across the whole scoring run).
    Window(usize),
}

/// One row ready for scoring: NAB's `AnomalyPoint`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepPoint {
    /// The detector's anomaly score.
    pub anomaly_score: f64,
    /// What a detection here is worth (positive in a window, negative
    /// outside).
    pub sweep_score: f64,
    /// Where the row stands.
    pub kind: RowKind,
}

/// Turns one file's rows into [`SweepPoint`]s (NAB's `calcSweepScore`).
/// The first `probation` rows are not scored (see [`probation_len`]).
/// Windows are numbered from `first_window`, so several files can be swept
/// together. Returns the points and the number of windows.
pub fn sweep_points(
    file: &str,
    timestamps: &[NaiveDateTime],
    scores: &[f64],
    windows: &[Window],
    costs: &CostMatrix,
    probation: usize,
    first_window: usize,
) -> Result<(Vec<SweepPoint>, usize), NabError> {
    if timestamps.len() != scores.len() {
        return Err(NabError::ScoreCount { file: file.to_owned(), expected: timestamps.len(), got: scores.len() });
    }
    let position = |t: NaiveDateTime| {
        timestamps
            .iter()
            .position(|&x| x == t)
            .ok_or_else(|| NabError::WindowNotInData { file: file.to_owned(), timestamp: t })
    };
    // Window limits as row indices (validated up front, like NAB's labeler).
    let mut limits = Vec::with_capacity(windows.len());
    for w in windows {
        limits.push((position(w.start)?, position(w.end)?));
    }
    let max_tp = scaled_sigmoid(-1.0);
    let mut points = Vec::with_capacity(timestamps.len());
    let mut next = 0;
    let mut current: Option<(usize, usize, f64)> = None; // (window, right, width)
    let mut previous: Option<(usize, f64)> = None; // (right, width)
    for (i, &score) in scores.iter().enumerate() {
        if current.is_none() && next < limits.len() && limits[next].0 == i {
            let (left, right) = limits[next];
            current = Some((first_window + next, right, (right - left + 1) as f64));
            next += 1;
        }
        let (sweep_score, kind) = match current {
            Some((window, right, width)) => {
                let pos = -((right as f64) - i as f64 + 1.0) / width;
                (scaled_sigmoid(pos) * costs.tp_weight / max_tp, RowKind::Window(window))
            }
            None => {
                let pos = match previous {
                    None => 3.0,
                    // NAB divides by (width − 1); a one-row window would divide
                    // by zero there, so it counts as a width of two.
                    Some((right, width)) => (i as f64 - right as f64).abs() / (width - 1.0).max(1.0),
                };
                (scaled_sigmoid(pos) * costs.fp_weight, RowKind::Outside)
            }
        };
        let kind = if i < probation { RowKind::Probationary } else { kind };
        points.push(SweepPoint { anomaly_score: score, sweep_score, kind });
        if let Some((_, right, width)) = current
            && right == i
        {
            previous = Some((right, width));
            current = None;
        }
    }
    Ok((points, limits.len()))
}

/// The outcome of one threshold: NAB's `ThresholdScore`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ThresholdScore {
    /// Rows scoring at least this are detections.
    pub threshold: f64,
    /// Raw NAB score.
    pub score: f64,
    /// Detections in windows (rows).
    pub tp: usize,
    /// Rows outside windows not detected.
    pub tn: usize,
    /// Detections outside windows (rows).
    pub fp: usize,
    /// Rows in windows not detected.
    pub fn_: usize,
}

/// Scores every distinct threshold at once (NAB's `calcScoreByThreshold`):
/// the first entry (threshold 1.1) detects nothing, each next one lowers the
/// threshold to the next distinct anomaly score.
pub fn scores_by_threshold(points: &[SweepPoint], costs: &CostMatrix) -> Vec<ThresholdScore> {
    let mut scorable: Vec<&SweepPoint> = points.iter().filter(|p| p.kind != RowKind::Probationary).collect();
    // Stable, descending, like Python's sorted(reverse=True).
    scorable.sort_by(|a, b| b.anomaly_score.total_cmp(&a.anomaly_score));
    // Every scorable window starts as a miss.
    let mut window_parts: BTreeMap<usize, f64> = BTreeMap::new();
    for p in &scorable {
        if let RowKind::Window(w) = p.kind {
            window_parts.insert(w, -costs.fn_weight);
        }
    }
    let mut fp_part = 0.0;
    let total = |fp_part: f64, parts: &BTreeMap<usize, f64>| fp_part + parts.values().sum::<f64>();
    let mut tn = scorable.iter().filter(|p| p.kind == RowKind::Outside).count();
    let mut fn_ = scorable.len() - tn;
    let (mut tp, mut fp) = (0, 0);
    let mut threshold = 1.1;
    let mut out = Vec::new();
    for p in &scorable {
        if p.anomaly_score != threshold {
            out.push(ThresholdScore { threshold, score: total(fp_part, &window_parts), tp, tn, fp, fn_ });
            threshold = p.anomaly_score;
        }
        match p.kind {
            RowKind::Window(w) => {
                tp += 1;
                fn_ -= 1;
                let part = window_parts.entry(w).or_insert(-costs.fn_weight);
                *part = part.max(p.sweep_score);
            }
            _ => {
                fp += 1;
                tn -= 1;
                fp_part += p.sweep_score;
            }
        }
    }
    out.push(ThresholdScore { threshold, score: total(fp_part, &window_parts), tp, tn, fp, fn_ });
    out
}

/// The entry of a [`scores_by_threshold`] table in force at `threshold`
/// (detections are scores `>= threshold`), as NAB's `scoreDataSet` picks it.
pub fn score_at(table: &[ThresholdScore], threshold: f64) -> ThresholdScore {
    let mut previous = table[0];
    for row in table {
        if row.threshold == threshold {
            return *row;
        }
        if row.threshold < threshold {
            return previous;
        }
        previous = *row;
    }
    previous
}

/// The best entry of a table: highest score, the highest threshold among
/// ties (NAB sorts by score with a stable sort and takes the first).
pub fn best_threshold(table: &[ThresholdScore]) -> ThresholdScore {
    let mut best = table[0];
    for row in &table[1..] {
        if row.score > best.score {
            best = *row;
        }
    }
    best
}

/// One labelled data file of a corpus.
#[derive(Clone, Debug)]
pub struct CorpusFile {
    /// Its key in `combined_windows.json` (e.g. `Twitter_volume_AAPL.csv`).
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Row timestamps.
    pub timestamps: Vec<NaiveDateTime>,
    /// Row values.
    pub values: Vec<f64>,
    /// Its labelled windows.
    pub windows: Vec<Window>,
}

impl CorpusFile {
    /// Row timestamps as Unix seconds (the timestamps are taken as UTC).
    pub fn unix_times(&self) -> Vec<i64> {
        self.timestamps.iter().map(|t| t.and_utc().timestamp()).collect()
    }
}

/// A labelled corpus: the data files named by a `combined_windows.json`
/// (`profiles.json` beside it, or NAB's profiles).
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The labelled files, sorted by name.
    pub files: Vec<CorpusFile>,
    /// Scoring profiles, `standard` first.
    pub profiles: Vec<Profile>,
    /// CSV files found without labels (skipped).
    pub unlabelled: Vec<PathBuf>,
}

fn csv_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), NabError> {
    let entries = fs::read_dir(dir).map_err(|source| NabError::Io { path: dir.to_owned(), source })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            csv_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "csv") {
            out.push(path);
        }
    }
    Ok(())
}

impl Corpus {
    /// Loads a corpus laid out as NAB's repository or a copy of part of it:
    /// `DIR/combined_windows.json` (or `DIR/labels/combined_windows.json`),
    /// data CSVs under `DIR/data` (any depth) or `DIR`. A CSV is matched to
    /// its labels by its path relative to the data directory (NAB's keys,
    /// e.g. `realTweets/Twitter_volume_AAPL.csv`) or by its file name.
    /// Labels whose file is absent are ignored; CSVs without labels are
    /// listed in [`Corpus::unlabelled`].
    pub fn load(dir: &Path) -> Result<Self, NabError> {
        let labels = [dir.join("combined_windows.json"), dir.join("labels").join("combined_windows.json")]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| NabError::EmptyCorpus { dir: dir.to_owned() })?;
        let windows = load_windows(&labels)?;
        let profiles_path =
            [dir.join("profiles.json"), dir.join("config").join("profiles.json")].into_iter().find(|p| p.is_file());
        let profiles = match profiles_path {
            Some(p) => load_profiles(&p)?,
            None => nab_profiles(),
        };
        let data_dir = if dir.join("data").is_dir() { dir.join("data") } else { dir.to_owned() };
        let mut paths = Vec::new();
        csv_files(&data_dir, &mut paths)?;
        let mut files = Vec::new();
        let mut unlabelled = Vec::new();
        for path in paths {
            let relative = path.strip_prefix(&data_dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let key = if windows.contains_key(&relative) {
                Some(relative)
            } else {
                let mut by_name = windows.keys().filter(|k| k.rsplit('/').next() == Some(file_name.as_str()));
                match (by_name.next(), by_name.next()) {
                    (Some(k), None) => Some(k.clone()),
                    _ => None,
                }
            };
            let Some(key) = key else {
                unlabelled.push(path);
                continue;
            };
            let text = fs::read(&path).map_err(|source| NabError::Io { path: path.clone(), source })?;
            let rows =
                series::read_rows(text.as_slice()).map_err(|source| NabError::Series { path: path.clone(), source })?;
            files.push(CorpusFile {
                windows: windows[&key].clone(),
                name: key,
                path,
                timestamps: rows.iter().map(|r| r.time).collect(),
                values: rows.iter().map(|r| r.value).collect(),
            });
        }
        if files.is_empty() {
            return Err(NabError::EmptyCorpus { dir: dir.to_owned() });
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self { files, profiles, unlabelled })
    }

    /// Runs `detector` on every file (in order) and scores the result.
    pub fn score<F>(&self, mut detector: F) -> Result<CorpusReport, NabError>
    where
        F: FnMut(&CorpusFile) -> Vec<f64>,
    {
        let scores: Vec<Vec<f64>> = self.files.iter().map(&mut detector).collect();
        self.score_results(&scores)
    }

    /// Scores anomaly scores already computed, one vector per file in
    /// [`Corpus::files`] order.
    pub fn score_results(&self, scores: &[Vec<f64>]) -> Result<CorpusReport, NabError> {
        let mut profiles = Vec::new();
        for profile in &self.profiles {
            profiles.push(self.score_profile(profile, scores)?);
        }
        Ok(CorpusReport { profiles })
    }

    fn sweep(&self, profile: &Profile, scores: &[Vec<f64>]) -> Result<Vec<(Vec<SweepPoint>, usize)>, NabError> {
        let mut first = 0;
        let mut out = Vec::with_capacity(self.files.len());
        for (file, s) in self.files.iter().zip(scores) {
            let probation = probation_len(file.timestamps.len());
            let swept = sweep_points(&file.name, &file.timestamps, s, &file.windows, &profile.costs, probation, first)?;
            first += swept.1;
            out.push(swept);
        }
        Ok(out)
    }

    fn score_profile(&self, profile: &Profile, scores: &[Vec<f64>]) -> Result<ProfileReport, NabError> {
        if scores.len() != self.files.len() {
            return Err(NabError::ScoreCount {
                file: "(corpus)".to_owned(),
                expected: self.files.len(),
                got: scores.len(),
            });
        }
        let costs = &profile.costs;
        let swept = self.sweep(profile, scores)?;
        let tables: Vec<Vec<ThresholdScore>> =
            swept.iter().map(|(points, _)| scores_by_threshold(points, costs)).collect();
        let all: Vec<SweepPoint> = swept.iter().flat_map(|(p, _)| p.iter().copied()).collect();
        let optimized = best_threshold(&scores_by_threshold(&all, costs)).threshold;

        // The null detector: a constant 0.5, at its own optimized threshold.
        let nulls: Vec<Vec<f64>> = self.files.iter().map(|f| vec![0.5; f.timestamps.len()]).collect();
        let null_swept = self.sweep(profile, &nulls)?;
        let null_all: Vec<SweepPoint> = null_swept.iter().flat_map(|(p, _)| p.iter().copied()).collect();
        let null_threshold = best_threshold(&scores_by_threshold(&null_all, costs)).threshold;
        let null_scores: Vec<f64> =
            null_swept.iter().map(|(p, _)| score_at(&scores_by_threshold(p, costs), null_threshold).score).collect();

        let at = |threshold: f64| {
            let files: Vec<FileScore> = self
                .files
                .iter()
                .zip(&tables)
                .zip(&null_scores)
                .zip(&swept)
                .map(|(((file, table), &null), (points, _))| {
                    let row = score_at(table, threshold);
                    let perfect = file.windows.len() as f64 * costs.tp_weight;
                    FileScore {
                        file: file.name.clone(),
                        windows: file.windows.len(),
                        detected: count_detected(points, threshold),
                        row,
                        null,
                        perfect,
                        normalized: normalize(row.score, null, perfect),
                    }
                })
                .collect();
            let raw: f64 = files.iter().map(|f| f.row.score).sum();
            let null: f64 = files.iter().map(|f| f.null).sum();
            let perfect: f64 = files.iter().map(|f| f.perfect).sum();
            ThresholdReport { threshold, raw, null, perfect, normalized: normalize(raw, null, perfect), files }
        };
        Ok(ProfileReport { profile: profile.clone(), fixed: at(0.5), optimized: at(optimized) })
    }
}

/// Scorable windows with at least one detection at `threshold`.
fn count_detected(points: &[SweepPoint], threshold: f64) -> usize {
    let mut windows: Vec<usize> = points
        .iter()
        .filter(|p| p.anomaly_score >= threshold)
        .filter_map(|p| match p.kind {
            RowKind::Window(w) => Some(w),
            _ => None,
        })
        .collect();
    windows.dedup();
    windows.len()
}

/// NAB's normalization: 0 for the null detector, 100 for the perfect one.
pub fn normalize(raw: f64, null: f64, perfect: f64) -> f64 {
    if perfect == null { 0.0 } else { 100.0 * (raw - null) / (perfect - null) }
}

/// One file's score at one threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileScore {
    /// Its key in the labels.
    pub file: String,
    /// Labelled windows.
    pub windows: usize,
    /// Windows with at least one detection.
    pub detected: usize,
    /// Raw score and counts.
    pub row: ThresholdScore,
    /// The null detector's raw score on this file.
    pub null: f64,
    /// The perfect detector's raw score on this file.
    pub perfect: f64,
    /// `100 · (raw − null) / (perfect − null)` for this file alone.
    pub normalized: f64,
}

/// A whole corpus at one threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdReport {
    /// The threshold used.
    pub threshold: f64,
    /// Sum of the files' raw scores.
    pub raw: f64,
    /// The null detector's raw score.
    pub null: f64,
    /// The perfect detector's raw score.
    pub perfect: f64,
    /// NAB's normalized score.
    pub normalized: f64,
    /// Per file.
    pub files: Vec<FileScore>,
}

/// One profile's scores, at 0.5 and at the corpus-optimized threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileReport {
    /// The profile.
    pub profile: Profile,
    /// At threshold 0.5 (the detector's own decision).
    pub fixed: ThresholdReport,
    /// At the threshold NAB's optimizer would pick for this corpus.
    pub optimized: ThresholdReport,
}

/// Scores of a corpus under every profile.
#[derive(Clone, Debug, PartialEq)]
pub struct CorpusReport {
    /// One per profile, `standard` first.
    pub profiles: Vec<ProfileReport>,
}

impl CorpusReport {
    /// The report of the named profile.
    pub fn profile(&self, name: &str) -> Option<&ProfileReport> {
        self.profiles.iter().find(|p| p.profile.name == name)
    }
}

/// Loads the corpus in `dir` and scores `detector` on it (what
/// `earshot storms score-nab` runs).
pub fn score_corpus<F>(dir: &Path, detector: F) -> Result<CorpusReport, NabError>
where
    F: FnMut(&CorpusFile) -> Vec<f64>,
{
    Corpus::load(dir)?.score(detector)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(tp_weight: f64, fp_weight: f64, fn_weight: f64) -> CostMatrix {
        CostMatrix { tp_weight, fp_weight, fn_weight }
    }

    /// `n` rows, five minutes apart.
    fn times(n: usize) -> Vec<NaiveDateTime> {
        let t0 = series::parse_timestamp("2015-02-26 21:42:53").expect("valid");
        (0..n).map(|i| t0 + chrono::Duration::minutes(5 * i as i64)).collect()
    }

    fn window(t: &[NaiveDateTime], a: usize, b: usize) -> Window {
        Window { start: t[a], end: t[b] }
    }

    /// The raw score at `threshold` of one file with probation `probation`.
    fn score_file(
        scores: &[f64],
        windows: &[(usize, usize)],
        c: &CostMatrix,
        probation: usize,
        threshold: f64,
    ) -> ThresholdScore {
        let t = times(scores.len());
        let w: Vec<Window> = windows.iter().map(|&(a, b)| window(&t, a, b)).collect();
        let (points, _) = sweep_points("f.csv", &t, scores, &w, c, probation, 0).expect("windows on rows");
        score_at(&scores_by_threshold(&points, c), threshold)
    }

    #[test]
    fn probation_is_fifteen_percent_capped_at_750_rows() {
        // NAB's own cases (tests/integration/sweeper_test.py).
        for (rows, percent, expected) in
            [(100, 0.0, 0), (100, 1.0, 100), (100, 0.1, 10), (100, 0.15, 15), (5000, 0.1, 500), (6000, 0.1, 500)]
        {
            assert_eq!(probation_len_with(rows, percent), expected, "{rows} {percent}");
        }
        assert_eq!(probation_len(15_902), 750);
        assert_eq!(probation_len(1_000), 150);
    }

    #[test]
    fn scaled_sigmoid_matches_nab() {
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298).abs() < 1e-8);
        assert!((scaled_sigmoid(-0.5) - 0.848_283_639).abs() < 1e-8);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(1.0) + 0.986_614_298).abs() < 1e-8);
        assert_eq!(scaled_sigmoid(3.0), -1.0);
    }

    #[test]
    fn windows_are_positive_and_everything_else_negative() {
        let t = times(100);
        let w = [window(&t, 30, 39), window(&t, 75, 95)];
        let scores = vec![1.0; 100];
        let c = costs(1.0, 0.11, 1.0);
        let (points, n) =
            sweep_points("f.csv", &t, &scores, &w, &c, probation_len_with(100, 0.1), 0).expect("windows on rows");
        assert_eq!(n, 2);
        let probationary = points.iter().filter(|p| p.kind == RowKind::Probationary).count();
        assert_eq!(probationary, 10);
        let in_window = points.iter().filter(|p| matches!(p.kind, RowKind::Window(_))).count();
        assert_eq!(in_window, 10 + 21);
        for p in &points {
            match p.kind {
                RowKind::Window(_) => assert!(p.sweep_score > 0.0),
                _ => assert!(p.sweep_score < 0.0),
            }
        }
    }

    #[test]
    fn score_by_threshold_matches_nab_worked_example() {
        // NAB's testCalcScoreByThresholdReturnsExpectedScores.
        let point = |anomaly_score, sweep_score, kind| SweepPoint { anomaly_score, sweep_score, kind };
        let (a, b) = (RowKind::Window(0), RowKind::Window(1));
        let points = [
            point(0.5, -1000.0, RowKind::Probationary),
            point(0.5, -1000.0, RowKind::Probationary),
            point(0.0, -3.0, RowKind::Outside),
            point(0.2, 20.0, a),
            point(0.3, 10.0, a),
            point(0.5, 5.0, b),
            point(0.5, -3.0, RowKind::Outside),
        ];
        let table = scores_by_threshold(&points, &costs(1.0, 0.11, 5.0));
        let got: Vec<(f64, f64, usize, usize, usize, usize)> =
            table.iter().map(|r| (r.threshold, r.score, r.tp, r.tn, r.fp, r.fn_)).collect();
        assert_eq!(
            got,
            vec![
                (1.1, -10.0, 0, 2, 0, 3),
                (0.5, -3.0, 1, 1, 1, 2),
                (0.3, 12.0, 2, 1, 1, 1),
                (0.2, 22.0, 3, 1, 1, 0),
                (0.0, 19.0, 3, 0, 2, 0),
            ]
        );
        assert_eq!(score_at(&table, 0.5).score, -3.0);
        assert_eq!(score_at(&table, 0.25).score, 12.0);
        assert_eq!(score_at(&table, 2.0).score, -10.0);
        assert_eq!(best_threshold(&table).threshold, 0.2);
    }

    #[test]
    fn a_detection_at_the_left_edge_earns_the_full_reward() {
        let c = costs(1.0, 1.0, 1.0);
        let mut scores = vec![0.0; 10];
        scores[4] = 1.0;
        let row = score_file(&scores, &[(4, 5)], &c, 0, 0.5);
        assert_eq!(row.score, 1.0);
        assert_eq!((row.tn, row.tp, row.fp, row.fn_), (8, 1, 0, 1));
        // Same at the left edge of a wider window.
        let wide = score_file(&scores, &[(4, 6)], &c, 0, 0.5);
        assert_eq!(wide.score, row.score);
    }

    #[test]
    fn earlier_is_better_and_only_the_first_detection_counts() {
        let c = costs(1.0, 1.0, 1.0);
        let at = |rows: &[usize]| {
            let mut scores = vec![0.0; 10];
            for &r in rows {
                scores[r] = 1.0;
            }
            score_file(&scores, &[(4, 5)], &c, 0, 0.5)
        };
        assert!(at(&[4]).score > at(&[5]).score);
        assert_eq!(at(&[4, 5]).score, at(&[4]).score);
        assert_eq!(at(&[4, 5]).tp, 2);
    }

    #[test]
    fn the_right_edge_is_where_reward_turns_into_cost() {
        // NAB's testTruePositiveAtRightEdgeOfWindow.
        let c = costs(1.0, 1.0, 1.0);
        let mut scores = vec![0.0; 1000];
        scores[599] = 1.0;
        let tp = score_file(&scores, &[(500, 599)], &c, 0, 0.5);
        scores[599] = 0.0;
        scores[600] = 1.0;
        let fp = score_file(&scores, &[(500, 599)], &c, 0, 0.5);
        assert!((tp.score + fp.score + 1.0).abs() < 1e-3);
        assert_eq!((fp.tp, fp.fp), (0, 1));
    }

    #[test]
    fn false_positives_cost_more_far_from_a_window() {
        let c = costs(1.0, 0.11, 1.0);
        let fp_at = |row: usize| {
            let mut scores = vec![0.0; 1000];
            scores[row] = 1.0;
            score_file(&scores, &[(300, 399)], &c, 0, 0.5).score + 1.0
        };
        // Before any window: the full cost.
        assert!((fp_at(100) + 0.11).abs() < 1e-12);
        assert!(fp_at(401) > fp_at(450));
        assert!(fp_at(450) > fp_at(600));
        assert!((fp_at(900) + 0.11).abs() < 1e-12);
    }

    /// A file of a test corpus: name, rows, windows as row ranges.
    type TestFile<'a> = (&'a str, usize, Vec<(usize, usize)>);

    fn corpus(files: Vec<TestFile<'_>>) -> Corpus {
        let files = files
            .into_iter()
            .map(|(name, n, windows)| {
                let t = times(n);
                CorpusFile {
                    name: name.to_owned(),
                    path: PathBuf::from(name),
                    windows: windows.iter().map(|&(a, b)| window(&t, a, b)).collect(),
                    values: vec![1.0; n],
                    timestamps: t,
                }
            })
            .collect();
        Corpus { files, profiles: nab_profiles(), unlabelled: Vec::new() }
    }

    #[test]
    fn null_scores_zero_and_perfect_scores_one_hundred() {
        let c = corpus(vec![("a.csv", 2000, vec![(800, 900), (1500, 1600)]), ("b.csv", 1500, vec![(1000, 1100)])]);
        let null = c.score(|f| vec![0.5; f.timestamps.len()]).expect("scores");
        let perfect = c
            .score(|f| {
                let mut s = vec![0.0; f.timestamps.len()];
                for w in &f.windows {
                    let i = f.timestamps.iter().position(|t| *t == w.start).expect("on a row");
                    s[i] = 1.0;
                }
                s
            })
            .expect("scores");
        for (n, p) in null.profiles.iter().zip(&perfect.profiles) {
            assert!(n.optimized.normalized.abs() < 1e-9, "{}", n.profile.name);
            assert!((p.fixed.normalized - 100.0).abs() < 1e-9, "{}", p.profile.name);
            assert_eq!(p.fixed.files.iter().map(|f| f.detected).sum::<usize>(), 3);
        }
        let standard = null.profile("standard").expect("profile");
        // The null detector's best threshold detects nothing: one miss a window.
        assert_eq!(standard.optimized.null, -3.0);
        assert_eq!(standard.optimized.perfect, 3.0);
    }

    #[test]
    fn the_optimized_threshold_is_never_worse() {
        let c = corpus(vec![("a.csv", 2000, vec![(800, 900)])]);
        let report = c
            .score(|f| (0..f.timestamps.len()).map(|i| ((i * 7919) % 1000) as f64 / 1000.0).collect())
            .expect("scores");
        for p in &report.profiles {
            assert!(p.optimized.normalized >= p.fixed.normalized);
        }
    }

    #[test]
    fn a_wrong_number_of_scores_is_an_error() {
        let c = corpus(vec![("a.csv", 100, vec![(50, 60)])]);
        let err = c.score(|_| vec![0.0; 3]).expect_err("length mismatch");
        assert!(err.to_string().contains("returned 3 scores for a.csv, which has 100 rows"), "{err}");
    }

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    fn csv_text(n: usize) -> String {
        let mut s = String::from("timestamp,value\n");
        for t in times(n) {
            s.push_str(&format!("{},{}\n", t.format("%Y-%m-%d %H:%M:%S"), 3));
        }
        s
    }

    #[test]
    fn corpora_load_in_nab_layout_and_flat_layout() {
        let t = times(200);
        let limits = |a: usize, b: usize| {
            format!(
                "[[\"{}.000000\", \"{}.000000\"]]",
                t[a].format("%Y-%m-%d %H:%M:%S"),
                t[b].format("%Y-%m-%d %H:%M:%S")
            )
        };
        // NAB's repository layout: keys relative to data/.
        let nab = tempfile::tempdir().expect("tempdir");
        write(
            &nab.path().join("labels/combined_windows.json"),
            &format!("{{\"realTweets/x.csv\": {}}}", limits(100, 120)),
        );
        write(&nab.path().join("data/realTweets/x.csv"), &csv_text(200));
        write(&nab.path().join("data/realTweets/unlabelled.csv"), &csv_text(10));
        let c = Corpus::load(nab.path()).expect("loads");
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.files[0].name, "realTweets/x.csv");
        assert_eq!(c.files[0].windows, vec![window(&t, 100, 120)]);
        assert_eq!(c.unlabelled.len(), 1);
        assert_eq!(c.profiles, nab_profiles());

        // This repository's copy: keys are file names, files under data/.
        let flat = tempfile::tempdir().expect("tempdir");
        write(&flat.path().join("combined_windows.json"), &format!("{{\"x.csv\": {}}}", limits(100, 120)));
        write(
            &flat.path().join("profiles.json"),
            r#"{"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}}}"#,
        );
        write(&flat.path().join("data/x.csv"), &csv_text(200));
        let c = Corpus::load(flat.path()).expect("loads");
        assert_eq!(c.files[0].name, "x.csv");
        assert_eq!(c.profiles.len(), 1);
        assert_eq!(c.profiles[0].costs, costs(1.0, 0.11, 1.0));
    }

    #[test]
    fn a_window_off_the_rows_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            &dir.path().join("combined_windows.json"),
            r#"{"x.csv": [["2015-02-26 21:43:00", "2015-02-26 22:42:53"]]}"#,
        );
        write(&dir.path().join("data/x.csv"), &csv_text(50));
        let c = Corpus::load(dir.path()).expect("loads");
        let err = c.score(|f| vec![0.0; f.timestamps.len()]).expect_err("window off rows");
        assert!(err.to_string().contains("2015-02-26 21:43:00 of x.csv is not a row"), "{err}");
    }

    #[test]
    fn a_directory_without_labels_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Corpus::load(dir.path()).expect_err("no labels");
        assert!(err.to_string().contains("combined_windows.json"), "{err}");
    }
}
