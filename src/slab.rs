//! Slot vectors that give memory back after a burst.
//!
//! Connections and clients live in `Vec<Option<T>>` slots with a free list,
//! so a slot number is a stable handle (a poll token, a job's client slot).
//! The vector grows to the highest number of connections ever open at once;
//! after a burst of ten thousand connections has gone, this trims the free
//! tail so the memory returns. Depends on nothing of ours.

/// Drops free slots at the end of `slots` once fewer than a quarter are in
/// use, and the free list's entries for them. Slots in use keep their
/// numbers. Cheap to call after every removal: it acts only past the ratio.
pub fn shrink_tail<T>(slots: &mut Vec<Option<T>>, free: &mut Vec<usize>, live: usize) {
    const MIN_LEN: usize = 64;
    if slots.len() < MIN_LEN || live * 4 >= slots.len() {
        return;
    }
    let before = slots.len();
    while slots.len() > MIN_LEN && slots.last().is_some_and(Option::is_none) {
        slots.pop();
    }
    if slots.len() == before {
        return;
    }
    let len = slots.len();
    free.retain(|&s| s < len);
    slots.shrink_to(len * 2);
    free.shrink_to(free.len() * 2);
}

/// Shrinks a map that once held far more entries than it does now.
pub fn shrink_map<K: Eq + std::hash::Hash, V>(map: &mut hashbrown::HashMap<K, V>) {
    if map.capacity() > 256 && map.len() * 8 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_tail_goes_and_slots_in_use_keep_their_numbers() {
        let mut slots: Vec<Option<u32>> = (0..1000).map(Some).collect();
        let mut free = Vec::new();
        for (s, slot) in slots.iter_mut().enumerate().skip(10) {
            if s != 100 {
                *slot = None;
                free.push(s);
            }
        }
        shrink_tail(&mut slots, &mut free, 11);
        assert_eq!(slots.len(), 101);
        assert_eq!(slots[100], Some(100));
        assert!(slots[..10].iter().all(Option::is_some));
        assert!(free.iter().all(|&s| s < 101 && slots[s].is_none()));
        assert_eq!(free.len(), 90);
        // Busy enough: left alone.
        let mut busy: Vec<Option<u32>> = (0..100).map(|i| (i % 2 == 0).then_some(i)).collect();
        let mut f: Vec<usize> = (0..100).filter(|i| i % 2 == 1).collect();
        shrink_tail(&mut busy, &mut f, 50);
        assert_eq!(busy.len(), 100);
        assert_eq!(f.len(), 50);
    }

    #[test]
    fn maps_shrink_only_when_mostly_empty() {
        let mut m: hashbrown::HashMap<u64, u64> = (0..10_000).map(|i| (i, i)).collect();
        m.retain(|k, _| *k < 10);
        shrink_map(&mut m);
        assert!(m.capacity() < 100, "{}", m.capacity());
        assert_eq!(m.len(), 10);
        assert_eq!(m.get(&9), Some(&9));
    }
}
