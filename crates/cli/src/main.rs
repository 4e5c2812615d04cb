//! `chokepoint`: the command-line front end. Argument parsing, printing and exit codes
//! only; everything a batch runner or a test needs lives in the library crates.
//!
//! Exit codes: 0 success, 1 the run failed (an accounting check, a plugin), 2 bad input
//! (a world file or an argument), so scripts can tell a broken setup from a broken run.

mod batch;
mod export;
mod fork;
mod new_agent;
mod run;
mod scenarios;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "chokepoint",
    version,
    about = "Multi-agent simulator of trade negotiation over critical minerals"
)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a world headless and write per-tick tables as CSV.
    Run(RunArgs),
    /// Check a world file and report every problem with its place.
    Validate {
        /// The world file (TOML).
        world: PathBuf,
    },
    /// Re-run a logged run from its recorded actions, without plugins, checking every
    /// tick's state digest against the log.
    Replay {
        /// The run log (run.log in a run's output directory).
        log: PathBuf,
        /// Stop after this tick.
        #[arg(long, value_name = "TICK")]
        to: Option<u64>,
        /// Worker threads (default: one per core). A full replay verifies the
        /// segments between snapshots in parallel; the result is the same whatever
        /// the count.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Continue a logged run from tick T with a changed strategy or parameter, writing
    /// a new log and tables ("what if").
    Fork(ForkArgs),
    /// Where and how two logged runs diverge: first tick, largest price and flow
    /// differences.
    Diff {
        a: PathBuf,
        b: PathBuf,
        /// How many of the largest differences to list.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Plots of a logged run (PNG and SVG) and an index.html with its provenance.
    Report {
        /// The run log.
        log: PathBuf,
        /// Directory for the plots and index.html.
        #[arg(long, default_value = "report")]
        out: PathBuf,
    },
    /// Run every scenario file of a directory with its strategies and print a table of
    /// headline outcomes (prices inside and outside China, shares, shortages, stockpiles)
    Scenarios(scenarios::ScenariosArgs),
    /// Tidy tables of a logged run (prices, flows, production, shortages, policies,
    /// stockpiles, events, actions, welfare, clearing) as Parquet or CSV, replayed and
    /// verified, with the run's provenance.
    Export {
        /// The run log.
        log: PathBuf,
        /// File format of the tables.
        #[arg(long, default_value = "parquet", value_parser = parse_format)]
        format: chokepoint_export::Format,
        /// Directory for the tables and manifest.json.
        #[arg(long, default_value = "export")]
        out: PathBuf,
    },
    /// Scaffold a new strategy crate (a plugin) that builds and loads unchanged.
    NewAgent {
        /// The strategy's name (lowercase, digits, dashes), as world files will bind it.
        name: String,
        /// Directory to create the crate in (default: this checkout's agents/).
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// The chokepoint SDK to depend on, for crates outside the workspace (default:
        /// this checkout's crates/sdk).
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
    },
    /// Run a parameter sweep headless on all cores (resumable, shardable), or merge
    /// shard outputs (`batch merge`).
    Batch(batch::BatchArgs),
    /// Every assignment of strategies to roles, with seeds; ranks the strategies.
    Tournament(batch::TournamentArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The world file (TOML).
    pub world: PathBuf,
    /// Number of ticks to run (a tick is a month in the bundled world).
    #[arg(long, default_value_t = 120)]
    pub ticks: u64,
    /// Run seed: every random stream is derived from it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory for the output tables.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Where to write the run log (default: OUT/run.log).
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// A directory to look for strategy plugins in (repeatable; searched before
    /// CHOKEPOINT_AGENT_PATH and the directory of this executable).
    #[arg(long = "agents", value_name = "DIR")]
    pub agents: Vec<PathBuf>,
    /// What a strategy's failure during the run does: stop the run, or stop that
    /// nation's strategy and go on.
    #[arg(long, value_enum, default_value_t = OnPluginError::Abort)]
    pub on_plugin_error: OnPluginError,
    /// Write a snapshot of the engine state to the log every K ticks, for
    /// `replay --to` to seek from (default: five years of ticks; 0: none).
    #[arg(long, value_name = "K")]
    pub snapshot_every: Option<u64>,
    /// Size of the worker thread pool (default: one per core). The log and tables are
    /// identical whatever it is; it is recorded in the log's header.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct ForkArgs {
    /// The parent run's log.
    pub log: PathBuf,
    /// First tick at which the changed strategies act (earlier ticks replay the parent).
    #[arg(long)]
    pub at: u64,
    /// Change a nation's strategy: NATION=STRATEGY ("none" removes it). Repeatable.
    #[arg(long, value_name = "NATION=STRATEGY")]
    pub strategy: Vec<String>,
    /// Change a strategy parameter: NATION.KEY=VALUE (VALUE in TOML). Repeatable.
    #[arg(long, value_name = "NATION.KEY=VALUE")]
    pub param: Vec<String>,
    /// Total ticks of the new run (default: as many as the parent was asked for).
    #[arg(long)]
    pub ticks: Option<u64>,
    /// Directory for the new run's tables and log.
    #[arg(long, default_value = "fork")]
    pub out: PathBuf,
    /// Directories to look for strategy plugins in.
    #[arg(long = "agents", value_name = "DIR")]
    pub agents: Vec<PathBuf>,
    /// Stop a failing strategy and go on instead of stopping the run.
    #[arg(long)]
    pub skip_agent: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPluginError {
    Abort,
    SkipAgent,
}

/// An error the binary reports, with the exit code it maps to.
pub enum Failure {
    BadInput(String),
    Run(String),
}

fn init_tracing(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Run(args) => {
            run::set_threads(args.threads).and_then(|()| run::run(&args, cli.quiet))
        }
        Command::Validate { world } => validate(&world),
        Command::Replay { log, to, threads } => {
            run::set_threads(threads).and_then(|()| run::replay(&log, to))
        }
        Command::Fork(args) => fork::fork(&args),
        Command::Report { log, out } => report(&log, &out),
        Command::Diff { a, b, top } => fork::diff(&a, &b, top),
        Command::Scenarios(args) => scenarios::scenarios(&args),
        Command::Export { log, format, out } => export::export(&log, format, &out),
        Command::NewAgent { name, path, sdk } => {
            new_agent::new_agent(&name, path.as_deref(), sdk.as_deref())
        }
        Command::Batch(args) => batch::batch(&args, cli.quiet),
        Command::Tournament(args) => batch::tournament(&args, cli.quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
        Err(Failure::Run(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn parse_format(s: &str) -> Result<chokepoint_export::Format, String> {
    s.parse()
}

fn report(log: &std::path::Path, out: &std::path::Path) -> Result<(), Failure> {
    let r = chokepoint_report::report(log, out).map_err(|e| match e {
        chokepoint_report::ReportError::Log(_) => {
            Failure::BadInput(format!("error: {}: {e}", log.display()))
        }
        e => Failure::Run(format!("{}: {e}", log.display())),
    })?;
    if let Some(why) = &r.log_stopped {
        eprintln!(
            "warning: the log is cut or damaged ({why}); the report covers the whole records before it"
        );
    }
    println!(
        "{} plots of {} ticks; open {}",
        r.images.len(),
        r.ticks,
        r.index_html.display()
    );
    Ok(())
}

fn validate(path: &std::path::Path) -> Result<(), Failure> {
    let world = chokepoint_world::load(path).map_err(|e| Failure::BadInput(e.to_string()))?;
    println!(
        "{}: ok: world `{}`, {} commodities, {} markets, {} nations, {} firms, {} scripted events",
        path.display(),
        world.name,
        world.commodities.len(),
        world.markets.len(),
        world.nations.len(),
        world.firms.len(),
        world.events.len()
    );
    Ok(())
}
