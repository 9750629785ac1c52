//! The LATENCY command: the latency monitor's events (LATEST, HISTORY,
//! RESET), their ASCII graph (GRAPH) and a plain-language report (DOCTOR),
//! and the per-command latency histograms (HISTOGRAM).
//!
//! The data lives in `exec::latency` (events) and `exec::histogram`
//! (per-command distributions); this file formats it as Valkey does.

use std::fmt::Write as _;

use super::flags::*;
use super::meta::{arg, Doc, Group};
use super::server::reply_help;
use super::{CommandSpec, Ctx, KeySpec, CMD_TABLE};
use crate::config::Config;
use crate::error::{CmdError, CmdResult};
use crate::state::latency::{self, LatencyMonitor, Series};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "latency",
    arity: -2,
    flags: 0,
    keys: KeySpec::NONE,
    handler: super::container,
    subcommands: &[
        CommandSpec {
            name: "latency|doctor",
            arity: 2,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_doctor,
            subcommands: &[],
            doc: &Doc {
                summary: "Writes a report on the recorded latency, with advice.",
                complexity: "O(1)",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_nodes",
                    "response_policy:special",
                ],
                ..Doc::new(Group::Server, "2.8.13", 0)
            },
        },
        CommandSpec {
            name: "latency|graph",
            arity: 3,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_graph,
            subcommands: &[],
            doc: &Doc {
                summary: "Draws an event's recorded latency as text.",
                complexity: "O(1)",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_nodes",
                    "response_policy:special",
                ],
                args: &[arg::string("event")],
                ..Doc::new(Group::Server, "2.8.13", 0)
            },
        },
        CommandSpec {
            name: "latency|help",
            arity: 2,
            flags: LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_help,
            subcommands: &[],
            doc: &Doc {
                summary: "Lists the subcommands and what they do.",
                complexity: "O(1)",
                ..Doc::new(Group::Server, "2.8.13", 0)
            },
        },
        CommandSpec {
            name: "latency|histogram",
            arity: -2,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_histogram,
            subcommands: &[],
            doc: &Doc {
                summary: "Reports per-command latency histograms.",
                complexity: "O(N), N commands reported.",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_nodes",
                    "response_policy:special",
                ],
                args: &[arg::string("command").optional().multiple()],
                ..Doc::new(Group::Server, "7.0.0", 0)
            },
        },
        CommandSpec {
            name: "latency|history",
            arity: 3,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_history,
            subcommands: &[],
            doc: &Doc {
                summary: "Gets an event's recorded (time, latency) samples.",
                complexity: "O(1)",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_nodes",
                    "response_policy:special",
                ],
                args: &[arg::string("event")],
                ..Doc::new(Group::Server, "2.8.13", 0)
            },
        },
        CommandSpec {
            name: "latency|latest",
            arity: 2,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_latest,
            subcommands: &[],
            doc: &Doc {
                summary: "Reports each event's latest and worst latency.",
                complexity: "O(1)",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_nodes",
                    "response_policy:special",
                ],
                ..Doc::new(Group::Server, "2.8.13", 0)
            },
        },
        CommandSpec {
            name: "latency|reset",
            arity: -2,
            flags: ADMIN | NOSCRIPT | LOADING | STALE,
            keys: KeySpec::NONE,
            handler: latency_reset,
            subcommands: &[],
            doc: &Doc {
                summary: "Forgets the recorded latency of some or all events.",
                complexity: "O(1)",
                tips: &["request_policy:all_nodes", "response_policy:agg_sum"],
                args: &[arg::string("event").optional().multiple()],
                ..Doc::new(Group::Server, "2.8.13", 0)
            },
        },
    ],
    doc: &Doc {
        summary: "LATENCY subcommands: the latency monitor.",
        complexity: "Depends on the subcommand.",
        ..Doc::new(Group::Server, "2.8.13", 0)
    },
}];

/// Columns of LATENCY GRAPH; a longer history wraps into further blocks.
const GRAPH_COLUMNS: usize = 80;
/// Text rows of the graph itself (each holds three heights).
const GRAPH_ROWS: usize = 4;

// ---------------------------------------------------------------- LATEST, HISTORY, RESET

fn latency_latest(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.admin();
    let out = &mut *a.out;
    let m = &a.state.latency;
    out.array(m.len());
    for (event, s) in m.iter() {
        let last = s.latest();
        // Sum and count came with Valkey 8.1, after the original four.
        out.array(6);
        out.bulk(event.as_bytes());
        out.int(last.time);
        out.int(clamp_i64(last.ms));
        out.int(clamp_i64(s.max));
        out.int(clamp_i64(s.sum));
        out.int(clamp_i64(s.count));
    }
    Ok(())
}

fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn latency_history(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.admin();
    let out = &mut *a.out;
    let Some((_, s)) = a.state.latency.get(&a.argv[2]) else {
        out.array(0);
        return Ok(());
    };
    out.array(s.samples().count());
    for sample in s.samples() {
        out.array(2);
        out.int(sample.time);
        out.int(clamp_i64(sample.ms));
    }
    Ok(())
}

fn latency_reset(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.admin();
    let m = &mut a.state.latency;
    let n = if a.argv.len() == 2 {
        m.reset(None)
    } else {
        a.argv[2..].iter().map(|e| m.reset(Some(e))).sum()
    };
    a.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------- GRAPH

fn latency_graph(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.admin();
    let Some((event, s)) = a.state.latency.get(&a.argv[2]) else {
        return Err(CmdError::owned(format!(
            "ERR No samples available for event '{}'",
            crate::error::excerpt(&a.argv[2], 128)
        )));
    };
    let text = graph(event, s, latency::unix_secs());
    a.out.verbatim(text.as_bytes());
    Ok(())
}

/// How long ago, as a graph label: `12s`, `3m`, `5h`, `2d`.
fn ago(secs: i64) -> String {
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else if secs < 86400 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}d", secs / 86400)
    }
}

/// LATENCY GRAPH's text: a title with the range of the samples, a rule,
/// then one column per sample, labelled with how long ago it was.
fn graph(event: &str, s: &Series, now: i64) -> String {
    let points: Vec<(f64, String)> = s
        .samples()
        .map(|p| (p.ms as f64, ago(now - p.time)))
        .collect();
    let low = s.samples().map(|p| p.ms).min().unwrap_or(0);
    let high = s.samples().map(|p| p.ms).max().unwrap_or(0);
    let mut g = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n",
        s.max
    );
    g.push_str(&"-".repeat(GRAPH_COLUMNS));
    g.push('\n');
    sparkline(&mut g, &points, GRAPH_COLUMNS, GRAPH_ROWS);
    g
}

/// Draws `points` as filled columns of `rows` text rows, scaled between
/// the smallest and largest value, each row worth three heights (`_`,
/// `o`, `#`; `|` fills below the top); then, after one blank row, each
/// point's label written downwards. Blocks of `columns` points follow one
/// another, separated by an empty line (the format of Valkey's sparklines).
fn sparkline(out: &mut String, points: &[(f64, String)], columns: usize, rows: usize) {
    const MARKS: [char; 3] = ['_', 'o', '#'];
    let steps = MARKS.len() * rows;
    let min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let span = if max - min == 0.0 { 1.0 } else { max - min };
    // The height of each point, in steps from the bottom.
    let height = |v: f64| -> usize {
        // Truncations in this order reproduce Valkey's rounding exactly.
        let scaled = (((v - min) * steps as f64) as i64) as f64 / span;
        (scaled as i64).clamp(0, steps as i64 - 1) as usize
    };
    let labelled = points.iter().any(|p| !p.1.is_empty());
    for (block, chunk) in points.chunks(columns.max(1)).enumerate() {
        if block > 0 {
            out.push('\n');
        }
        for row in 0..rows {
            // Heights this row draws: below them it is filled, above empty.
            let base = (rows - row - 1) * MARKS.len();
            for p in chunk {
                let h = height(p.0);
                out.push(match h.checked_sub(base) {
                    Some(i) if i < MARKS.len() => MARKS[i],
                    Some(_) => '|',
                    None => ' ',
                });
            }
            out.push('\n');
        }
        if !labelled {
            continue;
        }
        out.extend(std::iter::repeat_n(' ', chunk.len()));
        out.push('\n');
        let longest = chunk.iter().map(|p| p.1.len()).max().unwrap_or(0);
        for i in 0..longest {
            for p in chunk {
                out.push(p.1.as_bytes().get(i).map_or(' ', |&b| b as char));
            }
            out.push('\n');
        }
    }
}

// ---------------------------------------------------------------- DOCTOR

fn latency_doctor(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.admin();
    let report = doctor_report(
        &a.state.latency,
        &a.state.config,
        latency::unix_secs(),
        anon_huge_pages(),
    );
    a.out.verbatim(report.as_bytes());
    Ok(())
}

/// Bytes of this process's memory in transparent huge pages.
fn anon_huge_pages() -> u64 {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup")
        .or_else(|_| std::fs::read_to_string("/proc/self/smaps"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|r| r.split_whitespace().next()?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Advice a report may end with, in the order it is given.
#[derive(Default)]
struct Advice {
    slowlog_off: bool,
    slowlog_threshold: bool,
    slowlog_read: bool,
    cpu_starved: bool,
    raise_hz: bool,
    large_values: bool,
    huge_pages: bool,
}

/// LATENCY DOCTOR's report: each event's figures, then advice for the
/// causes this server can have. Opening lines and per-event lines are in
/// Valkey's format.
fn doctor_report(m: &LatencyMonitor, cfg: &Config, now: i64, huge_page_bytes: u64) -> String {
    let threshold = cfg.latency_monitor_threshold;
    if m.is_empty() && threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Valkey \
                instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in \
                order to enable it.\n"
            .to_string();
    }
    let mut r = String::new();
    let mut a = Advice::default();
    let mut advices = 0;
    for (n, (event, s)) in m.iter().enumerate() {
        if n == 0 {
            r.push_str("Latency spikes are observed in this Valkey instance.\n\n");
        }
        let st = s.stats(now);
        let _ = writeln!(
            r,
            "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). \
             Worst all time event {}ms.",
            n + 1,
            st.samples,
            st.avg,
            st.mad,
            st.period as f64 / st.samples.max(1) as f64,
            s.max
        );
        match event {
            latency::COMMAND => {
                let slow = cfg.slowlog_log_slower_than;
                if slow < 0 || cfg.slowlog_max_len == 0 {
                    a.slowlog_off = true;
                    advices += 1;
                } else if slow as u64 / 1000 > threshold {
                    a.slowlog_threshold = true;
                    advices += 1;
                }
                a.slowlog_read = true;
                a.large_values = true;
                advices += 2;
            }
            latency::FAST_COMMAND => {
                a.cpu_starved = true;
                advices += 1;
            }
            latency::EXPIRE_CYCLE => {
                a.raise_hz = true;
                a.large_values = true;
                advices += 2;
            }
            _ => {}
        }
    }
    if huge_page_bytes > 0 {
        a.huge_pages = true;
        advices += 1;
    }
    if m.is_empty() && advices == 0 {
        r.push_str(
            "No latency spike was observed during the lifetime of this Valkey instance, not in \
             the slightest bit.\n",
        );
        return r;
    }
    if advices == 0 {
        r.push_str(
            "\nThere are latency events logged that are not easy to fix. Please get some help, \
             providing this report in your help request.\n",
        );
        return r;
    }
    r.push_str("\nHere is some advice for you:\n\n");
    let usec = threshold.saturating_mul(1000);
    if a.slowlog_off {
        let _ = writeln!(
            r,
            "- Commands are causing latency spikes, but the slow log is off, so nothing tells \
             which ones. Turn it on with 'CONFIG SET slowlog-log-slower-than {usec}' (and a \
             slowlog-max-len above 0)."
        );
    }
    if a.slowlog_threshold {
        let _ = writeln!(
            r,
            "- The slow log only records commands slower than {} ms, above the latency monitor \
             threshold of {threshold} ms, so it misses spikes the monitor sees. Use 'CONFIG SET \
             slowlog-log-slower-than {usec}'.",
            cfg.slowlog_log_slower_than / 1000
        );
    }
    if a.slowlog_read {
        r.push_str(
            "- Read the slow log (SLOWLOG GET) to find which commands, with which arguments, take \
             too long to run. See https://valkey.io/commands/slowlog for more information.\n",
        );
    }
    if a.cpu_starved {
        r.push_str(
            "- Commands flagged as fast (constant or logarithmic time) took long to run, which \
             usually means the server process did not get the CPU when it needed it. You should \
             try to:\n  1) Lower the load of the machine.\n  2) Keep other busy programs off the \
             machine or VM that runs the server.\n  3) Check for a \"noisy neighbour\" on shared \
             hardware.\n  4) Measure the machine's own latency with 'valkey-cli \
             --intrinsic-latency 100' (or redis-cli).\n",
        );
    }
    if a.raise_hz && cfg.hz < 100 {
        r.push_str(
            "- Active expiry runs in steps, 'hz' times a second: with 'CONFIG SET hz 100' each \
             step is shorter, so expiring many keys stalls clients less.\n",
        );
    }
    if a.large_values {
        r.push_str(
            "- Deleting or expiring a value with very many elements blocks the server while it is \
             freed, unless it is freed in the background (the lazyfree-lazy-* options). Keep \
             those on, or split very large values into several smaller keys.\n",
        );
    }
    if a.huge_pages {
        let _ = writeln!(
            r,
            "- This process has {} kB of memory in transparent huge pages, which cause latency \
             spikes when the kernel allocates or compacts them. Turn them off with 'echo never > \
             /sys/kernel/mm/transparent_hugepage/enabled' (make it permanent in the boot \
             configuration), then restart the server: pages already made stay until then.",
            huge_page_bytes / 1024
        );
    }
    r
}

// ---------------------------------------------------------------- HISTOGRAM

fn latency_histogram(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.admin();
    let hs = &a.state.stats.histograms;
    let picked: Vec<usize> = if a.argv.len() == 2 {
        hs.iter().map(|(id, _)| id).collect()
    } else {
        // Each name in turn, unknown ones skipped and repeats kept, as
        // Valkey does; a container brings its subcommands.
        let mut v = Vec::new();
        for name in &a.argv[2..] {
            let Some(id) = CMD_TABLE.find_full(name) else {
                continue;
            };
            let ids = std::iter::once(id).chain(CMD_TABLE.subcommands_of(id));
            v.extend(ids.filter(|&i| hs.get(i).is_some()));
        }
        v
    };
    let out = &mut *a.out;
    out.map(picked.len());
    for id in picked {
        let Some(h) = hs.get(id) else {
            continue;
        };
        out.bulk(CMD_TABLE.specs[id].name.as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(clamp_i64(h.total()));
        out.bulk(b"histogram_usec");
        let buckets = h.cumulative_usec();
        out.map(buckets.len());
        for (usec, count) in buckets {
            out.int(clamp_i64(usec));
            out.int(clamp_i64(count));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- HELP

fn latency_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(samples: &[(i64, u64)]) -> Series {
        let mut s = Series::default();
        for &(t, ms) in samples {
            s.add(t, ms);
        }
        s
    }

    #[test]
    fn graph_of_one_sample() {
        // What Valkey prints for one 50 ms spike 6 seconds ago.
        let s = series(&[(1000, 50)]);
        let want = format!(
            "command - high 50 ms, low 50 ms (all time high 50 ms)\n{}\n \n \n \n_\n \n6\ns\n",
            "-".repeat(80)
        );
        assert_eq!(graph("command", &s, 1006), want);
    }

    #[test]
    fn graph_matches_valkey_for_the_same_history() {
        // HISTORY and GRAPH taken from Valkey 9.1 at Unix second 1900.
        let s = series(&[
            (1891, 20),
            (1892, 100),
            (1893, 50),
            (1895, 300),
            (1896, 200),
            (1897, 7),
            (1898, 150),
        ]);
        let want = format!(
            "command - high 300 ms, low 7 ms (all time high 300 ms)\n{}\n   #   \n   |o  \n _ || #\n_|o||_|\n       \n9875432\nsssssss\n",
            "-".repeat(80)
        );
        assert_eq!(graph("command", &s, 1900), want);
    }

    #[test]
    fn graph_scales_between_low_and_high() {
        // 101..500 ms over 12 heights: 0, 5, 11 (clamped), 9 and 2 steps.
        let s = series(&[(100, 101), (104, 300), (108, 500), (110, 401), (111, 200)]);
        let g = graph("command", &s, 115);
        let body: Vec<&str> = g.lines().skip(2).collect();
        assert_eq!(
            body,
            vec![
                "  #_ ", // heights 9..11
                "  || ", // 6..8
                " #|| ", // 3..5
                "_|||#", // 0..2
                "     ", "11754", // 15s, 11s, 7s, 5s, 4s ago
                "51sss", "ss   ",
            ]
        );
        assert!(g.starts_with("command - high 500 ms, low 101 ms (all time high 500 ms)\n"));
    }

    #[test]
    fn graph_wraps_after_80_columns_and_labels_units() {
        let samples: Vec<(i64, u64)> = (0..100).map(|i| (1 + i, 10 + i as u64)).collect();
        let s = series(&samples);
        let g = graph("expire-cycle", &s, 50_001);
        let lines: Vec<&str> = g.lines().collect();
        // Title, rule, then per block: 4 rows, a blank row, 3 label rows
        // ("13h"), with an empty line between the blocks.
        assert_eq!(lines.len(), 2 + 8 + 1 + 8);
        assert_eq!(lines[2].len(), 80);
        assert_eq!(lines[10], "");
        assert_eq!(lines[11].len(), 20);
        assert_eq!(&lines[7][..3], "111");
        assert_eq!(&lines[8][..3], "333");
        assert_eq!(&lines[9][..3], "hhh");
        assert_eq!(ago(59), "59s");
        assert_eq!(ago(60), "1m");
        assert_eq!(ago(7200), "2h");
        assert_eq!(ago(3 * 86400), "3d");
    }

    #[test]
    fn doctor_when_disabled_or_quiet() {
        let mut cfg = Config::default();
        let m = LatencyMonitor::default();
        let r = doctor_report(&m, &cfg, 100, 0);
        assert!(r.starts_with("I'm sorry, Dave, I can't do that."), "{r}");
        cfg.latency_monitor_threshold = 1;
        let r = doctor_report(&m, &cfg, 100, 0);
        assert!(r.starts_with("No latency spike was observed"), "{r}");
        let r = doctor_report(&m, &cfg, 100, 2048 * 1024);
        assert!(r.contains("Here is some advice for you:"), "{r}");
        assert!(r.contains("2048 kB"), "{r}");
    }

    #[test]
    fn doctor_reports_events_and_their_advice() {
        let mut cfg = Config {
            latency_monitor_threshold: 1,
            ..Config::default()
        };
        let mut m = LatencyMonitor::default();
        m.add(latency::COMMAND, 90, 50);
        m.add(latency::COMMAND, 95, 150);
        m.add(latency::EXPIRE_CYCLE, 99, 30);
        let r = doctor_report(&m, &cfg, 100, 0);
        assert!(r.starts_with("Latency spikes are observed in this Valkey instance.\n\n1. command: 2 latency spikes (average 100ms, mean deviation 50ms, period 5.00 sec). Worst all time event 150ms.\n2. expire-cycle: 1 latency spikes"), "{r}");
        // Default slow log (10 ms) is above the 1 ms threshold.
        assert!(
            r.contains("'CONFIG SET slowlog-log-slower-than 1000'"),
            "{r}"
        );
        assert!(r.contains("SLOWLOG GET"), "{r}");
        assert!(r.contains("'CONFIG SET hz 100'"), "{r}");
        assert!(!r.contains("fast (constant"), "{r}");
        cfg.slowlog_log_slower_than = -1;
        cfg.hz = 100;
        let r = doctor_report(&m, &cfg, 100, 0);
        assert!(r.contains("slow log is off"), "{r}");
        assert!(!r.contains("CONFIG SET hz"), "{r}");
        // An event without advice of its own.
        let mut m = LatencyMonitor::default();
        m.add(latency::COMMAND_UNBLOCKING, 99, 3);
        let r = doctor_report(&m, &cfg, 100, 0);
        assert!(r.contains("not easy to fix"), "{r}");
    }
}
