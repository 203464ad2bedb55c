//! Comparing our outputs with a reference implementation's
//! (`#[path = "support/compare.rs"] mod compare;`).

/// Largest absolute difference, relative to the reference's largest magnitude.
pub fn rel_err(ours: &[f32], reference: &[f32]) -> f32 {
    assert_eq!(ours.len(), reference.len());
    let scale = reference.iter().fold(0f32, |m, x| m.max(x.abs()));
    let err = ours
        .iter()
        .zip(reference)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(err.is_finite());
    err / scale
}
