#!/usr/bin/env python3
"""Prints the skeleton of a command row (src/commands/*.rs) for a command Valkey has: its facts
(arity, flags, key positions, group, since, ACL categories, tips, key specifications, argument tree,
history versions) as Valkey 9.1 declares them, and TODO markers where the row needs our own words
(summary, complexity, history texts, key-spec notes, argument summaries) or our own code (handler).

Usage: scripts/command-row.py VALKEY_PORT COMMAND   (a subcommand as container|sub)
Then: paste the row into its family's COMMANDS, write the handler and a test, and rerun
scripts/capture-command-meta.py so tests/command.rs compares the new row with Valkey.
"""
import importlib.util
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("cap", os.path.join(here, "capture-command-meta.py"))
cap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cap)
S = cap.s
TODO = '"TODO: in our words"'

FLAGS = {"write": "WRITE", "readonly": "READONLY", "denyoom": "DENYOOM", "admin": "ADMIN", "pubsub": "PUBSUB",
         "noscript": "NOSCRIPT", "blocking": "BLOCKING", "loading": "LOADING", "stale": "STALE",
         "skip_monitor": "SKIP_MONITOR", "skip_commandlog": "SKIP_SLOWLOG", "fast": "FAST", "no_auth": "NO_AUTH",
         "no_mandatory_keys": "NO_MANDATORY_KEYS", "no_multi": "NO_MULTI", "allow_busy": "ALLOW_BUSY",
         "no_async_loading": "NO_ASYNC_LOADING"}
KSF = {"RO": "RO", "RW": "RW", "OW": "OW", "RM": "RM", "access": "ACCESS", "update": "UPDATE", "insert": "INSERT",
       "delete": "DELETE", "not_key": "NOT_KEY", "incomplete": "INCOMPLETE", "variable_flags": "VARIABLE_FLAGS"}
GROUPS = {"sorted-set": "SortedSet", "hyperloglog": "Hyperloglog", "pubsub": "Pubsub"}


def m2d(m):
    return {S(k): x for k, x in m[1]}


def implied(flags):
    """The ACL categories Valkey adds from command flags (not declared in the row)."""
    c = set()
    for f, cat in (("write", "write"), ("readonly", "read"), ("pubsub", "pubsub"), ("fast", "fast"),
                   ("blocking", "blocking")):
        if f in flags:
            c.add(cat)
    if "admin" in flags:
        c |= {"admin", "dangerous"}
    if "fast" not in c:
        c.add("slow")
    return c


def arg(a, ind):
    d = m2d(a)
    name, t = S(d["name"]), S(d["type"])
    if t == "key":
        e = "arg::key(%s, %d)" % (json.dumps(name), d["key_spec_index"][1])
    elif t == "pure-token":
        e = "arg::pure(%s, %s)" % (json.dumps(name), json.dumps(S(d["token"])))
    elif t in ("oneof", "block"):
        inner = "".join(" " * (ind + 4) + arg(x, ind + 4) + ",\n" for x in d["arguments"][1])
        e = "arg::%s(%s, &[\n%s%s])" % (t, json.dumps(name), inner, " " * ind)
    else:
        e = "arg::%s(%s)" % (t.replace("-", "_"), json.dumps(name))
    if "token" in d and t != "pure-token":
        e += ".token(%s)" % json.dumps(S(d["token"]))
    if "key_spec_index" in d and t != "key":
        e += ".key_spec(%d)" % d["key_spec_index"][1]
    if "display_text" in d and S(d["display_text"]) != name:
        e += ".display(%s)" % json.dumps(S(d["display_text"]))
    if "summary" in d:
        e += ".summary(%s)" % TODO
    for k in ("since", "deprecated_since"):
        if k in d:
            e += ".%s(%s)" % (k, json.dumps(S(d[k])))
    for f in d.get("flags", ("set", []))[1]:
        e += ".%s()" % S(f)
    return e


def key_spec(k):
    d = m2d(k)
    flags = " | ".join("ks::" + KSF[S(f)] for f in d["flags"][1])
    bs, fk = m2d(d["begin_search"]), m2d(d["find_keys"])
    bt, ft = S(bs["type"]), S(fk["type"])
    bspec, fspec = m2d(bs["spec"]), m2d(fk["spec"])
    if bt == "unknown" and ft == "unknown":
        e = "ks::unknown(%s)" % flags
    elif bt == "index" and ft == "range" and fspec["limit"][1] == 0:
        at, lk, st = bspec["index"][1], fspec["lastkey"][1], fspec["keystep"][1]
        e = "ks::one(%d, %s)" % (at, flags) if (lk, st) == (0, 1) else "ks::range(%d, %d, %d, %s)" % (at, lk, st, flags)
    elif bt == "index" and ft == "keynum" and [fspec[x][1] for x in ("keynumidx", "firstkey", "keystep")] == [0, 1, 1]:
        e = "ks::keynum(%d, %s)" % (bspec["index"][1], flags)
    else:
        begin = ("Begin::Index(%d)" % bspec["index"][1] if bt == "index" else
                 "Begin::Keyword { keyword: %s, startfrom: %d }" % (json.dumps(S(bspec["keyword"])),
                                                                    bspec["startfrom"][1]) if bt == "keyword" else
                 "Begin::Unknown")
        find = ("Find::Range { lastkey: %d, step: %d, limit: %d }" % (
            fspec["lastkey"][1], fspec["keystep"][1], fspec["limit"][1]) if ft == "range" else
            "Find::KeyNum { idx: %d, first: %d, step: %d }" % (
                fspec["keynumidx"][1], fspec["firstkey"][1], fspec["keystep"][1]) if ft == "keynum" else
            "Find::Unknown")
        e = "ks::spec(%s, ks::%s, ks::%s)" % (flags, begin, find)
    if "notes" in d:
        e += ".notes(%s)" % TODO
    return e


def row(conn, name, ind):
    info = conn.cmd("COMMAND", "INFO", name)[1][0][1]
    (_, docs), = conn.cmd("COMMAND", "DOCS", name)[1]
    docs = m2d(docs)
    p = " " * ind
    flags = [S(f) for f in info[2][1]]
    first, last, step = info[3][1], info[4][1], info[5][1]
    keys = "KeySpec::NONE" if first == 0 else "KeySpec::ONE" if (first, last, step) == (1, 1, 1) else \
        "KeySpec::range(%d, %d, %d)" % (first, last, step)
    if "movablekeys" in flags:
        keys += " /* TODO: movable keys; KeySpec::numkeys(at) for a count */"
    subs = [S(e[1][0]) for e in info[9][1]]
    out = [p + "CommandSpec {",
           p + "    name: %s," % json.dumps(name),
           p + "    arity: %d," % info[1][1],
           p + "    flags: %s," % (" | ".join(FLAGS[f] for f in flags if f in FLAGS) or "0"),
           p + "    keys: %s," % keys,
           p + "    handler: %s," % ("super::container" if subs else "TODO_handler"),
           p + "    subcommands: %s," % ("&[\n" + "".join(row(conn, s, ind + 8) + ",\n" for s in sorted(subs)) +
                                        p + "    ]" if subs else "&[]"),
           p + "    doc: &Doc {",
           p + "        summary: %s," % TODO,
           p + "        complexity: %s," % TODO]
    tips = [S(t) for t in info[7][1]]
    if tips:
        out.append(p + "        tips: &[%s]," % ", ".join(json.dumps(t) for t in tips))
    if info[8][1]:
        out.append(p + "        key_specs: &[")
        out += [p + "            %s," % key_spec(k) for k in info[8][1]]
        out.append(p + "        ],")
    if "arguments" in docs:
        out.append(p + "        args: &[")
        out += [p + "            %s," % arg(a, ind + 12) for a in docs["arguments"][1]]
        out.append(p + "        ],")
    if "history" in docs:
        out.append(p + "        history: &[")
        out += [p + "            (%s, %s)," % (json.dumps(S(e[1][0])), TODO) for e in docs["history"][1]]
        out.append(p + "        ],")
    if "doc_flags" in docs:
        out.append(p + "        doc_flags: %s," % " | ".join(
            "meta::doc_flags::" + S(f).upper() for f in docs["doc_flags"][1]))
    if "deprecated_since" in docs:
        out.append(p + "        deprecated_since: Some(%s)," % json.dumps(S(docs["deprecated_since"])))
    if "replaced_by" in docs:
        out.append(p + "        replaced_by: Some(%s)," % TODO)
    cats = [S(c)[1:] for c in info[6][1]]
    declared = " | ".join("acl::" + c.upper() for c in cats if c not in implied(flags)) or "0"
    group = S(docs["group"])
    out.append(p + "        ..Doc::new(Group::%s, %s, %s)" % (
        GROUPS.get(group, group.capitalize()), json.dumps(S(docs["since"])), declared))
    out.append(p + "    },")
    out.append(p + "}")
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    conn = cap.Conn(int(sys.argv[1]))
    conn.cmd("HELLO", "3")
    print(row(conn, sys.argv[2].lower(), 4) + ",")


if __name__ == "__main__":
    main()
