//! Placeholder until dfn3-net's networks are merged: the interface they implement.
pub const NB_ERB: usize = 32;
pub const NB_DF: usize = 96;
pub const DF_ORDER: usize = 5;

pub struct NetworkOutput {
    pub lsnr: f32,
    pub erb_mask: [f32; NB_ERB],
    pub df_coefs: [[[f32; 2]; DF_ORDER]; NB_DF],
}
