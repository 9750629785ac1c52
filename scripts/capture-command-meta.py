#!/usr/bin/env python3
"""Captures Valkey's COMMAND INFO and COMMAND DOCS replies for every command ferrokey implements into
tests/data/valkey-command-meta.txt, which tests/command.rs compares ferrokey's replies with.

Usage: scripts/capture-command-meta.py VALKEY_PORT FERROKEY_PORT
  against a running Valkey 9.1 and a running ferrokey (which says which commands it implements).

Each command and subcommand gets four lines: INFO and DOCS, each in RESP2 and RESP3, rendered in one compact
notation (tests/command.rs renders ours the same way):
  "bulk"  +"simple"  42 (integer)  _ (null)  [array]  ~[set]  {map: key "k" value ...}
Valkey orders subcommands by a per-process hash seed, so both sides list them sorted by name; a
container lists only the subcommands ferrokey implements (each of which has its own lines too).
Then, for consistency of the rest of COMMAND: `NAME getkeysandflags ARGV REPLY` for calls of every
command with key specifications, at its arity and with up to 3 more arguments (a count where a key
specification expects one), and `@CATEGORY list - REPLY`: COMMAND LIST FILTERBY ACLCAT, restricted
to the implemented commands and sorted.
Prose is not facts: summaries, complexities, history texts, argument summaries, key-spec notes and
replaced_by are replaced by <prose>, so only their presence is compared.
"""
import json
import socket
import sys

PROSE_KEYS = {"summary", "complexity", "notes", "replaced_by"}


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def read(self):
        line = self.f.readline()
        t, r = line[:1], line[1:-2]
        if t in (b"*", b"~", b"%", b">"):
            n = int(r)
            if n < 0:
                return ("null",)
            if t == b"%":
                return ("map", [(self.read(), self.read()) for _ in range(n)])
            kind = {b"*": "array", b"~": "set", b">": "push"}[t]
            return (kind, [self.read() for _ in range(n)])
        if t == b"$":
            n = int(r)
            if n < 0:
                return ("null",)
            return ("bulk", self.f.read(n + 2)[:-2].decode())
        if t == b":":
            return ("int", int(r))
        if t == b"+":
            return ("simple", r.decode())
        if t == b"_":
            return ("null",)
        if t == b"-":
            return ("error", r.decode())
        raise RuntimeError("unexpected reply type %r" % line)

    def cmd(self, *args):
        a = [x.encode() for x in args]
        self.s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
        return self.read()


def s(v):
    return v[1] if v[0] in ("bulk", "simple") else None


def mask(v, prose_key=False):
    """Replaces prose values (by the key that names them) with <prose>."""
    kind = v[0]
    if prose_key and kind in ("bulk", "simple"):
        return (kind, "<prose>")
    if kind == "map":
        out = []
        for k, x in v[1]:
            key = s(k)
            if key == "history":
                x = mask_history(x)
            else:
                x = mask(x, key in PROSE_KEYS)
            out.append((k, x))
        return ("map", out)
    if kind in ("array", "set"):
        # RESP2 maps are flat arrays: mask the value after a prose key (keys
        # sit at even positions).
        items = list(v[1])
        out = []
        i = 0
        while i < len(items):
            x = items[i]
            key = s(x)
            if i % 2 == 0 and key in PROSE_KEYS and i + 1 < len(items) and items[i + 1][0] in ("bulk", "simple"):
                out += [x, (items[i + 1][0], "<prose>")]
                i += 2
                continue
            if i % 2 == 0 and key == "history" and i + 1 < len(items) and items[i + 1][0] in ("array", "set"):
                out += [x, mask_history(items[i + 1])]
                i += 2
                continue
            out.append(mask(x))
            i += 1
        return (kind, out)
    return v


def mask_history(v):
    """history is an array of [version, text] pairs: the version is a fact."""
    if v[0] not in ("array", "set"):
        return mask(v)
    return (v[0], [("array", [e[1][0], (e[1][1][0], "<prose>")]) if e[0] == "array" and len(e[1]) == 2
                      else mask(e) for e in v[1]])


def sort_subcommands(v):
    """Sorts subcommand lists by name: DOCS' "subcommands" map (a flat array in RESP2) and the
    tenth element of an INFO entry."""
    kind = v[0]
    if kind == "map":
        return ("map", [(k, sort_map_value(s(k), sort_subcommands(x))) for k, x in v[1]])
    if kind in ("array", "set"):
        items = [sort_subcommands(x) for x in v[1]]
        for i in range(0, len(items) - 1, 2):
            if s(items[i]) == "subcommands":
                items[i + 1] = sort_map_value("subcommands", items[i + 1])
        if kind == "array" and len(items) == 10 and items[0][0] == "bulk" and items[1][0] == "int":
            items[9] = ("array", sorted(items[9][1], key=lambda e: e[1][0][1]))
        return (kind, items)
    return v


def sort_map_value(key, x):
    if key != "subcommands":
        return x
    if x[0] == "map":
        return ("map", sorted(x[1], key=lambda kv: kv[0][1]))
    if x[0] == "array":
        pairs = sorted(zip(x[1][::2], x[1][1::2]), key=lambda kv: kv[0][1])
        return ("array", [e for kv in pairs for e in kv])
    return x


def only_implemented(v, names):
    """Drops the subcommands ferrokey does not implement from a (sorted) reply."""
    kind = v[0]
    if kind == "map":
        return ("map", [(k, keep_subs(s(k), only_implemented(x, names), names)) for k, x in v[1]])
    if kind in ("array", "set"):
        items = [only_implemented(x, names) for x in v[1]]
        for i in range(0, len(items) - 1, 2):
            if s(items[i]) == "subcommands":
                items[i + 1] = keep_subs("subcommands", items[i + 1], names)
        if kind == "array" and len(items) == 10 and items[0][0] == "bulk" and items[1][0] == "int":
            items[9] = ("array", [e for e in items[9][1] if e[1][0][1] in names])
        return (kind, items)
    return v


def keep_subs(key, x, names):
    if key != "subcommands":
        return x
    if x[0] == "map":
        return ("map", [kv for kv in x[1] if kv[0][1] in names])
    if x[0] == "array":
        pairs = [kv for kv in zip(x[1][::2], x[1][1::2]) if kv[0][1] in names]
        return ("array", [e for kv in pairs for e in kv])
    return x


def render(v):
    kind = v[0]
    if kind == "bulk":
        return json.dumps(v[1])
    if kind == "simple":
        return "+" + json.dumps(v[1])
    if kind == "int":
        return str(v[1])
    if kind == "null":
        return "_"
    if kind == "error":
        return "-" + json.dumps(v[1])
    if kind == "array":
        return "[" + " ".join(render(x) for x in v[1]) + "]"
    if kind == "set":
        return "~[" + " ".join(render(x) for x in v[1]) + "]"
    if kind == "map":
        return "{" + " ".join(render(k) + " " + render(x) for k, x in v[1]) + "}"
    raise ValueError(kind)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    valkey = Conn(int(sys.argv[1]))
    ours = Conn(int(sys.argv[2]))
    names = sorted(s(x) for x in ours.cmd("COMMAND", "LIST")[1])
    v3 = Conn(int(sys.argv[1]))
    v3.cmd("HELLO", "3")
    out = ["# Valkey %s COMMAND INFO / DOCS / GETKEYSANDFLAGS / LIST for the commands ferrokey implements;" % s(
        valkey.cmd("INFO", "server")).split("valkey_version:")[1].split()[0],
        "# written by scripts/capture-command-meta.py, compared by tests/command.rs. Prose is masked."]
    for n in names:
        for kind in ("INFO", "DOCS"):
            for proto, c in (("2", valkey), ("3", v3)):
                reply = only_implemented(sort_subcommands(mask(c.cmd("COMMAND", kind, n))), set(names))
                out.append("%s %s %s %s" % (n, kind.lower(), proto, render(reply)))
    implemented = set(names)
    for n in names:
        info = valkey.cmd("COMMAND", "INFO", n)[1][0][1]
        arity, specs = info[1][1], info[8][1]
        if not specs:
            continue
        keynums = []
        for spec in specs:
            d = dict((s(k), x) for k, x in zip(spec[1][::2], spec[1][1::2]))
            bs, fk = d["begin_search"][1], d["find_keys"][1]
            if s(fk[1]) == "keynum" and s(bs[1]) == "index":
                keynums.append(bs[3][1][1][1])  # begin_search: type index spec {index N}
        for argc in range(abs(arity), abs(arity) + 4) if arity < 0 else [arity]:
            argv = n.split("|") + ["a%d" % i for i in range(len(n.split("|")), argc)]
            for at in keynums:
                if at < argc:
                    argv[at] = str(min(2, argc - at - 1))
            reply = valkey.cmd("COMMAND", "GETKEYSANDFLAGS", *argv)
            out.append("%s getkeysandflags %s %s" % (n, json.dumps(argv, separators=(",", ":")), render(reply)))
    for cat in sorted(s(c) for c in valkey.cmd("ACL", "CAT")[1]):
        listed = sorted(x for x in (s(c) for c in valkey.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", cat)[1])
                        if x in implemented)
        out.append("@%s list - %s" % (cat, render(("array", [("bulk", x) for x in listed]))))
    path = "tests/data/valkey-command-meta.txt"
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("%d commands written to %s" % (len(names), path))


if __name__ == "__main__":
    main()
