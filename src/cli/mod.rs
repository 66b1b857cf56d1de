//! The command line: arguments become validated settings in one step, then a command runs.
//!
//! Thin by design: every decision about Kubernetes lives in the library stages; this module wires
//! them together, writes to the chosen output and returns an exit code. Errors are returned to
//! `main`, which alone prints them.

mod stats;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::{self, LoadOptions};
use crate::finding::Level;
use crate::load::WalkOptions;
use crate::{graph, report};
use stats::Stats;

#[derive(Debug, Parser)]
#[command(
    name = "kubereach",
    version,
    about = "Who can reach what in your Kubernetes manifests, and where that exposure is a gap",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the reachability graph: which workload can open a connection to which, on which ports
    Graph(GraphArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Files or folders to analyse (default: the current folder)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Leave out paths matching this glob (gitignore syntax); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Namespace of objects that name none
    #[arg(long, value_name = "NS", default_value = "default")]
    pub default_namespace: String,
    /// Files larger than this many bytes are reported and not read
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Print time and peak memory of each stage to standard error
    #[arg(long, hide = true)]
    pub stats: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// The connectivity list: `SRC => DST : CONNS`
    Txt,
    /// The same edges with peers, protocols and port ranges structured
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Txt)]
    pub format: GraphFormat,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error("cannot write {what}: {source}")]
    Write { what: String, source: io::Error },
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// Parses the arguments and runs the command.
pub fn run<I, T>(args: I) -> Result<ExitCode, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are successes; usage errors exit 2, as clap prints them.
            let _ = e.print();
            return Ok(if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS });
        }
    };
    match cli.command {
        Command::Graph(args) => run_graph(args),
    }
}

fn load_options(common: &CommonArgs, keep_text: bool) -> LoadOptions {
    LoadOptions {
        walk: WalkOptions { excludes: common.exclude.clone(), max_file_size: common.max_file_size },
        default_namespace: common.default_namespace.clone(),
        keep_text,
    }
}

fn paths_or_cwd(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, CliError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n.max(1));
    }
    builder.build().map_err(|e| CliError::Threads(e.to_string()))
}

fn open_output(path: Option<&PathBuf>) -> Result<Box<dyn Write>, CliError> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(p).map_err(|source| CliError::Write { what: p.display().to_string(), source })?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
    })
}

/// A write error on standard output that is a closed pipe (`kubereach graph | head`) is not an
/// error of kubereach.
fn finish_write(result: io::Result<()>, what: &str) -> Result<(), CliError> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(CliError::Write { what: what.to_string(), source }),
    }
}

fn run_graph(args: GraphArgs) -> Result<ExitCode, CliError> {
    let pool = thread_pool(args.common.threads)?;
    let mut stats = Stats::new(args.common.stats);
    let paths = paths_or_cwd(&args.common.paths);
    let options = load_options(&args.common, false);
    let started = Instant::now();
    let loaded = pool.install(|| analysis::load(&paths, &options))?;
    stats.stage("load", started, Some((loaded.bytes_read, loaded.objects)));
    let started = Instant::now();
    let graph = graph::build(&loaded.model);
    stats.stage("graph", started, None);

    let mut diagnostics: Vec<_> = loaded.findings.iter().chain(graph.findings.iter()).cloned().collect();
    report::sort_findings(&mut diagnostics, &loaded.files);
    diagnostics.retain(|f| f.level >= Level::Warning);
    let stderr = io::stderr();
    let _ = report::write_compact(&diagnostics, &loaded.files, &mut stderr.lock());

    let started = Instant::now();
    let mut out = open_output(args.output.as_ref())?;
    let written = match args.format {
        GraphFormat::Txt => report::graph::write_txt(&graph, &mut out),
        GraphFormat::Json => report::graph::write_json(&graph, &loaded.model, &loaded.files, &mut out),
    }
    .and_then(|()| out.flush());
    finish_write(written, "the graph")?;
    stats.stage("report", started, None);
    stats.finish(graph.edges.len(), graph.classes.len(), graph.peers.len());
    Ok(ExitCode::SUCCESS)
}
