//! Camera-side processing (person segmentation for background effects).

pub mod segmenter;
