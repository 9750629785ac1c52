//! Valkey's partial quicksort (`pqsort.c`, Bentley & McIlroy's qsort from
//! NetBSD, which skips the partitions outside the wanted range), step for
//! step: GEOSEARCH ... COUNT n sorts only its first n results this way, and
//! the order it leaves points at equal distances in is what clients see.

/// Sorts `v` enough that positions `lrange..=rrange` hold what a full sort
/// would put there, moving elements exactly as Valkey's `pqsort` does.
/// `cmp` returns <0, 0 or >0.
pub fn pqsort<T>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32, lrange: usize, rrange: usize) {
    if v.is_empty() {
        return;
    }
    sort(v, 0, v.len(), cmp, lrange, rrange);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &dyn Fn(&T, &T) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

/// Swaps `n` elements from `a` with `n` elements from `b`, pairwise.
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

/// True when `[start, start + n)` overlaps the wanted range.
fn wanted(start: usize, n: usize, lrange: usize, rrange: usize) -> bool {
    !(rrange < start || lrange >= start + n)
}

fn sort<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &dyn Fn(&T, &T) -> i32,
    lrange: usize,
    rrange: usize,
) {
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let mut pa = a + 1;
        let mut pb = pa;
        let mut pc = a + n - 1;
        let mut pd = pc;
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r > 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r < 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && wanted(a, r, lrange, rrange) {
            sort(v, a, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if wanted(a, n, lrange, rrange) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wanted_prefix_is_sorted() {
        let mut rng = crate::util::rng::Rng::new(3);
        for n in [1usize, 5, 7, 8, 41, 200, 1000] {
            for k in [1usize, 3, 10, 100] {
                let k = k.min(n);
                // (key, original index): keys repeat, so ties happen.
                let mut v: Vec<(u64, usize)> = (0..n).map(|i| (rng.below(20) as u64, i)).collect();
                let mut full = v.clone();
                full.sort_by_key(|x| x.0);
                let cmp = |a: &(u64, usize), b: &(u64, usize)| a.0.cmp(&b.0) as i32;
                pqsort(&mut v, &cmp, 0, k - 1);
                let got: Vec<u64> = v[..k].iter().map(|x| x.0).collect();
                let want: Vec<u64> = full[..k].iter().map(|x| x.0).collect();
                assert_eq!(got, want, "n {n} k {k}");
                let mut all: Vec<usize> = v.iter().map(|x| x.1).collect();
                all.sort();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
            }
        }
    }
}
