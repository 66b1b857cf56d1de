//! The command line: arguments become validated settings in one step, then a command runs.
//!
//! Thin by design: every decision about Kubernetes lives in the library stages; this module wires
//! them together, writes to the chosen output and returns an exit code. Errors are returned to
//! `main`, which alone prints them.

mod stats;
mod watch;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::io::IsTerminal;

use crate::config::{self, Config, FailOn};
use crate::finding::Level;
use crate::load::WalkOptions;
use crate::model::build::{self, LoadOptions};
use crate::result::{self, RuleSettings};
use crate::rules;
use crate::{graph, report};
use stats::Stats;

#[derive(Debug, Parser)]
#[command(
    name = "kubereach",
    version = crate::VERSION,
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
    /// Find exposure gaps and broken network configuration (the main job)
    Check(CheckArgs),
    /// Print the reachability graph: which workload can open a connection to which, on which ports
    Graph(GraphArgs),
    /// Why a connection is allowed or denied: the policies and rules of each side
    Explain(ExplainArgs),
    /// List the rules, or print one rule's documentation
    Rules(RulesArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Source snippets with labels, grouped by file, and a summary (colour on a terminal)
    Human,
    /// SARIF 2.1.0, for GitHub code scanning and editors
    Sarif,
    /// kubereach's JSON report (schema in the README)
    Json,
    /// GitHub Actions workflow annotations
    Github,
    /// A summary for a pull-request comment: exposures first, then connections added and removed
    Markdown,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Write the report to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this level is reported [default: warning]
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Run only these rules (ids, or `all`); repeatable or comma-separated
    #[arg(long, value_name = "RULE-ID", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules; repeatable or comma-separated
    #[arg(long, value_name = "RULE-ID", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Report only findings absent from this earlier JSON or SARIF result
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// SARIF `automationDetails.id` category, so that several scans of one repository do not collide
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,
    /// Report only what the working tree adds over this git revision (read from git objects)
    #[arg(long, value_name = "GIT_REF")]
    pub diff_base: Option<String>,
    /// Check again whenever a manifest or the configuration changes (re-reading only what changed)
    #[arg(long)]
    pub watch: bool,
    /// Report only findings located in these files, still analysing the whole repository (PATHs,
    /// default: the repository root) for context; for pre-commit, which appends the file names
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub only_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// The rule to document (omit to list every rule)
    #[arg(value_name = "RULE-ID")]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Files or folders to analyse (default: the current folder)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Leave out paths matching this glob (gitignore syntax); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Namespace of objects that name none [default: default]
    #[arg(long, value_name = "NS")]
    pub default_namespace: Option<String>,
    /// Configuration file (default: `.kubereach.yaml` in the first PATH or its parents)
    #[arg(long, value_name = "FILE", global = false)]
    pub config: Option<PathBuf>,
    /// Files larger than this many bytes are reported and not read
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Cluster profile: generic, aks-azure-cni, aks-kubenet, aks-calico, aks-cilium [default: generic]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Print time and peak memory of each stage to standard error
    #[arg(long, hide = true)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The source: `namespace/name[Kind]` (or `namespace/name`), a CIDR or range, `{internet}` or `{ingress-controller}`
    #[arg(long, value_name = "PEER")]
    pub from: String,
    /// The destination, written like `--from`
    #[arg(long, value_name = "PEER")]
    pub to: String,
    /// Ask about one port: `8080/TCP` (TCP when no protocol is given)
    #[arg(long, value_name = "PORT[/PROTO]")]
    pub port: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// The connectivity list: `SRC => DST : CONNS`
    Txt,
    /// The same edges with peers, protocols and port ranges structured
    Json,
    /// A Graphviz DOT picture: namespaces as clusters, connections labelled with their ports
    Dot,
    /// A Mermaid flowchart of the same picture, for Markdown pages
    Mermaid,
    /// One self-contained, offline HTML page to explore the graph: search, click to highlight
    Html,
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
    /// Print the connections the working tree adds (`+`) and removes (`-`) over this git revision
    #[arg(long, value_name = "GIT_REF")]
    pub diff_base: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("unknown rule `{0}` (see `kubereach rules`)")]
    UnknownRule(String),
    #[error("cannot read baseline `{path}`: {message}")]
    Baseline { path: String, message: String },
    #[error("cannot write {what}: {source}")]
    Write { what: String, source: io::Error },
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    #[error("{0}")]
    Peer(#[from] crate::graph::explain::PartyError),
    #[error("`--port {0}`: expected a port number and an optional protocol, e.g. 8080/TCP")]
    Port(String),
    #[error("--diff-base: {0}")]
    Git(#[from] crate::load::git::GitError),
    #[error("--watch: {0}")]
    Watch(String),
    #[error("default namespace `{0}` is not a namespace name (lowercase letters, digits and `-`, at most 63)")]
    Namespace(String),
    #[error("--diff-base prints connections as `txt` or `json`, not `{0}`")]
    DiffFormat(String),
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
        Command::Check(args) => run_check(args),
        Command::Graph(args) => run_graph(args),
        Command::Explain(args) => run_explain(args),
        Command::Rules(args) => run_rules(args),
    }
}

/// The configuration that applies: `--config`, else the one discovered from the first path.
fn configuration(common: &CommonArgs, paths: &[PathBuf]) -> Result<Config, CliError> {
    let path = match &common.config {
        Some(p) => Some(p.clone()),
        None => paths.first().and_then(|p| config::discover(p)),
    };
    Ok(match path {
        Some(p) => config::load(&p)?,
        None => Config::default(),
    })
}

fn load_options(common: &CommonArgs, config: &Config, keep_text: bool) -> Result<LoadOptions, CliError> {
    // Configuration patterns are relative to the configuration's folder, as in a .gitignore.
    let anchored_excludes = match (&config.path, config.exclude.is_empty()) {
        (Some(path), false) => {
            let base = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
            let base = std::fs::canonicalize(&base).unwrap_or(base);
            Some((base, config.exclude.clone()))
        }
        _ => None,
    };
    let default_namespace = common
        .default_namespace
        .clone()
        .or_else(|| config.default_namespace.clone())
        .unwrap_or_else(|| "default".to_string());
    // A namespace name is a DNS label: lowercase letters, digits and `-`, 63 at most.
    let valid = !default_namespace.is_empty()
        && default_namespace.len() <= 63
        && default_namespace.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !default_namespace.starts_with('-')
        && !default_namespace.ends_with('-');
    if !valid {
        return Err(CliError::Namespace(default_namespace));
    }
    Ok(LoadOptions {
        walk: WalkOptions { excludes: common.exclude.clone(), anchored_excludes, max_file_size: common.max_file_size },
        default_namespace,
        keep_text,
        source: crate::load::FileSource::Disk,
    })
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

/// The first two stages, timed: the repository loaded and its reachability graph.
fn load_and_build(
    pool: &rayon::ThreadPool,
    paths: &[PathBuf],
    options: &LoadOptions,
    profile: &crate::profile::Profile,
    stats: &mut Stats,
) -> Result<(build::Loaded, graph::Graph), CliError> {
    let started = Instant::now();
    let loaded = pool.install(|| build::load(paths, options))?;
    stats.stage("load", started, Some((loaded.bytes_read, loaded.objects)));
    let started = Instant::now();
    let graph = graph::build_with(&loaded.model, profile);
    stats.stage("graph", started, None);
    Ok((loaded, graph))
}

/// The settings and the first two stages, as `graph` and `explain` run them.
struct Analysed {
    pool: rayon::ThreadPool,
    stats: Stats,
    paths: Vec<PathBuf>,
    options: LoadOptions,
    profile: crate::profile::Profile,
    loaded: build::Loaded,
    graph: graph::Graph,
}

fn analyse(common: &CommonArgs) -> Result<Analysed, CliError> {
    let pool = thread_pool(common.threads)?;
    let mut stats = Stats::new(common.stats);
    let paths = paths_or_cwd(&common.paths);
    let config = configuration(common, &paths)?;
    let options = load_options(common, &config, false)?;
    let profile = config.resolve_profile(common.profile.as_deref())?;
    let (loaded, graph) = load_and_build(&pool, &paths, &options, &profile, &mut stats)?;
    Ok(Analysed { pool, stats, paths, options, profile, loaded, graph })
}

fn run_graph(args: GraphArgs) -> Result<ExitCode, CliError> {
    let Analysed { pool, mut stats, paths, options, profile, loaded, graph } = analyse(&args.common)?;
    print_input_problems(&loaded, &graph);

    if let Some(base) = &args.diff_base {
        let base_graph = base_graph(&pool, base, &paths, &options, &profile)?;
        let changes = crate::graph::diff::edge_changes(&base_graph, &graph);
        let mut out = open_output(args.output.as_ref())?;
        let written = match args.format {
            GraphFormat::Txt => report::graph::write_changes_txt(&changes, &mut out),
            GraphFormat::Json => report::graph::write_changes_json(&changes, base, &mut out),
            other => return Err(CliError::DiffFormat(format!("{other:?}").to_lowercase())),
        };
        finish_write(written.and_then(|()| out.flush()), "the connection changes")?;
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let mut out = open_output(args.output.as_ref())?;
    let written = match args.format {
        GraphFormat::Txt => report::graph::write_txt(&graph, &mut out),
        GraphFormat::Json => report::graph::write_json(&graph, &loaded.model, &loaded.files, &mut out),
        GraphFormat::Dot => report::picture::write_dot(&graph, &internet_entries(&loaded, &graph), &mut out),
        GraphFormat::Mermaid => report::picture::write_mermaid(&graph, &internet_entries(&loaded, &graph), &mut out),
        GraphFormat::Html => report::picture::write_html(&graph, &internet_entries(&loaded, &graph), &mut out),
    };
    let edges = *written.as_ref().unwrap_or(&0);
    finish_write(written.and_then(|_| out.flush()), "the graph")?;
    stats.stage("report", started, None);
    stats.finish(edges, graph.classes.len(), graph.peers.len());
    Ok(ExitCode::SUCCESS)
}

/// Problems of the input (broken manifests, dangling backends) at warning level and above, on
/// standard error, for the commands whose standard output is an answer rather than a report: the
/// answer holds without the objects they concern.
fn print_input_problems(loaded: &build::Loaded, graph: &graph::Graph) {
    let mut diagnostics = rules::input_findings(&rules::Context::new(loaded, graph));
    diagnostics.extend(graph.findings.iter().cloned());
    result::order::sort_findings(&mut diagnostics, &loaded.files);
    diagnostics.retain(|f| f.level >= Level::Warning);
    let stderr = io::stderr();
    let _ = report::write_compact(&diagnostics, &loaded.files, &mut stderr.lock());
}

/// The paths from the internet that pictures highlight: exactly what `internet-exposed-workload`
/// reports, at its level.
fn internet_entries(loaded: &build::Loaded, graph: &graph::Graph) -> Vec<report::picture::InternetEntry> {
    let cx = rules::Context::new(loaded, graph);
    let findings = rules::run(&cx, &|id: &str| id == "internet-exposed-workload");
    findings
        .iter()
        .filter_map(|f| {
            // The key's peer is `<peer name> <ports>`.
            let name = f.key.peer.split(' ').next().unwrap_or_default();
            let peer = graph.peers.iter().position(|p| p.name == name)?;
            // The key's field is `<field>:<entry kind>[:<route>]`.
            let kind = f.key.field.split(':').nth(1).unwrap_or_default();
            let object = &f.key.object;
            let label =
                if object.starts_with(&format!("{kind}/")) { object.clone() } else { format!("{kind} {object}") };
            Some(report::picture::InternetEntry { peer: peer as graph::PeerId, label, level: f.level })
        })
        .collect()
}

/// The graph of another revision: the same paths and settings, contents from git objects.
fn base_graph(
    pool: &rayon::ThreadPool,
    revision: &str,
    paths: &[PathBuf],
    options: &LoadOptions,
    profile: &crate::profile::Profile,
) -> Result<graph::Graph, CliError> {
    let (_, g) = load_base(pool, revision, paths, options, profile)?;
    Ok(g)
}

fn load_base(
    pool: &rayon::ThreadPool,
    revision: &str,
    paths: &[PathBuf],
    options: &LoadOptions,
    profile: &crate::profile::Profile,
) -> Result<(build::Loaded, graph::Graph), CliError> {
    let snapshot = crate::load::git::snapshot(revision, paths)?;
    let options = LoadOptions {
        source: crate::load::FileSource::Snapshot(std::sync::Arc::new(snapshot)),
        keep_text: true,
        ..options.clone()
    };
    let loaded = pool.install(|| build::load(paths, &options))?;
    let g = graph::build_with(&loaded.model, profile);
    Ok((loaded, g))
}

fn run_explain(args: ExplainArgs) -> Result<ExitCode, CliError> {
    let port = match &args.port {
        None => None,
        Some(p) => Some(report::explain::PortQuery::parse(p).ok_or_else(|| CliError::Port(p.clone()))?),
    };
    let Analysed { loaded, graph, .. } = analyse(&args.common)?;
    print_input_problems(&loaded, &graph);
    let from = graph.party(&args.from)?;
    let to = graph.party(&args.to)?;
    if !crate::graph::explain::Party::pair_supported(&from, &to) {
        return Err(crate::graph::explain::PartyError::Unsupported(args.from.clone(), args.to.clone()).into());
    }
    let explanation = graph.explain(&loaded.model, &from, &to);
    let mut out = open_output(None)?;
    let written = report::explain::write(&explanation, &graph, &loaded.model, &loaded.files, port, &mut out);
    let allowed = *written.as_ref().unwrap_or(&false);
    finish_write(written.map(|_| ()).and_then(|()| out.flush()), "the explanation")?;
    // Like `grep`: 0 when the connection is allowed, 1 when it is denied.
    Ok(if allowed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn check_rule_ids(ids: &[String]) -> Result<(), CliError> {
    match ids.iter().find(|id| *id != "all" && rules::find(id).is_none()) {
        Some(id) => Err(CliError::UnknownRule(id.clone())),
        None => Ok(()),
    }
}

/// The repository root for SARIF URIs: the nearest folder above `path` with a `.git`, else the
/// working directory.
fn repository_root(path: &std::path::Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let start = std::fs::canonicalize(path).unwrap_or_else(|_| cwd.join(path));
    let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
    while let Some(d) = dir {
        if d.join(".git").exists() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    cwd
}

fn run_check(args: CheckArgs) -> Result<ExitCode, CliError> {
    check_rule_ids(&args.select)?;
    check_rule_ids(&args.ignore)?;
    let pool = thread_pool(args.common.threads)?;
    if args.watch {
        return watch::run(&args, &pool);
    }
    check_once(&args, &pool, None)
}

/// One run of `check`. With a session (`--watch`), files unchanged since the previous run are not
/// read again; `modified` names the files known to have changed in place (empty: look at all).
fn check_once(
    args: &CheckArgs,
    pool: &rayon::ThreadPool,
    session: Option<(&mut build::Session, &[PathBuf])>,
) -> Result<ExitCode, CliError> {
    let mut stats = Stats::new(args.common.stats);
    // A few files from pre-commit still need the rest of the repository for context.
    let paths = if !args.only_files.is_empty() && args.common.paths.is_empty() {
        vec![repository_root(std::path::Path::new("."))]
    } else {
        paths_or_cwd(&args.common.paths)
    };
    let only_files = (!args.only_files.is_empty()).then(|| result::FileFilter::new(&args.only_files));
    let config = configuration(&args.common, &paths)?;
    let options = load_options(&args.common, &config, true)?;
    let baseline = match &args.baseline {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Baseline { path: path.display().to_string(), message: e.to_string() })?;
            Some(
                crate::result::baseline::parse(&text)
                    .map_err(|e| CliError::Baseline { path: path.display().to_string(), message: e.to_string() })?,
            )
        }
    };
    let settings = RuleSettings {
        select: if args.select.is_empty() { config.select.clone() } else { args.select.clone() },
        ignore: config.ignore.iter().chain(args.ignore.iter()).cloned().collect(),
        levels: config.levels.clone(),
    };
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::Warning);

    let profile = config.resolve_profile(args.common.profile.as_deref())?;
    let owned;
    let (loaded, graph): (&build::Loaded, graph::Graph) = match session {
        None => {
            let (loaded, graph) = load_and_build(pool, &paths, &options, &profile, &mut stats)?;
            owned = loaded;
            (&owned, graph)
        }
        Some((session, modified)) => {
            let started = Instant::now();
            let loaded = pool.install(|| session.reload(modified, &paths, &options))?;
            stats.stage("load", started, Some((loaded.bytes_read, loaded.objects)));
            let started = Instant::now();
            let graph = graph::build_with(&loaded.model, &profile);
            stats.stage("graph", started, None);
            (loaded, graph)
        }
    };
    let mut changes = None;
    let mut base_levels = None;
    if let Some(base) = &args.diff_base {
        // What the base revision already reports, at the same level or higher, is not new.
        let (base_loaded, base_graph) = load_base(pool, base, &paths, &options, &profile)?;
        base_levels = Some(pool.install(|| crate::result::diff::finding_levels(&base_loaded, &base_graph, &settings)));
        changes = Some(crate::graph::diff::edge_changes(&base_graph, &graph));
    }
    let started = Instant::now();
    let mut outcome =
        pool.install(|| result::run_for_files(loaded, &graph, &settings, baseline.as_ref(), only_files.as_ref()));
    if let Some(levels) = &base_levels {
        crate::result::diff::keep_new(&mut outcome, &loaded.files, levels);
    }
    stats.stage("rules", started, None);

    let started = Instant::now();
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
    // To a file, the report replaces the previous one at once: an editor watching it never reads
    // half a report.
    let mut buffer: Vec<u8> = Vec::new();
    let mut out: Box<dyn Write> = match &args.output {
        Some(_) => Box::new(&mut buffer),
        None => open_output(None)?,
    };
    let written = match args.format {
        CheckFormat::Human => report::human::write(&outcome, &loaded.files, color, &mut out),
        CheckFormat::Json => report::json::write(&outcome, &loaded.files, &mut out),
        CheckFormat::Github => report::github::write(&outcome, &loaded.files, &mut out),
        CheckFormat::Markdown => {
            report::markdown::write(&outcome, &loaded.files, changes.as_deref(), args.diff_base.as_deref(), &mut out)
        }
        CheckFormat::Sarif => {
            let options =
                report::sarif::SarifOptions { category: args.category.clone(), root: repository_root(&paths[0]) };
            report::sarif::write(&outcome, &loaded.files, &options, &mut out)
        }
    }
    .and_then(|()| out.flush());
    drop(out);
    let written = match &args.output {
        Some(path) => written.and_then(|()| write_atomically(path, &buffer)),
        None => written,
    };
    finish_write(written, "the report")?;
    stats.stage("report", started, None);
    stats.finish(outcome.findings.len(), graph.classes.len(), graph.peers.len());
    let failed = outcome.findings.iter().any(|f| fail_on.fails(f.level));
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Writes `bytes` to a sibling temporary file and renames it over `path`.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    // `--output .sarif/kubereach.sarif` in a fresh checkout: the folder is created.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut name = path.file_name().map(std::ffi::OsString::from).unwrap_or_default();
    name.push(".kubereach-tmp");
    let temporary = path.with_file_name(name);
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

fn run_rules(args: RulesArgs) -> Result<ExitCode, CliError> {
    let mut out = open_output(None)?;
    let written = match &args.id {
        None => {
            let width = rules::all().iter().map(|m| m.id.len()).max().unwrap_or(0);
            rules::all().iter().try_for_each(|m| {
                writeln!(out, "{:width$}  {:7}  {}", m.id, m.level.as_str(), m.summary, width = width)
            })
        }
        Some(id) => {
            let meta = rules::find(id).ok_or_else(|| CliError::UnknownRule(id.clone()))?;
            writeln!(
                out,
                "# {} ({})\n\nlevel: {}, security-severity: {}, precision: {}, tags: {}\n\n{}\n\n{}",
                meta.id,
                meta.name,
                meta.level.as_str(),
                meta.security_severity,
                meta.precision,
                meta.tags.join(", "),
                meta.summary,
                meta.body.trim_end()
            )
        }
    }
    .and_then(|()| out.flush());
    finish_write(written, "the rule list")?;
    Ok(ExitCode::SUCCESS)
}
