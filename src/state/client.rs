//! What the main thread knows of each client: selected db, protocol,
//! authentication, name, reply mode. Sockets and buffers live on the IO side.

use std::net::SocketAddr;
use std::time::Instant;

use hashbrown::HashMap;

use crate::net::message::ClientId;
use crate::net::stream::PeerAddr;

/// The id of the client that replays the AOF (Valkey's CLIENT_ID_AOF): its
/// commands, and those its EXEC runs, skip every check a live client's
/// pass (Valkey calls them directly), the `loading` one first.
pub const AOF_CLIENT_ID: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// This command's reply is dropped (the one after SkipNext).
    Skip,
}

#[derive(Debug)]
pub struct Client {
    pub id: ClientId,
    pub db: usize,
    /// 2 or 3 (HELLO).
    pub resp: u8,
    pub authenticated: bool,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    /// The peer's address and the local one (both the socket's path for a
    /// Unix-socket client).
    pub addr: PeerAddr,
    pub laddr: PeerAddr,
    /// Which thread does its IO: 0 is the main thread, k the IO thread k.
    pub io_thread: usize,
    pub created: Instant,
    pub last_interaction: crate::util::clock::Stamp,
    /// Name of the last command run (CLIENT LIST `cmd=`).
    pub last_cmd: &'static str,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    pub no_touch: bool,
    /// READONLY: a cluster replica would serve this client's reads
    /// (CLIENT LIST flag `r`; no effect without cluster mode).
    pub readonly: bool,
    /// Close the connection once this batch's replies are written (QUIT).
    pub close_after_reply: bool,
    /// Commands executed for this client.
    pub commands: u64,
    /// Being handed between threads (asked an IO thread to release it).
    pub migrating: bool,
    /// The peer hung up while a batch was on its way here: a command of it
    /// that would block closes the connection instead of waiting.
    pub hung_up: bool,
    /// In MULTI: commands are queued, not run (CLIENT LIST flag `x`).
    pub in_multi: bool,
    /// A command was refused while queueing: EXEC aborts.
    pub multi_aborted: bool,
    /// A watched key changed: EXEC fails (CLIENT LIST flag `d`).
    pub dirty_cas: bool,
    pub multi: Option<Box<MultiState>>,
    /// The keys this client WATCHes.
    pub watched: Vec<super::watch::Watched>,
    /// Bytes read from and replied to this client (CLIENT LIST tot-net-*).
    pub net_in: u64,
    pub net_out: u64,
    /// Channels, patterns and shard channels subscribed to (CLIENT LIST
    /// `sub`/`psub`/`ssub`); the registry is `state::pubsub`.
    pub subs: [u32; 3],
    /// Any of `subs` is non-zero (one test on every command's path: the
    /// RESP2 subscribed mode).
    pub subscribed: bool,
    /// Runs MONITOR (CLIENT LIST flag `O`); the list is `state::monitor`.
    pub monitor: bool,
    /// The socket's descriptor (CLIENT LIST `fd`), -1 if none.
    pub fd: i32,
    /// CLIENT TRACKING's mode while on (`state::tracking`).
    pub tracking: Option<Box<super::tracking::ClientTracking>>,
}

impl Client {
    /// Subscribed to at least one channel, pattern or shard channel.
    #[inline]
    pub fn is_pubsub(&self) -> bool {
        self.subscribed
    }

    /// A TCP client.
    pub fn new(
        id: ClientId,
        addr: SocketAddr,
        laddr: SocketAddr,
        io_thread: usize,
        authenticated: bool,
    ) -> Self {
        Client::with_addrs(id, addr.into(), laddr.into(), io_thread, authenticated)
    }

    /// A client of either kind of socket.
    pub fn with_addrs(
        id: ClientId,
        addr: PeerAddr,
        laddr: PeerAddr,
        io_thread: usize,
        authenticated: bool,
    ) -> Self {
        let now = Instant::now();
        Client {
            id,
            db: 0,
            resp: 2,
            authenticated,
            name: None,
            lib_name: None,
            lib_ver: None,
            addr,
            laddr,
            io_thread,
            created: now,
            last_interaction: crate::util::clock::Stamp::now(),
            last_cmd: "NULL",
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
            readonly: false,
            close_after_reply: false,
            commands: 0,
            migrating: false,
            hung_up: false,
            in_multi: false,
            multi_aborted: false,
            dirty_cas: false,
            multi: None,
            watched: Vec::new(),
            net_in: 0,
            net_out: 0,
            subs: [0; 3],
            subscribed: false,
            monitor: false,
            fd: -1,
            tracking: None,
        }
    }
}

/// A client's transaction: the commands queued since MULTI. Kept after
/// the first MULTI (CLIENT LIST shows `multi=-1` only before it).
#[derive(Debug, Default)]
pub struct MultiState {
    pub cmds: Vec<crate::resp::Argv>,
    /// Bytes of the queued arguments (CLIENT LIST `multi-mem`).
    pub mem: usize,
    /// A queued command may use memory (`denyoom`): EXEC is refused while
    /// over `maxmemory`.
    pub denyoom: bool,
    /// A queued command may write or propagate: EXEC waits out a CLIENT
    /// PAUSE WRITE.
    pub writes: bool,
}

/// Clients by slot (stable while connected) and by id.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Option<Client>>,
    free: Vec<usize>,
    by_id: HashMap<ClientId, usize>,
}

impl Clients {
    pub fn insert(&mut self, c: Client) -> usize {
        let id = c.id;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some(c);
                s
            }
            None => {
                self.slots.push(Some(c));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, slot);
        slot
    }

    pub fn remove(&mut self, id: ClientId) -> Option<Client> {
        let slot = self.by_id.remove(&id)?;
        self.free.push(slot);
        let c = self.slots[slot].take();
        crate::slab::shrink_tail(&mut self.slots, &mut self.free, self.by_id.len());
        crate::slab::shrink_map(&mut self.by_id);
        c
    }

    pub fn slot_of(&self, id: ClientId) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The client in `slot`. Slots handed out by `insert` stay valid until
    /// `remove`; the main loop never removes a client with a job queued.
    pub fn at(&self, slot: usize) -> &Client {
        self.slots[slot].as_ref().expect("client slot in use")
    }

    pub fn at_mut(&mut self, slot: usize) -> &mut Client {
        self.slots[slot].as_mut().expect("client slot in use")
    }

    pub fn by_id(&self, id: ClientId) -> Option<&Client> {
        self.slot_of(id).map(|s| self.at(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.slots.iter_mut().flatten()
    }
}
