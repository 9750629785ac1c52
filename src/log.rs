//! Log lines in Valkey's layout, so tools and test suites that read Valkey's
//! log read ours: `pid:M 06 Dec 2026 19:07:49.949 * message`.
//!
//! The role character is always `M` (ferrokey forks no children and has no
//! replicas); the level characters are Valkey's: `.` debug, `-` verbose,
//! `*` notice, `#` warning. `tracing` levels map onto them (TRACE debug,
//! DEBUG verbose, INFO notice, WARN and ERROR warning). `loglevel` can change
//! at run time (CONFIG SET): the filter reads an atomic, and a change makes
//! tracing ask its call sites again (they cache the answer). Colour is used
//! only when the log goes to a terminal; a file or a pipe gets plain text.
//! Events with the target [`RAW`] are written as they are, with no prefix
//! (the ASCII logo, as Valkey's `LL_RAW`). A log file is opened for each
//! line, as Valkey does, so rotation by moving the file just works.

use std::fmt;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Valkey's verbosity levels, in order.
const DEBUG: u8 = 0;
const VERBOSE: u8 = 1;
const NOTICE: u8 = 2;
const WARNING: u8 = 3;
const NOTHING: u8 = 4;

static VERBOSITY: AtomicU8 = AtomicU8::new(NOTICE);

/// The target of events written without the line prefix.
pub const RAW: &str = "ferrokey::raw";

fn level_of_name(name: &str) -> u8 {
    match name {
        "debug" => DEBUG,
        "verbose" => VERBOSE,
        "notice" => NOTICE,
        "warning" => WARNING,
        _ => NOTHING,
    }
}

/// Applies a `loglevel` value (debug, verbose, notice, warning, nothing).
pub fn set_level(name: &str) {
    let old = VERBOSITY.swap(level_of_name(name), Ordering::Relaxed);
    if old != level_of_name(name) {
        // Call sites cache whether they are enabled: ask them again.
        tracing::callsite::rebuild_interest_cache();
    }
}

fn verbosity_of(level: &Level) -> u8 {
    match *level {
        Level::TRACE => DEBUG,
        Level::DEBUG => VERBOSE,
        Level::INFO => NOTICE,
        _ => WARNING,
    }
}

/// Whether an event at `level` is logged under the current `loglevel`.
pub fn enabled(level: &Level) -> bool {
    verbosity_of(level) >= VERBOSITY.load(Ordering::Relaxed)
}

/// Valkey's level character.
fn level_char(level: &Level) -> char {
    match verbosity_of(level) {
        DEBUG => '.',
        VERBOSE => '-',
        NOTICE => '*',
        _ => '#',
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `06 Dec 2026 19:07:49.949` in local time, as Valkey's
/// `strftime("%d %b %Y %H:%M:%S.")` plus milliseconds (C locale names).
pub fn timestamp(now: std::time::SystemTime) -> String {
    let d = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    // SAFETY: localtime_r only writes the `tm` we pass; a zeroed tm is a
    // valid value of this plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return format!("{}.{:03}", d.as_secs(), d.subsec_millis());
    }
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        d.subsec_millis()
    )
}

/// Formats one event as a Valkey log line.
struct ValkeyFormat {
    pid: u32,
    color: bool,
}

impl<S, N> FormatEvent<S, N> for ValkeyFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != RAW {
            let level = meta.level();
            let ch = level_char(level);
            write!(
                w,
                "{}:M {} ",
                self.pid,
                timestamp(std::time::SystemTime::now())
            )?;
            if self.color {
                // Warnings red, notices green, the rest dim.
                let code = match ch {
                    '#' => "31",
                    '*' => "32",
                    _ => "2",
                };
                write!(w, "\x1b[{code}m{ch}\x1b[0m ")?;
            } else {
                write!(w, "{ch} ")?;
            }
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// The log file, opened for each line as Valkey does, so a log rotated
/// away (moved, then a new file made) is followed at once.
struct ReopenEachLine(std::path::PathBuf);

/// Where one line goes: the file, or nowhere if it cannot be opened now.
enum LogOut {
    File(std::fs::File),
    Lost,
}

impl std::io::Write for LogOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            LogOut::File(f) => f.write(buf),
            LogOut::Lost => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            LogOut::File(f) => f.flush(),
            LogOut::Lost => Ok(()),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ReopenEachLine {
    type Writer = LogOut;

    fn make_writer(&'a self) -> LogOut {
        match open_log(&self.0) {
            Ok(f) => LogOut::File(f),
            Err(_) => LogOut::Lost,
        }
    }
}

/// Sets up logging from `loglevel` and `logfile` (`""` is stdout). Fails
/// when the log file cannot be opened.
pub fn init(loglevel: &str, logfile: &str) -> std::io::Result<()> {
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    set_level(loglevel);
    let pid = std::process::id();
    let filter = filter_fn(|m| enabled(m.level()));
    if logfile.is_empty() {
        let color = std::io::stdout().is_terminal();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(color)
            .event_format(ValkeyFormat { pid, color })
            .with_writer(std::io::stdout)
            .with_filter(filter);
        let _ = tracing_subscriber::registry().with(layer).try_init();
    } else {
        // Fail now, as Valkey does, if the file cannot be opened.
        open_log(std::path::Path::new(logfile))?;
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .event_format(ValkeyFormat { pid, color: false })
            .with_writer(ReopenEachLine(logfile.into()))
            .with_filter(filter);
        let _ = tracing_subscriber::registry().with(layer).try_init();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_valkey() {
        set_level("warning");
        assert!(enabled(&Level::WARN) && enabled(&Level::ERROR));
        assert!(!enabled(&Level::INFO));
        set_level("verbose");
        assert!(enabled(&Level::DEBUG) && !enabled(&Level::TRACE));
        set_level("nothing");
        assert!(!enabled(&Level::ERROR));
        set_level("notice");
        assert_eq!(level_char(&Level::TRACE), '.');
        assert_eq!(level_char(&Level::DEBUG), '-');
        assert_eq!(level_char(&Level::INFO), '*');
        assert_eq!(level_char(&Level::ERROR), '#');
    }

    #[test]
    fn timestamp_layout() {
        let t = timestamp(std::time::SystemTime::now());
        // "06 Dec 2026 19:07:49.949"
        let b = t.as_bytes();
        assert_eq!(b.len(), 24, "{t}");
        assert!(b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b' ');
        assert!(MONTHS.contains(&&t[3..6]), "{t}");
        assert_eq!((b[11], b[14], b[17], b[20]), (b' ', b':', b':', b'.'));
    }
}
