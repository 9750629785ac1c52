//! HyperLogLog strings of arbitrary bytes (any client can SET one): the
//! readers (count, merge, decode) and the editor (PFADD's register
//! updates, the dense conversion, PFMERGE's packing) must return a result
//! or `Corrupt`, never panic or read out of bounds. On a valid input the
//! sparse and dense forms count the same, and an edit that succeeded
//! leaves a valid HLL whose registers are the old ones raised by the
//! added elements' patterns.
//!
//! Input: byte 0 picks `hll-sparse-max-bytes` (bits 0-1) and how many
//! elements to add (bits 2-7); the value is `HYLL` followed by the rest.

#![no_main]

use ferrokey::keyspace::hll::{self, Editor, REGISTERS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let sparse_max = [0, 24, 300, 3000][(pick & 3) as usize];
    let mut v = b"HYLL".to_vec();
    v.extend_from_slice(body);
    let _ = hll::decode(&v);
    let _ = hll::cached(&v);
    if !hll::is_hll(&v) {
        return;
    }
    let before = hll::count(&v);
    let mut old = [0u8; REGISTERS];
    let merged = hll::merge(&mut old, &v);
    assert_eq!(before.is_ok(), merged.is_ok());
    if before.is_ok() {
        let mut dense = v.clone();
        let _ = Editor::new(&mut dense)
            .to_dense()
            .expect("a valid HLL converts");
        assert_eq!(hll::count(&dense), before);
        assert_eq!(hll::dense_registers(&dense), Some(old));
    }
    let mut edited = v.clone();
    let mut ed = Editor::new(&mut edited);
    let mut ok = true;
    for i in 0..(pick >> 2) {
        ok &= ed.add(&[i, pick], sparse_max).is_ok();
    }
    drop(ed);
    // A sparse HLL whose last XZERO lacks its second byte is read with the
    // C terminator's 0 there; splitting it writes that byte past the end,
    // as in Valkey, so the bytes left may read differently: not checked.
    if before.is_ok() && ok && !ends_in_cut_xzero(&v) {
        assert!(hll::is_hll(&edited));
        let mut new = [0u8; REGISTERS];
        hll::merge(&mut new, &edited).expect("an edited valid HLL stays valid");
        // Exactly the old registers raised by the elements' patterns: an
        // edit in the wrong opcode (the sparse walk) would show here.
        let mut want = old;
        for i in 0..(pick >> 2) {
            let (index, count) = hll::pattern(&[i, pick]);
            want[index] = want[index].max(count);
        }
        assert_eq!(new, want);
        // PFMERGE's packing into the dense form.
        let mut ed = Editor::new(&mut edited);
        ed.to_dense().expect("valid");
        ed.compress(&new);
        drop(ed);
        assert_eq!(hll::dense_registers(&edited), Some(new));
    }
});

/// True when the sparse opcodes end with an XZERO cut short by the end.
fn ends_in_cut_xzero(v: &[u8]) -> bool {
    if v[4] != hll::SPARSE {
        return false;
    }
    let mut p = hll::HDR_SIZE;
    while p < v.len() {
        if v[p] & 0xc0 == 0x40 {
            if p + 1 == v.len() {
                return true;
            }
            p += 2;
        } else {
            p += 1;
        }
    }
    false
}
