//! `ferrokey-check-aof`: checks (and with `--fix` or
//! `--truncate-to-timestamp`, repairs) an append-only file, as Valkey's
//! `valkey-check-aof` does. The work is in `ferrokey::persist::aof_check`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let tool = ferrokey::persist::aof_check::Tool {
        version: ferrokey::VERSION,
        log_time: ferrokey::log::timestamp,
    };
    let code = ferrokey::persist::aof_check::run(&tool, &args, &mut out, &mut input);
    let _ = out.flush();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
