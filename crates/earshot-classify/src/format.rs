//! The model file format (version 1).
//!
//! ```text
//! offset  size  content
//! 0       8     magic  b"ESHOTCLF"
//! 8       4     format version, u32 little-endian (currently 1)
//! 12      4     header length H, u32 LE
//! 16      H     header: UTF-8 JSON, [`ModelHeader`] (model kind, labels, feature + training config, hash id,
//!               quantisation, training-data digest, metrics)
//! 16+H    ...   payload, all little-endian:
//!                 f32 × C          biases
//!                 (fastText only) f32 × C·d  output layer
//!                 f32 × W          per-column dequantisation scales (i8 only; W = C for linear, d for fastText)
//!                 u32              number of stored rows R
//!                 R × { varint index delta, W values (f32 | f16 | i8) }
//! ```
//!
//! Rows (one per hashed feature bucket) whose quantised values are all zero are not stored, which is what makes
//! models trained on a few thousand tweets small even with a 2^20 hash space. Row indices are delta-encoded
//! LEB128 varints. Writing is a pure function of the model, so identical models give identical bytes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::features::FeatureConfig;
use crate::model::{FastTextModel, LinearModel, Model, TrainConfig};

/// File magic.
pub const MAGIC: &[u8; 8] = b"ESHOTCLF";
/// Current format version.
pub const FORMAT_VERSION: u32 = 1;

/// How weights are stored on disk. In memory they are always f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantization {
    /// 4 bytes per weight, exact.
    F32,
    /// IEEE half precision, 2 bytes per weight.
    F16,
    /// Signed byte times a per-column scale (max |w| / 127), 1 byte per weight.
    I8,
}

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DataInfo {
    /// Source files, relative to the data directory.
    pub sources: Vec<String>,
    /// Number of training examples.
    pub n_examples: usize,
    /// Per-class training counts, in label order.
    pub class_counts: Vec<usize>,
    /// Digest (see [`crate::hash::Digest`]) of the training texts and labels in training order.
    pub digest: String,
}

/// The JSON header of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// Format version (equals the binary one).
    pub format_version: u32,
    /// Task name, e.g. `complaint`.
    pub task: String,
    /// `linear` or `fasttext`.
    pub kind: String,
    /// Class names, in score order.
    pub labels: Vec<String>,
    /// Feature-hash function id ([`crate::hash::HASH_ID`]); models only work with the hash they were trained with.
    pub hash: String,
    /// Feature extraction settings.
    pub features: FeatureConfig,
    /// Training settings (with `features` and the data, enough to retrain this exact file).
    pub train: TrainConfig,
    /// Embedding dimension (fastText only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emb_dim: Option<usize>,
    /// On-disk weight encoding.
    pub quantization: Quantization,
    /// Training data description.
    pub data: DataInfo,
    /// Evaluation results measured when the model was trained (name → value).
    pub metrics: BTreeMap<String, f64>,
    /// Free-form notes: label mappings, evaluation protocol.
    #[serde(default)]
    pub notes: String,
}

/// Errors reading a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not a model file.
    #[error("not an earshot classifier model (bad magic)")]
    BadMagic,
    /// Written by a newer format.
    #[error("unsupported model format version {0} (this build reads {FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    /// The file ended early.
    #[error("model file truncated")]
    Truncated,
    /// Header JSON did not parse.
    #[error("bad model header: {0}")]
    Header(#[from] serde_json::Error),
    /// The header or payload is inconsistent.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// Reading from disk failed.
    #[error("reading model: {0}")]
    Io(#[from] std::io::Error),
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.pos.checked_add(n).ok_or(ModelError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(ModelError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn varint(&mut self) -> Result<u64, ModelError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ModelError::Invalid("varint too long".into()))
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Encode `rows × width` weights (row-major) as stored rows.
fn write_rows(out: &mut Vec<u8>, w: &[f32], width: usize, q: Quantization) {
    let rows = w.len() / width;
    let scales: Vec<f32> = (0..width)
        .map(|c| {
            let m = (0..rows).map(|r| w[r * width + c].abs()).fold(0.0f32, f32::max);
            if m > 0.0 { m / 127.0 } else { 1.0 }
        })
        .collect();
    if q == Quantization::I8 {
        for s in &scales {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
    let count_pos = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut count = 0u32;
    let mut prev = 0usize;
    let mut buf: Vec<u8> = Vec::with_capacity(width * 4);
    for r in 0..rows {
        let row = &w[r * width..(r + 1) * width];
        buf.clear();
        let mut nonzero = false;
        for (c, &x) in row.iter().enumerate() {
            match q {
                Quantization::F32 => {
                    nonzero |= x != 0.0;
                    buf.extend_from_slice(&x.to_le_bytes());
                }
                Quantization::F16 => {
                    let h = half::f16::from_f32(x);
                    nonzero |= h.to_bits() & 0x7fff != 0;
                    buf.extend_from_slice(&h.to_bits().to_le_bytes());
                }
                Quantization::I8 => {
                    let v = (x / scales[c]).round().clamp(-127.0, 127.0) as i8;
                    nonzero |= v != 0;
                    buf.push(v as u8);
                }
            }
        }
        if nonzero {
            put_varint(out, (r - prev) as u64);
            prev = r;
            out.extend_from_slice(&buf);
            count += 1;
        }
    }
    out[count_pos..count_pos + 4].copy_from_slice(&count.to_le_bytes());
}

fn read_rows(rd: &mut Reader<'_>, rows: usize, width: usize, q: Quantization) -> Result<Vec<f32>, ModelError> {
    let scales: Vec<f32> =
        if q == Quantization::I8 { (0..width).map(|_| rd.f32()).collect::<Result<_, _>>()? } else { Vec::new() };
    let count = rd.u32()? as usize;
    if count > rows {
        return Err(ModelError::Invalid(format!("{count} stored rows > {rows}")));
    }
    let mut w = vec![0f32; rows * width];
    let mut r = 0usize;
    for _ in 0..count {
        let delta = usize::try_from(rd.varint()?).map_err(|_| ModelError::Invalid("row delta".into()))?;
        r = r.checked_add(delta).filter(|&r| r < rows).ok_or_else(|| ModelError::Invalid("row out of range".into()))?;
        let row = &mut w[r * width..(r + 1) * width];
        match q {
            Quantization::F32 => {
                for x in row.iter_mut() {
                    *x = rd.f32()?;
                }
            }
            Quantization::F16 => {
                let s = rd.take(2 * width)?;
                for (x, c) in row.iter_mut().zip(s.chunks_exact(2)) {
                    *x = half::f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32();
                }
            }
            Quantization::I8 => {
                let s = rd.take(width)?;
                for ((x, &v), sc) in row.iter_mut().zip(s).zip(&scales) {
                    *x = f32::from(v as i8) * sc;
                }
            }
        }
    }
    Ok(w)
}

/// The stored weight rows of a model file, not yet decoded: what [`crate::ClassifierSet`] reads straight into its
/// fused table, so loading never materialises the dense `2^bits × C` matrix of each model (~100 MB of f32 for the
/// shipped models, most of it zeros).
#[derive(Debug, Clone)]
pub(crate) struct StoredRows<'a> {
    /// Values per row.
    pub(crate) width: usize,
    /// Number of rows of the full matrix (stored row indices are below it).
    pub(crate) rows: usize,
    pub(crate) quantization: Quantization,
    /// Per-column scales (i8 only).
    scales: Vec<f32>,
    count: usize,
    /// The encoded rows: `count × {varint delta, width values}`.
    data: &'a [u8],
}

/// One stored row's values, still in the file's encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowValues<'a> {
    /// Little-endian f32s.
    F32(&'a [u8]),
    /// Little-endian IEEE half-precision bit patterns.
    F16(&'a [u8]),
    /// Signed bytes times the column scales.
    I8(&'a [u8], &'a [f32]),
    /// Already decoded (a model in memory).
    Floats(&'a [f32]),
}

impl RowValues<'_> {
    /// Value `k` of the row as f32 (exact for f32 and f16).
    #[inline]
    pub(crate) fn get(&self, k: usize) -> f32 {
        match *self {
            RowValues::F32(b) => f32::from_le_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]]),
            RowValues::F16(b) => half::f16::from_bits(u16::from_le_bytes([b[2 * k], b[2 * k + 1]])).to_f32(),
            RowValues::I8(b, scales) => f32::from(b[k] as i8) * scales[k],
            RowValues::Floats(v) => v[k],
        }
    }
}

impl<'a> StoredRows<'a> {
    fn read(rd: &mut Reader<'a>, rows: usize, width: usize, q: Quantization) -> Result<Self, ModelError> {
        let scales: Vec<f32> =
            if q == Quantization::I8 { (0..width).map(|_| rd.f32()).collect::<Result<_, _>>()? } else { Vec::new() };
        let count = rd.u32()? as usize;
        if count > rows {
            return Err(ModelError::Invalid(format!("{count} stored rows > {rows}")));
        }
        // The rows run to the end of the file; they are checked by the first `try_for_each`.
        let data = &rd.b[rd.pos..];
        rd.pos = rd.b.len();
        Ok(Self { width, rows, quantization: q, scales, count, data })
    }

    /// Decodes the rows, calling `f` on each; `end` receives the number of bytes they take. Written as one tight
    /// loop over the bytes (models load at every process start): ~700k rows for the shipped models.
    fn walk(&self, mut f: impl FnMut(usize, RowValues<'_>), end: &mut usize) -> Result<(), ModelError> {
        let row_bytes = self.width
            * match self.quantization {
                Quantization::F32 => 4,
                Quantization::F16 => 2,
                Quantization::I8 => 1,
            };
        let data = self.data;
        let mut pos = 0usize;
        let mut r = 0usize;
        for _ in 0..self.count {
            // LEB128 varint: the row index delta.
            let mut delta = 0u64;
            let mut shift = 0u32;
            loop {
                let byte = *data.get(pos).ok_or(ModelError::Truncated)?;
                pos += 1;
                delta |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    break;
                }
                shift += 7;
                if shift >= 64 {
                    return Err(ModelError::Invalid("varint too long".into()));
                }
            }
            r = usize::try_from(delta)
                .ok()
                .and_then(|d| r.checked_add(d))
                .filter(|&r| r < self.rows)
                .ok_or_else(|| ModelError::Invalid("row out of range".into()))?;
            let v = data.get(pos..pos + row_bytes).ok_or(ModelError::Truncated)?;
            pos += row_bytes;
            f(
                r,
                match self.quantization {
                    Quantization::F32 => RowValues::F32(v),
                    Quantization::F16 => RowValues::F16(v),
                    Quantization::I8 => RowValues::I8(v, &self.scales),
                },
            );
        }
        *end = pos;
        Ok(())
    }

    /// Calls `f(row index, values)` for every stored row, in increasing row order, checking the encoding on the
    /// way (the rows are not validated before: loading walks them twice, and this saves a third walk).
    ///
    /// # Errors
    /// [`ModelError`] for truncated or trailing bytes or a row index out of range (`f` may have seen some rows).
    pub(crate) fn try_for_each(&self, f: impl FnMut(usize, RowValues<'_>)) -> Result<(), ModelError> {
        let mut end = 0;
        self.walk(f, &mut end)?;
        if end != self.data.len() {
            return Err(ModelError::Invalid(format!("{} trailing bytes", self.data.len() - end)));
        }
        Ok(())
    }
}

/// A linear model file, parsed without decoding its weight rows (see [`StoredRows`]).
#[derive(Debug, Clone)]
pub(crate) struct StoredLinear<'a> {
    pub(crate) header: ModelHeader,
    /// Biases, one per class.
    pub(crate) b: Vec<f32>,
    /// The `dim × C` weights, as stored.
    pub(crate) w: StoredRows<'a>,
}

/// Parses a model file like [`read_model`], but leaves the weight rows of a linear model encoded (and unchecked:
/// [`StoredRows::try_for_each`] checks them). Returns `Ok(None)` for other model kinds.
///
/// # Errors
/// [`ModelError`] when the header or biases are not valid.
pub(crate) fn read_linear_stored(bytes: &[u8]) -> Result<Option<StoredLinear<'_>>, ModelError> {
    let mut rd = Reader { b: bytes, pos: 0 };
    let header = read_header(&mut rd)?;
    if header.kind != "linear" {
        return Ok(None);
    }
    let c = header.labels.len();
    let mut b = Vec::with_capacity(c);
    for _ in 0..c {
        b.push(rd.f32()?);
    }
    let w = StoredRows::read(&mut rd, header.features.dim(), c, header.quantization)?;
    Ok(Some(StoredLinear { header, b, w }))
}

/// Serialise a model with its header.
///
/// # Panics
/// Only if the header cannot be serialised to JSON (it always can).
#[must_use]
pub fn write_model(header: &ModelHeader, model: &Model) -> Vec<u8> {
    let json = serde_json::to_vec(header).expect("header serialises");
    let mut out = Vec::with_capacity(json.len() + 1024);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    match model {
        Model::Linear(m) => {
            for b in &m.b {
                out.extend_from_slice(&b.to_le_bytes());
            }
            write_rows(&mut out, &m.w, m.n_classes, header.quantization);
        }
        Model::FastText(m) => {
            for b in &m.b {
                out.extend_from_slice(&b.to_le_bytes());
            }
            for o in &m.out {
                out.extend_from_slice(&o.to_le_bytes());
            }
            write_rows(&mut out, &m.emb, m.emb_dim, header.quantization);
        }
    }
    out
}

/// Parse a model file.
///
/// # Errors
/// [`ModelError`] when the bytes are not a valid model of a supported version.
pub fn read_model(bytes: &[u8]) -> Result<(ModelHeader, Model), ModelError> {
    let mut rd = Reader { b: bytes, pos: 0 };
    let header = read_header(&mut rd)?;
    let c = header.labels.len();
    let dim = header.features.dim();
    let mut b = Vec::with_capacity(c);
    for _ in 0..c {
        b.push(rd.f32()?);
    }
    let model = match header.kind.as_str() {
        "linear" => {
            let w = read_rows(&mut rd, dim, c, header.quantization)?;
            Model::Linear(LinearModel { n_classes: c, dim, w, b })
        }
        "fasttext" => {
            let d = header
                .emb_dim
                .filter(|&d| (1..=1024).contains(&d))
                .ok_or_else(|| ModelError::Invalid("emb_dim".into()))?;
            let mut out = Vec::with_capacity(c * d);
            for _ in 0..c * d {
                out.push(rd.f32()?);
            }
            let emb = read_rows(&mut rd, dim, d, header.quantization)?;
            Model::FastText(FastTextModel { n_classes: c, dim, emb_dim: d, emb, out, b })
        }
        k => return Err(ModelError::Invalid(format!("unknown model kind {k:?}"))),
    };
    if rd.pos != bytes.len() {
        return Err(ModelError::Invalid(format!("{} trailing bytes", bytes.len() - rd.pos)));
    }
    Ok((header, model))
}

/// Magic, version and the JSON header, checked (hash id, feature config, at least two labels).
fn read_header(rd: &mut Reader<'_>) -> Result<ModelHeader, ModelError> {
    if rd.take(8).map_err(|_| ModelError::BadMagic)? != MAGIC {
        return Err(ModelError::BadMagic);
    }
    let version = rd.u32()?;
    if version != FORMAT_VERSION {
        return Err(ModelError::UnsupportedVersion(version));
    }
    let hlen = rd.u32()? as usize;
    let header: ModelHeader = serde_json::from_slice(rd.take(hlen)?)?;
    if header.hash != crate::hash::HASH_ID {
        return Err(ModelError::Invalid(format!(
            "model uses hash {}, this build has {}",
            header.hash,
            crate::hash::HASH_ID
        )));
    }
    header.features.validate().map_err(ModelError::Invalid)?;
    if header.labels.len() < 2 {
        return Err(ModelError::Invalid("need at least two labels".into()));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(q: Quantization) -> ModelHeader {
        ModelHeader {
            format_version: FORMAT_VERSION,
            task: "t".into(),
            kind: "linear".into(),
            labels: vec!["a".into(), "b".into()],
            hash: crate::hash::HASH_ID.into(),
            features: FeatureConfig { bits: 8, vader: false, ..FeatureConfig::default() },
            train: TrainConfig::default(),
            emb_dim: None,
            quantization: q,
            data: DataInfo::default(),
            metrics: BTreeMap::new(),
            notes: String::new(),
        }
    }

    fn model() -> Model {
        let mut w = vec![0f32; 256 * 2];
        w[3 * 2] = 0.5;
        w[3 * 2 + 1] = -1.25;
        w[200 * 2 + 1] = 2.0;
        Model::Linear(LinearModel { n_classes: 2, dim: 256, w, b: vec![0.1, -0.1] })
    }

    #[test]
    fn roundtrip_all_quantizations() {
        for q in [Quantization::F32, Quantization::F16, Quantization::I8] {
            let bytes = write_model(&header(q), &model());
            let (h, m) = read_model(&bytes).unwrap();
            assert_eq!(h, header(q));
            let (Model::Linear(a), Model::Linear(b)) = (&m, &model()) else { panic!() };
            for (x, y) in a.w.iter().zip(&b.w) {
                assert!((x - y).abs() <= 2.0 / 127.0, "{q:?} {x} {y}");
            }
            assert_eq!(a.b, b.b);
            assert_eq!(write_model(&h, &m), bytes, "re-encoding is stable for {q:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(read_model(b"nope"), Err(ModelError::BadMagic)));
        let bytes = write_model(&header(Quantization::F32), &model());
        assert!(read_model(&bytes[..bytes.len() - 1]).is_err());
        let mut v = bytes.clone();
        v[8] = 9;
        assert!(matches!(read_model(&v), Err(ModelError::UnsupportedVersion(9))));
        let mut extra = bytes;
        extra.push(0);
        assert!(read_model(&extra).is_err());
    }

    #[test]
    fn varint_roundtrip() {
        for v in [0u64, 1, 127, 128, 300, 1 << 20, u64::from(u32::MAX)] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Reader { b: &b, pos: 0 }.varint().unwrap(), v);
        }
    }
}
