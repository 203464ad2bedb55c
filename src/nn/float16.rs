//! IEEE binary16 ("half") to float32, for the models that ship float16 weights: the TFLite
//! segmentation models (DEQUANTIZE nodes) and the DeepFilterNet3 weight file.

/// IEEE binary16 bits to f32, exact. Magnitude bits shifted into an f32 (exponent bias 15
/// instead of 127) then scaled by 2^112: one multiply covers zeros, subnormals and normals
/// alike, which keeps loading 2 M weights cheap. Infinities stay infinities; a NaN keeps its
/// payload and is made quiet, as hardware conversions (and the `half` crate) do.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    if h & 0x7c00 == 0x7c00 {
        let payload = ((h & 0x3ff) as u32) << 13;
        let quiet = if payload != 0 { 0x0040_0000 } else { 0 };
        return f32::from_bits(sign | 0x7f80_0000 | quiet | payload);
    }
    let magnitude = f32::from_bits(((h & 0x7fff) as u32) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | sign)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn known_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8001), -(2f32.powi(-24)));
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0xfe00).is_nan());
    }

    /// All 65,536 bit patterns against the `half` crate's conversion, bit for bit (NaNs too).
    #[test]
    fn every_value_matches_the_half_crate() {
        for h in 0..=u16::MAX {
            let want = half::f16::from_bits(h).to_f32();
            assert_eq!(f16_to_f32(h).to_bits(), want.to_bits(), "{h:#06x}");
        }
    }

    /// All finite values against the definition, in f64: (-1)^s x m x 2^-24 for subnormals,
    /// (-1)^s x (1024 + m) x 2^(e - 25) for normals.
    #[test]
    fn every_finite_value_matches_the_definition() {
        for h in (0..=u16::MAX).filter(|h| h & 0x7c00 != 0x7c00) {
            let (e, m) = (((h >> 10) & 0x1f) as i32, (h & 0x3ff) as f64);
            let v = if e == 0 {
                m * 2f64.powi(-24)
            } else {
                (1024.0 + m) * 2f64.powi(e - 25)
            };
            let v = if h & 0x8000 != 0 { -v } else { v };
            assert_eq!(f16_to_f32(h) as f64, v, "{h:#06x}");
        }
    }
}
