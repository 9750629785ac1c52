//! Pieces for the deterministic forms write commands propagate as (see
//! `Ctx::rewrite`): what Valkey's handlers build with
//! rewriteClientCommandVector and alsoPropagate.

use bytes::Bytes;

/// A command name or keyword.
#[inline]
pub fn word(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// An integer argument.
#[inline]
pub fn num(n: i64) -> Bytes {
    Bytes::from(n.to_string())
}

/// An argument copied from the command's own.
#[inline]
pub fn arg(a: &[u8]) -> Bytes {
    Bytes::copy_from_slice(a)
}

/// How a key deleted because its time is up goes out: UNLINK with
/// `lazyfree-lazy-expire yes` (the default), else DEL.
#[inline]
pub fn expire_del(lazy_expire: bool) -> Bytes {
    word(if lazy_expire { "UNLINK" } else { "DEL" })
}

/// How a key a command deleted as a side effect goes out (SPOP of every
/// member): UNLINK with `lazyfree-lazy-server-del yes`, else DEL.
#[inline]
pub fn server_del(lazy_server_del: bool) -> Bytes {
    word(if lazy_server_del { "UNLINK" } else { "DEL" })
}
