//! Small self-contained helpers the rest of the crate shares: Valkey's
//! number parsing and printing, its 80-bit long double arithmetic, the
//! pseudo-random generator and glob matching. Nothing here imports another
//! module of ours, so any module may use it.

pub mod glob;
pub mod long_double;
pub mod num;
pub mod rng;
pub mod sds;
