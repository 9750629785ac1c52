//! Connection commands: PING, ECHO, SELECT, QUIT, RESET, AUTH and HELLO.
//!
//! There is one user, `default`: with no `requirepass` it accepts any
//! password (Valkey's `nopass`), otherwise only `requirepass`.

use bytes::Bytes;

use super::args::is;
use super::flags::*;
use super::meta::{acl, arg, Doc, Group, Secret};
use super::{CommandSpec, Ctx, KeySpec};
use crate::error::{
    excerpt, wrong_arity, CmdError, CmdResult, DB_INDEX, NOPROTO, NOT_INTEGER, NO_PASSWORD_SET,
    SYNTAX, WRONGPASS,
};
use crate::state::ReplyMode;
use crate::util::num::parse_i64;

// Error texts specific to this family (Valkey's wording).
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
const PROTOVER_NOT_INT: &str = "ERR Protocol version is not an integer or out of range";
pub(super) const CLIENT_NAME_INVALID: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";

/// The one user name that exists.
pub(super) const DEFAULT_USER: &[u8] = b"default";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: FAST,
        keys: KeySpec::NONE,
        handler: ping,
        subcommands: &[],
        doc: &Doc {
            summary: "Checks the server answers.",
            complexity: "O(1)",
            tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
            args: &[arg::string("message").optional()],
            ..Doc::new(Group::Connection, "1.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: LOADING | STALE | FAST,
        keys: KeySpec::NONE,
        handler: echo,
        subcommands: &[],
        doc: &Doc {
            summary: "Replies its argument.",
            complexity: "O(1)",
            args: &[arg::string("message")],
            ..Doc::new(Group::Connection, "1.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: LOADING | STALE | FAST | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: select,
        subcommands: &[],
        doc: &Doc {
            summary: "Switches the connection to another database.",
            complexity: "O(1)",
            args: &[arg::integer("index")],
            ..Doc::new(Group::Connection, "1.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        keys: KeySpec::NONE,
        handler: quit,
        subcommands: &[],
        doc: &Doc {
            summary: "Asks the server to close this connection.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "1.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: reset,
        subcommands: &[],
        doc: &Doc {
            summary: "Returns the connection to its state right after connecting.",
            complexity: "O(1)",
            ..Doc::new(Group::Connection, "6.2.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: auth,
        subcommands: &[],
        doc: &Doc {
            summary: "Logs the connection in with a password (and user name).",
            complexity: "O(N), N passwords of the user.",
            args: &[
                arg::string("username").since("6.0.0").optional(),
                arg::string("password"),
            ],
            history: &[(
                "6.0.0",
                "Takes a username as well as a password (ACL users).",
            )],
            secret: Secret::AllArgs,
            ..Doc::new(Group::Connection, "1.0.0", acl::CONNECTION)
        },
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        keys: KeySpec::NONE,
        handler: hello,
        subcommands: &[],
        doc: &Doc {
            summary: "Chooses the protocol version and reports the server and connection.",
            complexity: "O(1)",
            args: &[arg::block(
                "arguments",
                &[
                    arg::integer("protover"),
                    arg::block("auth", &[arg::string("username"), arg::string("password")])
                        .token("AUTH")
                        .optional(),
                    arg::string("clientname").token("SETNAME").optional(),
                ],
            )
            .optional()],
            history: &[
                (
                    "8.1.0",
                    "The reply has availability_zone when that setting is set.",
                ),
                (
                    "6.2.0",
                    "The protocol version may be left out, to see the connection's state.",
                ),
            ],
            secret: Secret::AfterToken("AUTH", 2),
            ..Doc::new(Group::Connection, "6.0.0", acl::CONNECTION)
        },
    },
];

// ---------------------------------------------------------------- simple ones

fn ping(ctx: &mut Ctx) -> CmdResult {
    // Arity is -1 so that the error names the command, as Valkey's does.
    if ctx.argv.len() > 2 {
        return Err(wrong_arity("ping"));
    }
    if ctx.client_ref().is_pubsub() && ctx.out.resp == 2 {
        // A RESP2 subscriber reads every reply as a message array.
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(ctx.argv.get(1).map_or(&b""[..], |m| &m[..]));
        return Ok(());
    }
    match ctx.argv.get(1) {
        Some(m) => ctx.out.bulk(m),
        None => ctx.out.simple("PONG"),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx) -> CmdResult {
    ctx.out.bulk(&ctx.argv[1]);
    Ok(())
}

fn select(ctx: &mut Ctx) -> CmdResult {
    let n = parse_i64(&ctx.argv[1]).ok_or(NOT_INTEGER)?;
    if n < 0 || n as u64 >= ctx.db_count() as u64 {
        return Err(DB_INDEX.into());
    }
    ctx.client().db = n as usize;
    ctx.out.ok();
    Ok(())
}

fn quit(ctx: &mut Ctx) -> CmdResult {
    ctx.client().close_after_reply = true;
    ctx.out.ok();
    Ok(())
}

/// Back to the state of a new connection. The library name and version
/// stay, as in Valkey: they describe the connection, not its session.
fn reset(ctx: &mut Ctx) -> CmdResult {
    super::multi::discard_transaction(ctx);
    let authenticated = ctx.config().requirepass.is_none();
    super::pubsub::unsubscribe_all(ctx);
    super::monitor::stop(ctx);
    let a = ctx.admin();
    a.state.tracking_off(a.clients.at_mut(a.me));
    let c = ctx.client();
    c.db = 0;
    c.resp = 2;
    c.name = None;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    c.no_touch = false;
    c.readonly = false;
    c.authenticated = authenticated;
    ctx.out.resp = 2;
    ctx.out.simple("RESET");
    Ok(())
}

// ------------------------------------------------------------ authentication

/// Compares a password with the secret in time that depends only on the
/// length of the given password, never on where they first differ or on
/// the secret's length.
fn password_matches(given: &[u8], secret: &[u8]) -> bool {
    if secret.is_empty() {
        return given.is_empty();
    }
    let mut diff = u8::from(given.len() != secret.len());
    for (i, &g) in given.iter().enumerate() {
        diff |= g ^ secret[i % secret.len()];
    }
    std::hint::black_box(diff) == 0
}

/// True when `user` (default when absent) and `pass` are valid credentials.
fn credentials_ok(ctx: &Ctx, user: Option<&[u8]>, pass: &[u8]) -> bool {
    // Evaluate the password even for an unknown user, so that the time
    // taken does not tell which users exist.
    let pass_ok = match &ctx.config().requirepass {
        None => true,
        Some(p) => password_matches(pass, p.as_bytes()),
    };
    user.is_none_or(|u| u == DEFAULT_USER) && pass_ok
}

fn auth(ctx: &mut Ctx) -> CmdResult {
    let (user, pass) = match ctx.argv.len() {
        2 => {
            if ctx.config().requirepass.is_none() {
                return Err(NO_PASSWORD_SET.into());
            }
            (None, &ctx.argv[1])
        }
        3 => (Some(&ctx.argv[1][..]), &ctx.argv[2]),
        _ => return Err(SYNTAX.into()),
    };
    if !credentials_ok(ctx, user, pass) {
        // A failed attempt leaves an authenticated connection authenticated.
        return Err(WRONGPASS.into());
    }
    ctx.client().authenticated = true;
    ctx.out.ok();
    Ok(())
}

fn hello(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut ver = None;
    if argv.len() >= 2 {
        let v = parse_i64(&argv[1]).ok_or(PROTOVER_NOT_INT)?;
        if !(2..=3).contains(&v) {
            return Err(NOPROTO.into());
        }
        ver = Some(v as u8);
    }
    let mut creds: Option<(&[u8], &[u8])> = None;
    let mut name: Option<&Bytes> = None;
    let mut j = 2;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if is(&argv[j], "AUTH") && more >= 2 {
            creds = Some((&argv[j + 1], &argv[j + 2]));
            j += 3;
        } else if is(&argv[j], "SETNAME") && more >= 1 {
            if !super::client::valid_attr(&argv[j + 1]) {
                return Err(CLIENT_NAME_INVALID.into());
            }
            name = Some(&argv[j + 1]);
            j += 2;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                excerpt(&argv[j], 128)
            )));
        }
    }
    if let Some((user, pass)) = creds {
        if !credentials_ok(ctx, Some(user), pass) {
            return Err(WRONGPASS.into());
        }
        ctx.client().authenticated = true;
    }
    if !ctx.client_ref().authenticated && ctx.config().requirepass.is_some() {
        return Err(HELLO_NOAUTH.into());
    }
    let c = ctx.client();
    if let Some(n) = name {
        c.name = (!n.is_empty()).then(|| n.to_vec());
    }
    if let Some(v) = ver {
        c.resp = v;
    }
    let (id, resp) = (c.id, c.resp);
    // The reply itself is already in the protocol just chosen.
    ctx.out.resp = resp;
    ctx.out.map(7);
    ctx.out.bulk(b"server");
    // What Valkey sends with extended-redis-compatibility: clients that
    // branch on the server name see the Redis they know.
    ctx.out.bulk(b"redis");
    ctx.out.bulk(b"version");
    ctx.out.bulk(crate::REDIS_COMPAT_VERSION.as_bytes());
    ctx.out.bulk(b"proto");
    ctx.out.int(resp as i64);
    ctx.out.bulk(b"id");
    ctx.out.int(id as i64);
    ctx.out.bulk(b"mode");
    ctx.out.bulk(b"standalone");
    ctx.out.bulk(b"role");
    ctx.out.bulk(b"master");
    ctx.out.bulk(b"modules");
    ctx.out.array(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_compare() {
        assert!(password_matches(b"secret", b"secret"));
        assert!(!password_matches(b"secre", b"secret"));
        assert!(!password_matches(b"secretsecret", b"secret"));
        assert!(!password_matches(b"", b"secret"));
        assert!(!password_matches(b"Secret", b"secret"));
    }
}
