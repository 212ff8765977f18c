//! CPython's `round(x, ndigits)` for floats.
//!
//! CPython (`float.__round__` -> `double_round`) asks `_Py_dg_dtoa` for the correctly rounded decimal string with
//! `ndigits` digits after the point, rounding the *exact* binary value half-to-even, and converts that string back
//! with a correctly rounded `strtod`. So `round(0.0625, 3) == 0.062` (an exact tie, to even) while
//! `round(2.675, 2) == 2.67` (the double is just below the tie). A naive `(x * 10^n).round() / 10^n` gets both
//! wrong. This reproduces it with exact integer arithmetic.

/// `10^n` as doubles (all exact), for `n <= 17`.
const POW10: [f64; 18] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17];

/// `round(x, ndigits)` exactly as CPython computes it, for `ndigits <= 17`. The sign is kept, so a small negative
/// number rounds to `-0.0` as in Python.
#[must_use]
pub fn py_round(x: f64, ndigits: u32) -> f64 {
    assert!(ndigits <= 17, "py_round supports up to 17 digits");
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let bits = x.to_bits();
    let biased_exp = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    // x = mantissa * 2^exp exactly.
    let (mantissa, exp) =
        if biased_exp == 0 { (fraction, -1074) } else { (fraction | (1u64 << 52), biased_exp - 1075) };
    if exp >= 0 {
        // An integer: already exact at any number of decimals.
        return x;
    }
    let scale = 10u128.pow(ndigits);
    // < 2^53 * 10^17 < 2^110: no overflow.
    let scaled = u128::from(mantissa) * scale;
    let shift = exp.unsigned_abs();
    let q = if shift >= 120 {
        // scaled < 2^110 < 2^(shift-1): less than half a unit, rounds to zero.
        0
    } else {
        let q = scaled >> shift;
        let rem = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) { q + 1 } else { q }
    };
    // q / 10^ndigits, correctly rounded to a double like `_Py_dg_strtod("<q>e-<ndigits>")`: when q is exactly
    // representable, one IEEE division of two exact operands is the correctly rounded quotient.
    // (`q < 2^53` fits a u64, and both conversions are then plain instructions instead of u128 library calls;
    // 10^17 < 2^57 is exact in a double too, as 5^17 < 2^53.)
    let magnitude = if q < (1u128 << 53) {
        q as u64 as f64 / POW10[ndigits as usize]
    } else {
        format!("{q}e-{ndigits}").parse::<f64>().unwrap_or(f64::NAN)
    };
    magnitude.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::py_round;

    #[test]
    fn matches_cpython_examples() {
        // Values printed by CPython 3.11.
        assert_eq!(py_round(0.0625, 3), 0.062);
        assert_eq!(py_round(0.0635, 3), 0.064); // 0.0635 is stored slightly above the tie
        assert_eq!(py_round(2.675, 2), 2.67);
        assert_eq!(py_round(0.5, 0), 0.0);
        assert_eq!(py_round(1.5, 0), 2.0);
        assert_eq!(py_round(2.5, 0), 2.0);
        assert_eq!(py_round(0.12345, 4), 0.1235); // 0.12345 is stored slightly above the tie
        assert_eq!(py_round(0.00015, 4), 0.0001); // stored below the tie
        assert_eq!(py_round(-0.00001, 4).to_bits(), (-0.0f64).to_bits());
        assert_eq!(py_round(1.0, 4), 1.0);
        assert_eq!(py_round(-0.99995, 4), -1.0);
        assert_eq!(py_round(f64::MIN_POSITIVE / 8.0, 3), 0.0);
        assert_eq!(py_round(123_456_789.123_456_78, 17), 123_456_789.123_456_78);
    }
}
