//! `ferrokey-server [config-file] [--directive value ...]`, as valkey-server.

use std::process::ExitCode;

use clap::Parser;

/// A Redis-protocol-compatible in-memory key-value server.
#[derive(Parser, Debug)]
#[command(
    name = "ferrokey-server",
    version,
    about,
    disable_help_flag = true,
    disable_version_flag = true
)]
struct Cli {
    /// Print help.
    #[arg(short = 'h', long = "help")]
    help: bool,
    /// Print the version.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// An optional config file, then `--directive value ...` options.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    ferrokey::alloc::configure();
    let cli = Cli::parse();
    if cli.version {
        println!(
            "ferrokey-server v={} (redis_version {})",
            ferrokey::server::VERSION,
            ferrokey::server::REDIS_COMPAT_VERSION
        );
        return ExitCode::SUCCESS;
    }
    if cli.help {
        println!(
            "Usage: ferrokey-server [/path/to/valkey.conf] [options]\n       ferrokey-server -v or --version\n       ferrokey-server -h or --help\n\nExamples:\n       ferrokey-server (run with built-in defaults on port 6379)\n       ferrokey-server /etc/valkey/valkey.conf\n       ferrokey-server --port 7777 --io-threads 4\n       ferrokey-server /etc/myvalkey.conf --loglevel verbose\n\nSee valkey.conf.example for the supported directives."
        );
        return ExitCode::SUCCESS;
    }
    let config = match ferrokey::config::load_args(&cli.rest) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG FILE ERROR ***\n{e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = init_logging(&config) {
        eprintln!("Can't open the log file: {e}");
        return ExitCode::from(1);
    }
    match ferrokey::server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

/// Maps `loglevel` and `logfile` onto tracing-subscriber.
fn init_logging(config: &ferrokey::config::Config) -> std::io::Result<()> {
    use tracing::Level;
    let level = match config.loglevel.as_str() {
        "debug" => Some(Level::DEBUG),
        "verbose" => Some(Level::DEBUG),
        "notice" => Some(Level::INFO),
        "warning" => Some(Level::WARN),
        _ => None,
    };
    let Some(level) = level else { return Ok(()) };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_thread_names(true);
    if config.logfile.is_empty() {
        builder.with_writer(std::io::stdout).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
}
