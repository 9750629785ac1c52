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
    ferrokey::util::clock::init();
    let cli = Cli::parse();
    if cli.version {
        println!(
            "ferrokey-server v={} (redis_version {})",
            ferrokey::VERSION,
            ferrokey::REDIS_COMPAT_VERSION
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
            // Valkey's report (it starts with its own blank line).
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = ferrokey::log::init(&config.loglevel, &config.logfile) {
        eprintln!("Can't open the log file: {e}");
        return ExitCode::from(1);
    }
    // Valkey's first lines, in its words (tools wait for some of them).
    tracing::info!("oO0OoO0OoO0Oo ferrokey is starting oO0OoO0OoO0Oo");
    tracing::info!(
        "ferrokey version={}, bits={}, commit=00000000, modified=0, pid={}, just started",
        ferrokey::VERSION,
        usize::BITS,
        std::process::id()
    );
    if cli.rest.is_empty() {
        let me = std::env::args()
            .next()
            .unwrap_or_else(|| "ferrokey-server".into());
        tracing::warn!(
            "Warning: no config file specified, using the default config. In order to specify a config file use {me} /path/to/valkey.conf"
        );
    } else {
        tracing::info!("Configuration loaded");
    }
    match ferrokey::startup::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
