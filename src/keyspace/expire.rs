//! Active expiry: the cron's share of removing keys whose time has passed.
//!
//! Lazy expiry alone would keep keys nobody reads forever. Each cycle walks
//! the keys-with-expire table by SCAN cursor in small samples and keeps going
//! while a sample finds many expired keys (over 10%), but never beyond its
//! time budget, so the main thread is not stalled. The keys it removes go
//! to the db's expired-key log like any other expiry (`Db::log_expired`).

use std::time::{Duration, Instant};

use super::db::Db;

/// Keys looked at per sample.
const SAMPLE: usize = 20;
/// Stop early when fewer than this percentage of a sample had expired.
const ACCEPTABLE_STALE_PCT: usize = 10;

/// Runs one cycle on `db`; returns how many keys it removed.
pub fn active_cycle(db: &mut Db, now: i64, budget: Duration) -> usize {
    let start = Instant::now();
    let mut removed = 0;
    let mut ttl_sum: i128 = 0;
    let mut ttl_n: i64 = 0;
    loop {
        if db.expires_len() == 0 {
            db.expire_cursor = 0;
            return removed;
        }
        let mut sampled = 0;
        let mut expired: Vec<Vec<u8>> = Vec::new();
        let mut cursor = db.expire_cursor;
        while sampled < SAMPLE {
            let table = db.table();
            cursor = db.expires_dict().scan(cursor, |k, _| {
                sampled += 1;
                if let Some(e) = table.get(k.as_slice()) {
                    let expire = e.expire();
                    if expire != 0 && expire <= now {
                        expired.push(k.as_slice().to_vec());
                    } else if expire != 0 {
                        ttl_sum += (expire - now) as i128;
                        ttl_n += 1;
                    }
                }
            });
            if cursor == 0 {
                break;
            }
        }
        db.expire_cursor = cursor;
        let n = expired.len();
        for k in expired {
            db.delete_expired(&k);
        }
        removed += n;
        if ttl_n > 0 {
            let avg = (ttl_sum / ttl_n as i128) as i64;
            // Smooth like Valkey: mostly the old estimate, a bit of the new.
            db.avg_ttl = if db.avg_ttl == 0 {
                avg
            } else {
                (db.avg_ttl / 50) * 49 + avg / 50
            };
        }
        if sampled == 0
            || n * 100 / sampled.max(1) <= ACCEPTABLE_STALE_PCT
            || start.elapsed() >= budget
        {
            return removed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{Str, Value};

    #[test]
    fn removes_expired_keys_and_keeps_others() {
        let mut db = Db::new(0);
        for i in 0..1000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), Value::Str(Str::Int(i)), false, 0);
            db.set_expire(k.as_bytes(), if i % 2 == 0 { 100 } else { 1_000_000 });
        }
        let mut total = 0;
        for _ in 0..1000 {
            total += active_cycle(&mut db, 200, Duration::from_millis(50));
            if db.len() == 500 {
                break;
            }
        }
        assert_eq!(total, 500);
        assert_eq!(db.len(), 500);
        assert_eq!(db.expires_len(), 500);
        assert!(db.avg_ttl > 0);
    }

    #[test]
    fn logs_the_keys_it_removes_when_asked() {
        let mut db = Db::new(0);
        db.log_expired(true);
        for i in 0..100 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), Value::Str(Str::Int(i)), false, 0);
            db.set_expire(k.as_bytes(), if i < 30 { 100 } else { 1_000_000 });
        }
        let mut total = 0;
        for _ in 0..1000 {
            total += active_cycle(&mut db, 200, Duration::from_millis(50));
            if db.len() == 70 {
                break;
            }
        }
        let mut logged: Vec<String> = db
            .take_expired()
            .map(|k| String::from_utf8_lossy(&k).into_owned())
            .collect();
        logged.sort_by_key(|k| k[1..].parse::<u32>().unwrap_or(u32::MAX));
        let want: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
        assert_eq!((total, logged), (30, want));
    }
}
