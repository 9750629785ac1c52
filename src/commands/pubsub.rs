//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
//! PUBLISH, the sharded SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH, and the
//! PUBSUB container (CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB,
//! HELP). The registry and the delivery of messages are `state::pubsub`;
//! which commands a RESP2 subscriber may run is checked in `exec::call`.

use bytes::Bytes;

use super::flags::*;
use super::meta::{arg, ks, Doc, Group};
use super::server::reply_help;
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::CmdResult;
use crate::resp::ReplyBuf;
use crate::state::pubsub::{Kind, PubSub};
use crate::state::Client;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: subscribe,
        subcommands: &[],
        doc: &Doc {
            summary: "Listens for messages published to channels.",
            complexity: "O(N) where N is the number of channels to subscribe to.",
            args: &[arg::string("channel").multiple()],
            ..Doc::new(Group::Pubsub, "2.0.0", 0)
        },
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: unsubscribe,
        subcommands: &[],
        doc: &Doc {
            summary: "Stops listening to messages posted to channels.",
            complexity: "O(N) where N is the number of channels to unsubscribe.",
            args: &[arg::string("channel").optional().multiple()],
            ..Doc::new(Group::Pubsub, "2.0.0", 0)
        },
    },
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: psubscribe,
        subcommands: &[],
        doc: &Doc {
            summary: "Listens for messages published to channels that match one or more patterns.",
            complexity: "O(N) where N is the number of patterns to subscribe to.",
            args: &[arg::pattern("pattern").multiple()],
            ..Doc::new(Group::Pubsub, "2.0.0", 0)
        },
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::NONE,
        handler: punsubscribe,
        subcommands: &[],
        doc: &Doc {
            summary: "Stops listening to messages published to channels that match one or more patterns.",
            complexity: "O(N) where N is the number of patterns to unsubscribe.",
            args: &[arg::pattern("pattern").optional().multiple()],
            ..Doc::new(Group::Pubsub, "2.0.0", 0)
        },
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: KeySpec::NONE,
        handler: publish,
        subcommands: &[],
        doc: &Doc {
            summary: "Posts a message to a channel.",
            complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
            args: &[arg::string("channel"), arg::string("message")],
            ..Doc::new(Group::Pubsub, "2.0.0", 0)
        },
    },
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::range(1, -1, 1),
        handler: ssubscribe,
        subcommands: &[],
        doc: &Doc {
            summary: "Listens for messages published to shard channels.",
            complexity: "O(N) where N is the number of shard channels to subscribe to.",
            key_specs: &[ks::range(1, -1, 1, ks::NOT_KEY)],
            args: &[arg::string("shardchannel").multiple()],
            ..Doc::new(Group::Pubsub, "7.0.0", 0)
        },
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: KeySpec::range(1, -1, 1),
        handler: sunsubscribe,
        subcommands: &[],
        doc: &Doc {
            summary: "Stops listening to messages posted to shard channels.",
            complexity: "O(N) where N is the number of shard channels to unsubscribe.",
            key_specs: &[ks::range(1, -1, 1, ks::NOT_KEY)],
            args: &[arg::string("shardchannel").optional().multiple()],
            ..Doc::new(Group::Pubsub, "7.0.0", 0)
        },
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: KeySpec::ONE,
        handler: spublish,
        subcommands: &[],
        doc: &Doc {
            summary: "Posts a message to a shard channel.",
            complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
            key_specs: &[ks::one(1, ks::NOT_KEY)],
            args: &[arg::string("shardchannel"), arg::string("message")],
            ..Doc::new(Group::Pubsub, "7.0.0", 0)
        },
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        flags: 0,
        keys: KeySpec::NONE,
        handler: super::container,
        subcommands: &[
            CommandSpec {
                name: "pubsub|channels",
                arity: -2,
                flags: PUBSUB | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: pubsub_channels,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns the active channels.",
                    complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
                    args: &[arg::pattern("pattern").optional()],
                    ..Doc::new(Group::Pubsub, "2.8.0", 0)
                },
            },
            CommandSpec {
                name: "pubsub|help",
                arity: 2,
                flags: LOADING | STALE,
                keys: KeySpec::NONE,
                handler: pubsub_help,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns helpful text about the different subcommands.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Pubsub, "6.2.0", 0)
                },
            },
            CommandSpec {
                name: "pubsub|numpat",
                arity: 2,
                flags: PUBSUB | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: pubsub_numpat,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns a count of unique pattern subscriptions.",
                    complexity: "O(1)",
                    ..Doc::new(Group::Pubsub, "2.8.0", 0)
                },
            },
            CommandSpec {
                name: "pubsub|numsub",
                arity: -2,
                flags: PUBSUB | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: pubsub_numsub,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns a count of subscribers to channels.",
                    complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
                    args: &[arg::string("channel").optional().multiple()],
                    ..Doc::new(Group::Pubsub, "2.8.0", 0)
                },
            },
            CommandSpec {
                name: "pubsub|shardchannels",
                arity: -2,
                flags: PUBSUB | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: pubsub_shardchannels,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns the active shard channels.",
                    complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
                    args: &[arg::pattern("pattern").optional()],
                    ..Doc::new(Group::Pubsub, "7.0.0", 0)
                },
            },
            CommandSpec {
                name: "pubsub|shardnumsub",
                arity: -2,
                flags: PUBSUB | LOADING | STALE,
                keys: KeySpec::NONE,
                handler: pubsub_shardnumsub,
                subcommands: &[],
                doc: &Doc {
                    summary: "Returns the count of subscribers of shard channels.",
                    complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
                    args: &[arg::string("shardchannel").optional().multiple()],
                    ..Doc::new(Group::Pubsub, "7.0.0", 0)
                },
            },
        ],
        doc: &Doc {
            summary: "A container for Pub/Sub commands.",
            complexity: "Depends on subcommand.",
            ..Doc::new(Group::Pubsub, "2.8.0", 0)
        },
    },
];

/// The count a (un)subscribe reply carries: channels and patterns
/// together, shard channels on their own (Valkey's two pub/sub types).
fn count_for(c: &Client, kind: Kind) -> usize {
    match kind {
        Kind::Shard => c.subs[2] as usize,
        _ => (c.subs[0] + c.subs[1]) as usize,
    }
}

/// One (un)subscribe confirmation: a push in RESP3, an array in RESP2;
/// `name` None is the null of an UNSUBSCRIBE with nothing to leave.
fn confirm(out: &mut ReplyBuf, word: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe_kind(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let argv = ctx.argv;
    let (reg, c): (&mut PubSub, &mut Client) = ctx.pubsub();
    let mut replies = Vec::with_capacity(argv.len() - 1);
    for name in &argv[1..] {
        reg.subscribe(c, kind, name);
        replies.push(count_for(c, kind));
    }
    for (name, count) in argv[1..].iter().zip(replies) {
        confirm(ctx.out, kind.subscribe_word(), Some(name), count);
    }
    Ok(())
}

fn unsubscribe_kind(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let argv = ctx.argv;
    let (reg, c) = ctx.pubsub();
    let id = c.id;
    let names: Vec<Bytes> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        reg.names_of(id, kind)
    };
    let mut replies = Vec::with_capacity(names.len());
    for name in &names {
        reg.unsubscribe(c, kind, name);
        replies.push(count_for(c, kind));
    }
    let nothing = names.is_empty().then(|| count_for(c, kind));
    if let Some(count) = nothing {
        confirm(ctx.out, kind.unsubscribe_word(), None, count);
    }
    for (name, count) in names.iter().zip(replies) {
        confirm(ctx.out, kind.unsubscribe_word(), Some(name), count);
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_kind(ctx, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_kind(ctx, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_kind(ctx, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_kind(ctx, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_kind(ctx, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_kind(ctx, Kind::Shard)
}

fn publish(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = ctx.publish(&argv[1], &argv[2]);
    ctx.out.int(n as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = ctx.pubsub().0.publish_shard(&argv[1], &argv[2]);
    ctx.out.int(n as i64);
    Ok(())
}

fn reply_names(out: &mut ReplyBuf, names: &[Bytes]) {
    out.array(names.len());
    for n in names {
        out.bulk(n);
    }
}

fn channels_kind(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let pattern = ctx.argv.get(2).cloned();
    if ctx.argv.len() > 3 {
        return Err(super::server::subcommand_syntax_error(
            &ctx.argv[1],
            "PUBSUB",
        ));
    }
    let names = ctx.pubsub().0.channels(kind, pattern.as_deref());
    reply_names(ctx.out, &names);
    Ok(())
}

fn numsub_kind(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let argv = ctx.argv;
    let reg = &*ctx.pubsub().0;
    let counts: Vec<usize> = argv[2..].iter().map(|n| reg.subscribers(kind, n)).collect();
    ctx.out.array(counts.len() * 2);
    for (name, n) in argv[2..].iter().zip(counts) {
        ctx.out.bulk(name);
        ctx.out.int(n as i64);
    }
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx) -> CmdResult {
    channels_kind(ctx, Kind::Channel)
}

fn pubsub_shardchannels(ctx: &mut Ctx) -> CmdResult {
    channels_kind(ctx, Kind::Shard)
}

fn pubsub_numsub(ctx: &mut Ctx) -> CmdResult {
    numsub_kind(ctx, Kind::Channel)
}

fn pubsub_shardnumsub(ctx: &mut Ctx) -> CmdResult {
    numsub_kind(ctx, Kind::Shard)
}

fn pubsub_numpat(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.pubsub().0.count(Kind::Pattern);
    ctx.out.int(n as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

/// RESET and the end of a connection: leaves every subscription, with no
/// reply.
pub fn unsubscribe_all(ctx: &mut Ctx) {
    let (reg, c) = ctx.pubsub();
    if c.is_pubsub() {
        reg.remove_client(c);
    }
}
