//! `chokepoint batch SPEC`, `chokepoint batch merge` and `chokepoint tournament SPEC`:
//! argument parsing and printing over crates/batch.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use chokepoint_batch::{BatchError, Options, Outcome, Progress, Shard};

use crate::Failure;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub merge: Option<BatchCommand>,
    /// The batch spec (TOML).
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Subcommand, Debug)]
pub enum BatchCommand {
    /// Join the outputs of `--shard I/N` runs into one table, checking that no run is
    /// missing or duplicated.
    Merge {
        /// The shard output directories.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Directory for the merged table.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// Output directory; rerunning into it resumes (finished runs are skipped).
    #[arg(long, default_value = "batch-out")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Run only shard I of N (runs whose index is I mod N), e.g. 3/8.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Also redo runs recorded as failed.
    #[arg(long)]
    pub retry_failed: bool,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    pub plain: bool,
}

impl CommonArgs {
    fn options(&self, quiet: bool) -> Result<Options, Failure> {
        Ok(Options {
            out: self.out.clone(),
            threads: self.threads,
            shard: match &self.shard {
                Some(s) => Shard::parse(s).map_err(bad)?,
                None => Shard::all(),
            },
            progress: if quiet {
                Progress::Off
            } else if self.plain {
                Progress::Lines
            } else {
                Progress::Auto
            },
            retry_failed: self.retry_failed,
            stop_after: None,
        })
    }
}

#[derive(Args, Debug)]
pub struct TournamentArgs {
    /// The tournament spec (TOML).
    pub spec: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn bad(e: BatchError) -> Failure {
    if e.is_bad_input() {
        Failure::BadInput(format!("error: {e}"))
    } else {
        Failure::Run(e.to_string())
    }
}

fn report(o: &Outcome, quiet: bool) -> Result<(), Failure> {
    if !quiet {
        println!(
            "{} runs planned, {} already done, {} run now in {:.1} s ({:.2} runs/s), {} failed",
            o.planned,
            o.skipped,
            o.ran,
            o.elapsed_s,
            o.ran as f64 / o.elapsed_s.max(1e-9),
            o.failed_total
        );
        println!(
            "results: {} and {}",
            o.results_csv.display(),
            o.results_parquet.display()
        );
    }
    if o.failed_total > 0 {
        return Err(Failure::Run(format!(
            "{} of {} runs failed; their errors are in the `error` column of {}",
            o.failed_total,
            o.planned,
            o.results_csv.display()
        )));
    }
    Ok(())
}

pub fn batch(args: &BatchArgs, quiet: bool) -> Result<(), Failure> {
    if let Some(BatchCommand::Merge { shards, out }) = &args.merge {
        let m = chokepoint_batch::merge(shards, out).map_err(bad)?;
        if !quiet {
            println!(
                "merged {} shards: {} runs, none missing or duplicated; {} and {}",
                m.shards,
                m.runs,
                m.results_csv.display(),
                m.results_parquet.display()
            );
        }
        if m.failed > 0 {
            return Err(Failure::Run(format!(
                "{} of {} runs failed",
                m.failed, m.runs
            )));
        }
        return Ok(());
    }
    let Some(spec) = &args.spec else {
        return Err(Failure::BadInput(
            "error: give a batch spec (chokepoint batch SPEC.toml) or `merge`".into(),
        ));
    };
    let spec = chokepoint_batch::Spec::load(spec).map_err(bad)?;
    let outcome = chokepoint_batch::run_batch(&spec, &args.common.options(quiet)?).map_err(bad)?;
    report(&outcome, quiet)
}

pub fn tournament(args: &TournamentArgs, quiet: bool) -> Result<(), Failure> {
    let t = chokepoint_batch::Tournament::load(&args.spec).map_err(bad)?;
    let opts = args.common.options(quiet)?;
    let (outcome, ranking) = t.run(&opts).map_err(bad)?;
    if !quiet {
        println!(
            "{} strategies x {} roles x {} seeds = {} runs",
            t.strategies.len(),
            t.roles.len(),
            t.spec.seeds.len(),
            outcome.planned
        );
        print!("{}", ranking.render());
        println!(
            "\nranking (means and 95% confidence intervals per metric): {}",
            opts.out.join("ranking.csv").display()
        );
    }
    report(&outcome, quiet)
}
