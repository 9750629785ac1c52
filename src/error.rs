//! Command errors: one constant per wire message, code included, so that
//! grepping for a message finds every place that sends it.

use std::borrow::Cow;

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const INCR_NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
pub const DB_INDEX: &str = "ERR DB index is out of range";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in 'set' command";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub const NX_XX_GT_LT: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
pub const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const CURSOR: &str = "ERR invalid cursor";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub const NO_PASSWORD_SET: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

/// A failed command. The text is the whole error line without the leading
/// `-`: it starts with the error code (`ERR`, `WRONGTYPE`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl CmdError {
    pub fn owned(s: String) -> Self {
        CmdError(Cow::Owned(s))
    }

    /// The code: the first word (`ERR`, `WRONGTYPE`, ...), for errorstats.
    pub fn code(&self) -> &str {
        self.0.split(' ').next().unwrap_or("ERR")
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError(Cow::Borrowed(s))
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError(Cow::Owned(s))
    }
}

pub type CmdResult = Result<(), CmdError>;

/// `ERR wrong number of arguments for 'get' command`.
pub fn wrong_arity(name: &str) -> CmdError {
    CmdError::owned(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// User text placed inside an error: at most `max` bytes, lossy UTF-8.
pub fn excerpt(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max)]).into_owned()
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `.
pub fn unknown_command(argv: &[bytes::Bytes]) -> CmdError {
    let mut s = format!(
        "ERR unknown command '{}', with args beginning with: ",
        excerpt(&argv[0], 128)
    );
    for a in argv.iter().skip(1) {
        if s.len() >= 1024 {
            break;
        }
        s.push('\'');
        s.push_str(&excerpt(a, 128));
        s.push_str("' ");
    }
    CmdError::owned(s)
}

/// `ERR unknown subcommand 'x'. Try CONFIG HELP.`
pub fn unknown_subcommand(sub: &[u8], container: &str) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        excerpt(sub, 128),
        container.to_ascii_uppercase()
    ))
}

// Generic keyspace commands (commands/keys.rs).
pub const GT_AND_LT: &str = "ERR GT and LT options at the same time are not compatible";
pub const INT32_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
pub const INVALID_FIRST_DB: &str = "ERR invalid first DB index";
pub const INVALID_SECOND_DB: &str = "ERR invalid second DB index";
pub const NOVALUES_NOT_HSCAN: &str = "ERR NOVALUES option can only be used in HSCAN";
pub const NOSCORES_NOT_ZSCAN: &str = "ERR NOSCORES option can only be used in ZSCAN";
pub const FREQ_WITHOUT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
pub const IDLETIME_WITH_LFU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Server commands (commands/server.rs).
pub const DEBUG_NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
pub const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
pub const NO_SHUTDOWN_IN_PROGRESS: &str = "ERR No shutdown in progress.";
pub const SHUTDOWN_ERRORS: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
pub const SHUTDOWN_FAILOVER_CLUSTER: &str =
    "ERR SHUTDOWN FAILOVER is only supported in cluster mode.";
pub const SLOWLOG_COUNT: &str = "ERR count should be greater than or equal to -1";

// String commands (commands/string.rs).
pub const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";
pub const LCS_NOT_STRINGS: &str = "ERR The specified keys must contain string values";
pub const LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
pub const LCS_TOO_LONG: &str = "ERR String too long for LCS";
pub const LCS_MEMORY_LIMIT: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
pub const LCS_ALLOC_FAILED: &str =
    "ERR Insufficient memory, failed allocating transient memory for LCS";
