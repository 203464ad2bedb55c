//! DeepFilterNet3 noise suppression (issue #7): the networks (`network`), on the weights read
//! by `nn::dfn_weights`.

pub mod network;
