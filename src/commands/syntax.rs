//! The argument syntax of a command row (`key value [NX | XX] [GET]`), parsed
//! into the argument entries COMMAND DOCS replies (and `redis-cli` reads for
//! its hints).
//!
//! Notation, as in the Valkey docs: `[...]` optional, `<...>` (or `〈...〉`)
//! a required group, `a | b` alternatives, `x [x ...]` repetition (also
//! `TOKEN x [TOKEN x ...]`), UPPER-CASE words are literal tokens and
//! lower-case words are placeholders whose type is guessed from the name.
//! The input is the static table, but the parser still accepts anything:
//! unbalanced brackets, stray bars or ellipses never panic.

/// Argument types, as COMMAND DOCS names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    Key,
    String,
    Integer,
    Double,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn wire(self) -> &'static str {
        match self {
            ArgType::Key => "key",
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }

    /// Containers carry nested arguments and no display text.
    pub fn is_container(self) -> bool {
        matches!(self, ArgType::OneOf | ArgType::Block)
    }
}

/// One argument entry of COMMAND DOCS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub kind: ArgType,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    /// For keys: which key specification (COMMAND INFO) covers it.
    pub key_spec_index: Option<usize>,
    /// Members of a oneof or block.
    pub args: Vec<Arg>,
}

impl Arg {
    fn new(name: String, kind: ArgType) -> Arg {
        Arg {
            name,
            kind,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            key_spec_index: None,
            args: Vec::new(),
        }
    }

    /// Consumes exactly one argv slot: a required, single, untokened value.
    pub fn is_single_slot(&self) -> bool {
        !self.optional
            && !self.multiple
            && self.token.is_none()
            && !self.kind.is_container()
            && self.kind != ArgType::PureToken
    }
}

/// What type inference may know about the command beyond the words.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// Full name (`set`, `config|get`).
    pub command: &'a str,
    pub group: &'a str,
    /// Without key positions, `key`-like words are plain strings.
    pub has_keys: bool,
    /// Blocking commands take their timeout as a double.
    pub blocking: bool,
}

/// Parses `syntax` into argument entries (no key spec indexes yet).
pub fn parse(syntax: &str, cx: &Context) -> Vec<Arg> {
    let toks = tokenize(syntax);
    let mut pos = 0;
    let mut alts = parse_alts(&toks, &mut pos, 0);
    // Alternatives at the top level are one required choice.
    let seq = if alts.len() > 1 {
        vec![group(false, alts)]
    } else {
        alts.pop().unwrap_or_default()
    };
    args_of_seq(&fold(seq), cx)
}

/// Numbers the key arguments in order, each with its key specification:
/// the i-th key argument gets spec i, the last spec covering the rest.
pub fn assign_key_specs(args: &mut [Arg], nspecs: usize) {
    let mut next = 0;
    assign_walk(args, nspecs, &mut next);
}

fn assign_walk(args: &mut [Arg], nspecs: usize, next: &mut usize) {
    for a in args {
        if a.kind == ArgType::Key {
            if nspecs == 0 {
                a.kind = ArgType::String;
            } else {
                a.key_spec_index = Some((*next).min(nspecs - 1));
                *next += 1;
            }
        }
        assign_walk(&mut a.args, nspecs, next);
    }
}

// ---- tokens and the raw tree ------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    /// `[` (optional) or `<` (required).
    Open(bool),
    Close,
    Bar,
    Word(&'a str),
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        let punct = match c {
            '[' => Some(Tok::Open(true)),
            '<' | '〈' => Some(Tok::Open(false)),
            ']' | '>' | '〉' => Some(Tok::Close),
            '|' => Some(Tok::Bar),
            _ => None,
        };
        if punct.is_some() || c.is_whitespace() {
            if let Some(b) = start.take() {
                out.push(Tok::Word(&s[b..i]));
            }
            if let Some(p) = punct {
                out.push(p);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(b) = start {
        out.push(Tok::Word(&s[b..]));
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Raw {
    Word(String),
    Ellipsis,
    /// Alternatives, each a sequence. `multiple` first marks a trailing
    /// `...` (a repetition of what precedes); after folding it means the
    /// group itself repeats.
    Group {
        optional: bool,
        multiple: bool,
        alts: Vec<Vec<Raw>>,
    },
    /// A sequence given one or more times (`key value [key value ...]`).
    Repeat(Vec<Raw>),
}

fn group(optional: bool, alts: Vec<Vec<Raw>>) -> Raw {
    Raw::Group {
        optional,
        multiple: false,
        alts,
    }
}

/// Deep enough for any real syntax; deeper nesting is flattened away.
const MAX_DEPTH: usize = 16;

/// Alternatives up to the closing bracket (or the end).
fn parse_alts(toks: &[Tok], pos: &mut usize, depth: usize) -> Vec<Vec<Raw>> {
    let mut alts: Vec<Vec<Raw>> = vec![Vec::new()];
    while let Some(t) = toks.get(*pos) {
        *pos += 1;
        let cur = alts.len() - 1;
        match *t {
            Tok::Close if depth > 0 => break,
            Tok::Close => {} // stray closer at the top: ignore it
            Tok::Bar => alts.push(Vec::new()),
            Tok::Open(optional) => {
                let inner = parse_alts(toks, pos, depth + 1);
                if depth + 1 >= MAX_DEPTH {
                    continue;
                }
                alts[cur].push(group(optional, inner));
            }
            Tok::Word("...") => alts[cur].push(Raw::Ellipsis),
            Tok::Word(w) => alts[cur].push(Raw::Word(w.to_string())),
        }
    }
    alts
}

/// Resolves repetitions: `x [x ...]`, `k v [k v ...]`, `<a | b> [a | b ...]`
/// and the docs' `[a | b [a | b ...]]` form of a repeated choice.
fn fold(seq: Vec<Raw>) -> Vec<Raw> {
    let mut out: Vec<Raw> = Vec::with_capacity(seq.len());
    for item in seq {
        match item {
            Raw::Ellipsis => {} // handled by the enclosing group; stray otherwise
            Raw::Word(_) | Raw::Repeat(_) => out.push(item),
            Raw::Group { optional, alts, .. } => {
                let (g_alts, repeats) = fold_group(alts);
                if g_alts.is_empty() {
                    // A bare `[...]`: what precedes repeats.
                    if repeats {
                        repeat_last(&mut out);
                    }
                    continue;
                }
                if !repeats {
                    out.push(Raw::Group {
                        optional,
                        multiple: false,
                        alts: g_alts,
                    });
                    continue;
                }
                if !repeat_previous(&mut out, &g_alts) {
                    out.push(Raw::Group {
                        optional,
                        multiple: true,
                        alts: g_alts,
                    });
                }
            }
        }
    }
    out
}

/// Folds a group's alternatives; true when the group ends with `...`
/// (it repeats whatever precedes it).
fn fold_group(mut alts: Vec<Vec<Raw>>) -> (Vec<Vec<Raw>>, bool) {
    let mut ellipsis = false;
    if let Some(last) = alts.last_mut() {
        if last.last() == Some(&Raw::Ellipsis) {
            last.pop();
            ellipsis = true;
        }
    }
    let mut alts: Vec<Vec<Raw>> = alts.into_iter().map(fold).collect();
    alts.retain(|a| !a.is_empty());
    // `[a | b [a | b ...]]`: the last alternative ends with a repetition
    // of the whole choice, so the choice itself repeats.
    let mut self_repeat = false;
    if alts.len() > 1 {
        let n = alts.len();
        if let Some(Raw::Group {
            optional: true,
            multiple: true,
            alts: inner,
        }) = alts[n - 1].last()
        {
            let mut rest = alts.clone();
            rest[n - 1].pop();
            if *inner == rest {
                alts = rest;
                self_repeat = true;
            }
        }
    }
    if self_repeat {
        // Marked as a repeated required choice inside this group.
        return (
            vec![vec![Raw::Group {
                optional: false,
                multiple: true,
                alts,
            }]],
            ellipsis,
        );
    }
    (alts, ellipsis)
}

/// Marks the last item as given one or more times.
fn repeat_last(out: &mut Vec<Raw>) {
    match out.pop() {
        Some(Raw::Group { optional, alts, .. }) => out.push(Raw::Group {
            optional,
            multiple: true,
            alts,
        }),
        Some(w @ Raw::Word(_)) => out.push(Raw::Repeat(vec![w])),
        Some(other) => out.push(other),
        None => {}
    }
}

/// `[x ...]` after `x`: turns the items already in `out` into a repetition.
fn repeat_previous(out: &mut Vec<Raw>, alts: &[Vec<Raw>]) -> bool {
    if alts.len() == 1 {
        let c = &alts[0];
        let k = c.len();
        if k == 0 || out.len() < k || out[out.len() - k..] != c[..] {
            return false;
        }
        out.truncate(out.len() - k);
        if k == 1 {
            if let Raw::Group {
                optional, alts: a, ..
            } = &c[0]
            {
                out.push(Raw::Group {
                    optional: *optional,
                    multiple: true,
                    alts: a.clone(),
                });
                return true;
            }
        }
        out.push(Raw::Repeat(c.clone()));
        return true;
    }
    if let Some(Raw::Group {
        alts: prev,
        multiple,
        ..
    }) = out.last_mut()
    {
        if prev[..] == alts[..] {
            *multiple = true;
            return true;
        }
    }
    false
}

// ---- raw tree → argument entries ---------------------------------------------

/// An UPPER-CASE word (or a symbol like `*`, `=`, `~`) is a literal token.
fn is_token(w: &str) -> bool {
    !w.chars().any(|c| c.is_lowercase())
}

fn token_of(r: &Raw) -> Option<&str> {
    match r {
        Raw::Word(w) if is_token(w) => Some(w),
        _ => None,
    }
}

/// Items a token takes as its value(s): placeholders, their repetitions
/// and required choices; not other tokens or optional parts.
fn absorbable(r: &Raw) -> bool {
    match r {
        Raw::Word(w) => !is_token(w),
        Raw::Repeat(c) => c.first().and_then(token_of).is_none(),
        Raw::Group { optional, .. } => !optional,
        Raw::Ellipsis => false,
    }
}

/// A sequence read as a list of arguments.
fn args_of_seq(seq: &[Raw], cx: &Context) -> Vec<Arg> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        if let Some(t) = token_of(&seq[i]) {
            let mut j = i + 1;
            while j < seq.len() && absorbable(&seq[j]) {
                j += 1;
            }
            out.extend(with_token(t, &seq[i + 1..j], cx));
            i = j;
        } else {
            out.extend(arg_of(&seq[i], cx));
            i += 1;
        }
    }
    out
}

/// A token and the items it introduces.
fn with_token(t: &str, values: &[Raw], cx: &Context) -> Option<Arg> {
    let mut a = match values {
        [] => {
            let mut a = Arg::new(t.to_ascii_lowercase(), ArgType::PureToken);
            a.token = Some(t.to_string());
            return Some(a);
        }
        [one] => {
            let a = arg_of(one, cx)?;
            if a.token.is_some() {
                block(t.to_ascii_lowercase(), vec![a])
            } else {
                a
            }
        }
        _ => block(t.to_ascii_lowercase(), args_of_seq(values, cx)),
    };
    if a.kind.is_container() {
        // A choice or block behind a token is named after it (`LIMIT`).
        a.name = t.to_ascii_lowercase();
    }
    a.token = Some(t.to_string());
    Some(a)
}

fn block(name: String, args: Vec<Arg>) -> Arg {
    let mut a = Arg::new(name, ArgType::Block);
    a.args = args;
    a
}

/// A sequence read as one argument (an alternative, a group's content).
fn arg_of_seq(seq: &[Raw], cx: &Context) -> Option<Arg> {
    let mut list = args_of_seq(seq, cx);
    if list.len() <= 1 {
        return list.pop();
    }
    let name = format!("{}-block", list[0].name);
    Some(block(name, list))
}

fn arg_of(r: &Raw, cx: &Context) -> Option<Arg> {
    match r {
        Raw::Ellipsis => None,
        Raw::Word(w) if is_token(w) => with_token(w, &[], cx),
        Raw::Word(w) => Some(Arg::new(w.clone(), infer(w, cx))),
        Raw::Repeat(c) => {
            let mut a = arg_of_seq(c, cx)?;
            if c.len() > 1 && c.first().and_then(token_of).is_some() && a.token.is_some() {
                a.multiple_token = true;
            } else if a.kind == ArgType::Block && a.token.is_none() {
                // Repeated tuples (`key value [key value ...]`).
                a.name = "data".to_string();
            }
            a.multiple = true;
            Some(a)
        }
        Raw::Group {
            optional,
            multiple,
            alts,
        } => {
            let mut a = if alts.len() == 1 {
                arg_of_seq(&alts[0], cx)?
            } else {
                let members: Vec<Arg> = alts.iter().filter_map(|s| arg_of_seq(s, cx)).collect();
                let mut a = Arg::new(choice_name(&members), ArgType::OneOf);
                a.args = members;
                a
            };
            if *optional {
                a.optional = true;
            }
            if *multiple {
                a.multiple = true;
            }
            Some(a)
        }
    }
}

/// A name for a choice: the usual names for the common option sets,
/// otherwise its members' names joined.
fn choice_name(members: &[Arg]) -> String {
    let all_in = |set: &[&str]| {
        members
            .iter()
            .all(|m| m.token.as_deref().is_some_and(|t| set.contains(&t)))
    };
    if all_in(&["NX", "XX", "GT", "LT", "FNX", "FXX", "IFEQ"]) {
        return "condition".into();
    }
    if all_in(&["EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST"]) {
        return "expiration".into();
    }
    if all_in(&["ASC", "DESC"]) {
        return "order".into();
    }
    if all_in(&["LEFT", "RIGHT"]) || all_in(&["BEFORE", "AFTER"]) {
        return "where".into();
    }
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    names.join("-")
}

/// Guesses a placeholder's type from its name (and the command).
fn infer(w: &str, cx: &Context) -> ArgType {
    let lw = w.to_ascii_lowercase();
    let w = lw.as_str();
    // `key1`, `key2` (LCS) are keys too.
    let stem = w.trim_end_matches(|c: char| c.is_ascii_digit());
    let keyish = matches!(stem, "key" | "destination" | "source" | "newkey")
        || (stem.ends_with("key") && stem.len() > 3 && !stem.contains('-'));
    if keyish && cx.has_keys {
        return ArgType::Key;
    }
    if w == "pattern" {
        return ArgType::Pattern;
    }
    if w.starts_with("unix-time") {
        return ArgType::UnixTime;
    }
    let zset = cx.group == "sorted-set";
    match w {
        "score" | "longitude" | "latitude" | "radius" | "width" | "height" => {
            return ArgType::Double
        }
        "min" | "max" if zset && !cx.command.contains("lex") => return ArgType::Double,
        "increment" if zset || cx.command.contains("float") => return ArgType::Double,
        "timeout" if cx.blocking => return ArgType::Double,
        _ => {}
    }
    let integer = matches!(
        w,
        "seconds"
            | "milliseconds"
            | "count"
            | "index"
            | "index1"
            | "index2"
            | "offset"
            | "start"
            | "end"
            | "stop"
            | "numkeys"
            | "numfields"
            | "cursor"
            | "db"
            | "destination-db"
            | "delta"
            | "increment"
            | "decrement"
            | "len"
            | "rank"
            | "num-matches"
            | "port"
            | "protover"
            | "client-id"
            | "numreplicas"
            | "ttl"
            | "timeout"
            | "limit"
            | "maxlen"
            | "bit"
            | "frequency"
            | "weight"
            | "numerator"
            | "maxage"
            | "idle"
    ) || w.ends_with("-seconds")
        || w.ends_with("-milliseconds")
        || w.ends_with("-len")
        || w.ends_with("-db")
        || w.ends_with("client-id");
    if integer {
        return ArgType::Integer;
    }
    ArgType::String
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> Context<'static> {
        Context {
            command: "x",
            group: "string",
            has_keys: true,
            blocking: false,
        }
    }

    /// A compact rendering: name:type, with token, flags and members.
    fn show(args: &[Arg]) -> String {
        let v: Vec<String> = args
            .iter()
            .map(|a| {
                let mut s = format!("{}:{}", a.name, a.kind.wire());
                if let Some(t) = &a.token {
                    s.push_str(&format!("@{t}"));
                }
                if a.optional {
                    s.push('?');
                }
                if a.multiple {
                    s.push('*');
                }
                if a.multiple_token {
                    s.push('!');
                }
                if let Some(k) = a.key_spec_index {
                    s.push_str(&format!("#{k}"));
                }
                if !a.args.is_empty() {
                    s.push_str(&format!("({})", show(&a.args)));
                }
                s
            })
            .collect();
        v.join(" ")
    }

    fn p(s: &str) -> String {
        let mut a = parse(s, &cx());
        assign_key_specs(&mut a, 1);
        show(&a)
    }

    #[test]
    fn set_syntax() {
        assert_eq!(
            p("key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"),
            "key:key#0 value:string condition:oneof?(nx:pure-token@NX xx:pure-token@XX) \
             get:pure-token@GET? expiration:oneof?(seconds:integer@EX milliseconds:integer@PX \
             unix-time-seconds:unix-time@EXAT unix-time-milliseconds:unix-time@PXAT keepttl:pure-token@KEEPTTL)"
        );
    }

    #[test]
    fn repetitions() {
        assert_eq!(p("key [key ...]"), "key:key*#0");
        assert_eq!(
            p("key value [key value ...]"),
            "data:block*(key:key#0 value:string)"
        );
        assert_eq!(p("[key [key ...]]"), "key:key?*#0");
        assert_eq!(
            p("key [GET pattern [GET pattern ...]]"),
            "key:key#0 pattern:pattern@GET?*!"
        );
        assert_eq!(p("parameter [parameter ...]"), "parameter:string*");
        // Orphan repetition: nothing to repeat before it.
        assert_eq!(p("[arg ...]"), "arg:string?*");
    }

    #[test]
    fn tokens_with_values() {
        assert_eq!(
            p("cursor [MATCH pattern] [COUNT count] [TYPE type]"),
            "cursor:integer pattern:pattern@MATCH? count:integer@COUNT? type:string@TYPE?"
        );
        assert_eq!(
            p("key min max [WITHSCORES] [LIMIT offset count]"),
            "key:key#0 min:string max:string withscores:pure-token@WITHSCORES? \
             limit:block@LIMIT?(offset:integer count:integer)"
        );
        let mut z = parse(
            "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]",
            &Context {
                command: "zunionstore",
                group: "sorted-set",
                has_keys: true,
                blocking: false,
            },
        );
        assign_key_specs(&mut z, 2);
        assert_eq!(
            show(&z),
            "destination:key#0 numkeys:integer key:key*#1 weight:integer@WEIGHTS?* \
             aggregate:oneof@AGGREGATE?(sum:pure-token@SUM min:pure-token@MIN max:pure-token@MAX)"
        );
        assert_eq!(
            p("[COUNT count [ANY]]"),
            "count-block:block?(count:integer@COUNT any:pure-token@ANY?)"
        );
        assert_eq!(
            p("[COUNT count] STREAMS key [key ...] id [id ...]"),
            "count:integer@COUNT? streams:block@STREAMS(key:key*#0 id:string*)"
        );
    }

    #[test]
    fn expire_and_nested_choices() {
        assert_eq!(
            p("key seconds [NX | XX | GT | LT]"),
            "key:key#0 seconds:integer condition:oneof?(nx:pure-token@NX xx:pure-token@XX \
             gt:pure-token@GT lt:pure-token@LT)"
        );
        assert_eq!(
            p("[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"),
            "filterby:oneof@FILTERBY?(module-name:string@MODULE category:string@ACLCAT \
             pattern:pattern@PATTERN)"
        );
        assert_eq!(
            p("key <FROMMEMBER member | FROMLONLAT longitude latitude>"),
            "key:key#0 member-fromlonlat:oneof(member:string@FROMMEMBER \
             fromlonlat:block@FROMLONLAT(longitude:double latitude:double))"
        );
    }

    #[test]
    fn client_kill_like() {
        let a = p("<ip:port | <[ID client-id [client-id ...]] | [TYPE <NORMAL | MASTER | PUBSUB>] | [USER username] | [SKIPME <YES | NO>]> [<[ID client-id [client-id ...]] | [TYPE <NORMAL | MASTER | PUBSUB>] | [USER username] | [SKIPME <YES | NO>]> ...]>");
        assert!(a.starts_with("ip:port-"), "{a}");
        assert!(a.contains("client-id:integer@ID?*"), "{a}");
        assert!(
            a.contains("skipme:oneof@SKIPME?(yes:pure-token@YES no:pure-token@NO)"),
            "{a}"
        );
        // The repeated filter choice is one multiple oneof.
        assert!(a.contains(":oneof*("), "{a}");
    }

    #[test]
    fn bitfield_repeated_choice() {
        let a = p("key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]");
        assert!(a.starts_with("key:key#0 get-"), "{a}");
        assert!(a.contains(":oneof?*("), "{a}");
    }

    #[test]
    fn no_keys_means_strings() {
        let a = parse(
            "key",
            &Context {
                has_keys: false,
                ..cx()
            },
        );
        assert_eq!(show(&a), "key:string");
    }

    #[test]
    fn junk_never_panics() {
        for s in [
            "",
            "]",
            "[",
            "<<<",
            "| |",
            "...",
            "[...]",
            "[ | ]",
            "a ] b",
            "[[[[[[[[[[[[[[[[[[[[x]",
            "〈 A | b 〉",
            "<a | >",
            "[x [x ...] ...]",
            "A B C",
            "a|b|c",
        ] {
            let _ = parse(s, &cx());
        }
        assert_eq!(p("a|b"), "a-b:oneof(a:string b:string)");
        // A bare `[...]` repeats what precedes it.
        assert_eq!(p("<A x | B y> [...]"), "x-y:oneof*(x:string@A y:string@B)");
        assert_eq!(p("key1 key2 [...]"), "key1:key#0 key2:key*#0");
        assert_eq!(p("〈 * | id 〉"), "*-id:oneof(*:pure-token@* id:string)");
    }
}
