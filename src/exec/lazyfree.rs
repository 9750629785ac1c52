//! At `io-threads 1` there are no IO threads to drop large values on, so one
//! background thread does it (Valkey's lazyfree bio thread). It sleeps parked
//! when there is nothing to free.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::net::message::Garbage;
use crate::ring::Ring;

pub struct LazyFreer {
    ring: Arc<Ring<Garbage>>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl LazyFreer {
    pub fn spawn() -> std::io::Result<Self> {
        let ring: Arc<Ring<Garbage>> = Ring::new();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (ring.clone(), stop.clone());
        let join = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || loop {
                while let Some(g) = r.pop() {
                    drop(g);
                }
                if s.load(Ordering::Acquire) {
                    return;
                }
                std::thread::park();
            })?;
        Ok(LazyFreer {
            ring,
            stop,
            join: Some(join),
        })
    }

    /// Frees `g` in the background, or right here if the ring is full.
    pub fn free(&self, g: Garbage) {
        match self.ring.push(g) {
            Ok(()) => {
                if let Some(j) = &self.join {
                    j.thread().unpark();
                }
            }
            Err(g) => drop(g),
        }
    }

    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(j) = self.join.take() {
            j.thread().unpark();
            let _ = j.join();
        }
    }
}

impl Drop for LazyFreer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
