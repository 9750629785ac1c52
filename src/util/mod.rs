//! Small self-contained helpers the rest of the crate shares: Valkey's
//! number parsing and printing, its 80-bit long double arithmetic, the
//! pseudo-random generator and glob matching. Nothing here imports another
//! module of ours, so any module may use it.

pub mod clock;
pub mod fpconv;
pub mod geohash;
pub mod glob;
pub mod long_double;
pub mod num;
pub mod rng;
pub mod sds;

/// An OS error as C's `strerror` words it (without Rust's "(os error N)"),
/// for log lines and replies that quote Valkey's.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
