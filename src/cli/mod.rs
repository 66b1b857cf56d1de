//! The command line: arguments become validated settings in one step, then a command runs.
//!
//! Thin by design: every decision about Kubernetes lives in the library stages; this module wires
//! them together, writes to the chosen output and returns an exit code. Errors are returned to
//! `main`, which alone prints them.

mod stats;
mod suggest;
mod watch;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::io::IsTerminal;

use crate::config::FailOn;
use crate::finding::Level;
use crate::model::build;
use crate::result;
use crate::result::pipeline::{self, Checked, PipelineError, StageDone};
use crate::result::settings::{check_rule_ids, Requested, Settings, SettingsError};
use crate::rules;
use crate::{graph, report};
use stats::Stats;

/// Examples `--help` shows under each command: the first things a new user types.
const MAIN_EXAMPLES: &str = "\
Examples:
  kubereach check deploy/                         find the exposure gaps of a folder
  kubereach check -o kubereach.sarif              SARIF for code scanning (format from the extension)
  kubereach graph --format html -o graph.html     explore who reaches what in a browser
  kubereach explain --from shop-web/frontend --to shop-api/api --port 8080
  kubereach rules workload-not-isolated           what a rule finds and how to fix it";

const CHECK_EXAMPLES: &str = "\
Examples:
  kubereach check                                  the repository in the current folder
  kubereach check deploy/ --fail-on error          fail only on errors
  kubereach check --select internet-exposed-workload,public-load-balancer
  kubereach check -o report.sarif --category prod  SARIF, format inferred from the extension
  kubereach check --diff-base origin/main          only what the branch adds
  kubereach check --statistics                     counts per rule and level
  helm template web ./chart | kubereach check -    a rendered stream on standard input";

const GRAPH_EXAMPLES: &str = "\
Examples:
  kubereach graph deploy/                          the connectivity list
  kubereach graph -o graph.html                    one offline HTML page (format from the extension)
  kubereach graph --format dot | dot -Tsvg -o graph.svg
  kubereach graph --diff-base HEAD~1               the connections a commit opens and closes";

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  kubereach explain --from shop-web/frontend --to 'shop-api/api[Deployment]' --port 8080/TCP
  kubereach explain --from '{internet}' --to shop-web/promo --port http
  kubereach explain --from 10.0.0.0/8 --to shop-data/postgres";

#[derive(Debug, Parser)]
#[command(
    name = "kubereach",
    version = crate::VERSION,
    about = "Who can reach what in your Kubernetes manifests, and where that exposure is a gap",
    long_about = None,
    propagate_version = true,
    after_help = MAIN_EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find exposure gaps and broken network configuration (the main job)
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print the reachability graph: which workload can open a connection to which, on which ports
    #[command(after_help = GRAPH_EXAMPLES)]
    Graph(GraphArgs),
    /// Why a connection is allowed or denied: the policies and rules of each side
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// List the rules, or print one rule's documentation
    Rules(RulesArgs),
    /// Print a shell's completion script (`kubereach completions bash > ~/.local/share/bash-completion/completions/kubereach`)
    Completions(CompletionsArgs),
    /// Write NetworkPolicies that close the gaps while keeping what the manifests intend, proven by re-analysis
    Suggest(suggest::SuggestArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// When the human report is coloured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule, or a rule's documentation
    #[default]
    Text,
    /// The rules' metadata (and documentation) as JSON
    Json,
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
    /// Output format [default: from the extension of `-o` (.sarif, .json, .md), else human]
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// Write the report to this file instead of standard output (missing folders are created)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the findings only: no summary line, no notes on standard error
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the number of findings per rule and level instead of the findings (human format)
    #[arg(long)]
    pub statistics: bool,
    /// Colour the human report
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Code scanning's results-per-run limit, lowered (tests)
    #[arg(long, hide = true, value_name = "N")]
    pub sarif_max_results: Option<usize>,
    /// Code scanning's gzipped-size limit, lowered (tests)
    #[arg(long, hide = true, value_name = "BYTES")]
    pub sarif_max_gzip_bytes: Option<u64>,
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
    /// Output format
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Files or folders to analyse (default: the current folder); `-` reads a document stream
    /// from standard input (`helm template … | kubereach check -`)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Standard input's text, read once when a PATH is `-` (see [`CommonArgs::read_stdin`]).
    #[arg(skip)]
    pub stdin: Option<std::sync::Arc<String>>,
    /// Leave out paths matching this glob (gitignore syntax); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Namespace of objects that name none [default: default]
    #[arg(long, value_name = "NS")]
    pub default_namespace: Option<String>,
    /// Configuration file for every path (default: the `.kubereach.yaml` of each folder, found from each PATH upwards and below it)
    #[arg(long, value_name = "FILE", global = false)]
    pub config: Option<PathBuf>,
    /// Files larger than this many bytes are reported and not read
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    #[arg(long, value_name = "NAME", help = format!("Cluster profile: {} [default: generic]", crate::profile::built_in_names()))]
    pub profile: Option<String>,
    /// Read kustomizations and Helm charts as plain files instead of rendering them
    #[arg(long)]
    pub no_render: bool,
    /// Print time and peak memory of each stage to standard error
    #[arg(long, hide = true)]
    pub stats: bool,
    /// Analyse one scope (a rendered kustomization or chart, a scope the configuration declares);
    /// `graph` and `explain` list the scopes when there are several and this is missing
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The source: `namespace/name[Kind]` (or `namespace/name`), a CIDR or range, `{internet}` or `{ingress-controller}`
    #[arg(long, value_name = "PEER", required_unless_present = "expect", conflicts_with = "expect")]
    pub from: Option<String>,
    /// The destination, written like `--from`
    #[arg(long, value_name = "PEER", required_unless_present = "expect", conflicts_with = "expect")]
    pub to: Option<String>,
    /// Check one expectation of the configuration's `expect:`, by its position (from 1) or name
    #[arg(long, value_name = "N|NAME")]
    pub expect: Option<String>,
    /// Ask about one port: `8080/TCP` (TCP when no protocol is given), or a container port's
    /// name on the destination (`http`)
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
    /// Output format [default: from the extension of `-o` (.json, .dot, .mmd, .html), else txt]
    #[arg(long, value_enum)]
    pub format: Option<GraphFormat>,
    /// Write to this file instead of standard output (missing folders are created)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the connections the working tree adds (`+`) and removes (`-`) over this git revision
    #[arg(long, value_name = "GIT_REF")]
    pub diff_base: Option<String>,
    /// Draw one node per namespace, with the connections between them counted (dot, mermaid)
    #[arg(long, value_enum, value_name = "BY")]
    pub group: Option<GraphGroup>,
}

/// What `graph --group` folds the workloads into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphGroup {
    /// One node per namespace
    Namespace,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
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
    #[error("--diff-base prints connections as `txt` or `json`, not `{0}`")]
    DiffFormat(String),
    #[error("--group draws `dot` and `mermaid` pictures, not `{0}` (the `html` page opens on its namespace overview)")]
    GroupFormat(String),
    #[error("{0}")]
    Scope(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Expectation(String),
}

impl From<PipelineError> for CliError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Load(e) => CliError::Load(e),
            PipelineError::Revision(e) => CliError::Git(e),
            e @ (PipelineError::UnknownScope { .. } | PipelineError::ScopeNeeded { .. }) => {
                CliError::Scope(e.to_string())
            }
        }
    }
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
        Command::Check(mut args) => {
            args.common.read_stdin()?;
            run_check(args)
        }
        Command::Graph(mut args) => {
            args.common.read_stdin()?;
            run_graph(args)
        }
        Command::Explain(mut args) => {
            args.common.read_stdin()?;
            run_explain(args)
        }
        Command::Rules(args) => run_rules(args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut out = io::stdout().lock();
            clap_complete::generate(args.shell, &mut command, "kubereach", &mut out);
            finish_write(out.flush(), "the completion script")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Suggest(args) => suggest::run(args),
    }
}

/// The format a file's extension names, when `--format` is not given: `(extension, format)`
/// pairs of the command, and the extensions of the other command's formats, refused with a hint.
fn format_from_extension<F: Copy>(
    output: Option<&PathBuf>,
    own: &[(&str, F)],
    foreign: &[&str],
    command: &str,
) -> Result<Option<F>, CliError> {
    let Some(ext) = output.and_then(|p| p.extension()).and_then(|e| e.to_str()) else { return Ok(None) };
    let ext = ext.to_ascii_lowercase();
    if let Some((_, f)) = own.iter().find(|(e, _)| *e == ext) {
        return Ok(Some(*f));
    }
    if foreign.contains(&ext.as_str()) {
        return Err(CliError::Usage(format!(
            "`{command}` does not write `.{ext}`; give `--format`, or see `kubereach {command} --help` for its formats"
        )));
    }
    Ok(None)
}

impl CheckArgs {
    /// `--format`, else the format `-o`'s extension names, else human.
    fn format(&self) -> Result<CheckFormat, CliError> {
        if let Some(f) = self.format {
            return Ok(f);
        }
        let own = [
            ("sarif", CheckFormat::Sarif),
            ("json", CheckFormat::Json),
            ("md", CheckFormat::Markdown),
            ("markdown", CheckFormat::Markdown),
        ];
        Ok(format_from_extension(self.output.as_ref(), &own, &["html", "htm", "dot", "gv", "mmd", "mermaid"], "check")?
            .unwrap_or(CheckFormat::Human))
    }
}

impl GraphArgs {
    /// `--format`, else the format `-o`'s extension names, else txt.
    fn format(&self) -> Result<GraphFormat, CliError> {
        if let Some(f) = self.format {
            return Ok(f);
        }
        let own = [
            ("json", GraphFormat::Json),
            ("dot", GraphFormat::Dot),
            ("gv", GraphFormat::Dot),
            ("mmd", GraphFormat::Mermaid),
            ("mermaid", GraphFormat::Mermaid),
            ("html", GraphFormat::Html),
            ("htm", GraphFormat::Html),
            ("txt", GraphFormat::Txt),
        ];
        Ok(format_from_extension(self.output.as_ref(), &own, &["sarif", "md", "markdown"], "graph")?
            .unwrap_or(GraphFormat::Txt))
    }
}

/// The PATH that stands for standard input.
const STDIN_PATH: &str = "-";

impl CommonArgs {
    /// Reads standard input, once, when a PATH is `-`: every run of the command (each of
    /// `--watch`, were it allowed) then analyses the same text.
    fn read_stdin(&mut self) -> Result<(), CliError> {
        if self.stdin.is_none() && self.paths.iter().any(|p| p.as_os_str() == STDIN_PATH) {
            let text = crate::load::read_stdin(self.max_file_size)?;
            self.stdin = Some(std::sync::Arc::new(text));
        }
        Ok(())
    }

    /// What these options ask for; the command adds its own.
    fn requested(&self, keep_text: bool) -> Requested {
        Requested {
            paths: self.paths.iter().filter(|p| p.as_os_str() != STDIN_PATH).cloned().collect(),
            stdin: self.stdin.clone(),
            config: self.config.clone(),
            excludes: self.exclude.clone(),
            default_namespace: self.default_namespace.clone(),
            max_file_size: self.max_file_size,
            profile: self.profile.clone(),
            keep_text,
            scope: self.scope.clone(),
            no_render: self.no_render,
            ..Requested::default()
        }
    }
}

impl CheckArgs {
    fn requested(&self) -> Requested {
        Requested {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            fail_on: self.fail_on,
            baseline: self.baseline.clone(),
            only_files: self.only_files.clone(),
            diff_base: self.diff_base.clone(),
            ..self.common.requested(true)
        }
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
        Some(p) => Box::new(BufWriter::with_capacity(1 << 16, {
            let failed = |source| CliError::Write { what: p.display().to_string(), source };
            // `-o out/graph.html` in a fresh checkout: the folder is created, as for `check`.
            if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
                std::fs::create_dir_all(parent).map_err(failed)?;
            }
            File::create(p).map_err(failed)?
        })),
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

/// The settings and the first two stages, as `graph` and `explain` run them.
struct Analysed {
    pool: rayon::ThreadPool,
    stats: Stats,
    settings: Settings,
    analysis: pipeline::Analysis,
}

fn analyse(common: &CommonArgs) -> Result<Analysed, CliError> {
    let pool = thread_pool(common.threads)?;
    let mut stats = Stats::new(common.stats);
    let settings = Settings::resolve(&common.requested(false))?;
    let analysis = pool.install(|| pipeline::analyse(&settings, &mut |done| stats.stage(done)))?;
    Ok(Analysed { pool, stats, settings, analysis })
}

fn run_graph(args: GraphArgs) -> Result<ExitCode, CliError> {
    let format = args.format()?;
    // A page of script and data is not for reading in a terminal: it goes to a file or a pipe.
    if format == GraphFormat::Html && args.output.is_none() && io::stdout().is_terminal() {
        return Err(CliError::Usage(
            "the HTML page is not for a terminal: write it with `-o graph.html`, or pipe it".to_string(),
        ));
    }
    let Analysed { pool, mut stats, settings, analysis } = analyse(&args.common)?;
    let (loaded, scope, graph) = (&analysis.loaded, analysis.scope(), &analysis.graph);
    print_input_problems(loaded, scope, graph);
    note_if_nothing_analysed(&result::Analysed::of(loaded));

    if let Some(base) = &args.diff_base {
        let (base_loaded, base_graphs) = pool.install(|| pipeline::analyse_revision(&settings, base))?;
        let base_graph = base_loaded.scopes.iter().position(|s| s.name == scope.name).and_then(|i| base_graphs.get(i));
        let empty = graph::Graph::default();
        let changes = crate::graph::diff::edge_changes(base_graph.unwrap_or(&empty), graph);
        let mut out = open_output(args.output.as_ref())?;
        let written = match format {
            GraphFormat::Txt => report::graph::write_changes_txt(&changes, &mut out),
            GraphFormat::Json => report::graph::write_changes_json(&changes, base, &mut out),
            other => return Err(CliError::DiffFormat(format!("{other:?}").to_lowercase())),
        };
        finish_write(written.and_then(|()| out.flush()), "the connection changes")?;
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    if args.group.is_some() && !matches!(format, GraphFormat::Dot | GraphFormat::Mermaid) {
        return Err(CliError::GroupFormat(format!("{:?}", format).to_lowercase()));
    }
    let mut out = open_output(args.output.as_ref())?;
    let written = match format {
        GraphFormat::Dot if args.group == Some(GraphGroup::Namespace) => {
            report::picture::write_dot_by_namespace(graph, &internet_entries(scope, graph), &mut out)
        }
        GraphFormat::Mermaid if args.group == Some(GraphGroup::Namespace) => {
            report::picture::write_mermaid_by_namespace(graph, &internet_entries(scope, graph), &mut out)
        }
        GraphFormat::Txt => report::graph::write_txt(graph, &mut out),
        GraphFormat::Json => report::graph::write_json(graph, &scope.model, &loaded.files, &mut out),
        GraphFormat::Dot => report::picture::write_dot(graph, &internet_entries(scope, graph), &mut out),
        GraphFormat::Mermaid => report::picture::write_mermaid(graph, &internet_entries(scope, graph), &mut out),
        GraphFormat::Html => report::picture::write_html(graph, &internet_entries(scope, graph), &mut out),
    };
    let edges = *written.as_ref().unwrap_or(&0);
    finish_write(written.and_then(|_| out.flush()), "the graph")?;
    stats.stage(StageDone { name: "report", started, volume: None, took: None });
    stats.finish(edges, graph.classes.len(), graph.peers.len());
    release(analysis);
    Ok(ExitCode::SUCCESS)
}

/// Frees what a command computed on a thread of its own, which the process's exit does not wait
/// for: freeing the model and the graph of a large repository, object by object, takes a tenth
/// of a second at 100,000 objects and about a second at a million, after the output is complete.
/// If no thread can be started, it is freed here.
fn release<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new().name("release".to_string()).spawn(move || drop(value));
}

/// A note on standard error when the analysis found no object: an empty report must not pass
/// for a clean repository (a wrong path, an `--exclude` or a `.gitignore` that hides everything,
/// a folder of Helm charts). The exit code is left as it is.
fn note_if_nothing_analysed(analysed: &result::Analysed) {
    if analysed.objects == 0 {
        eprintln!(
            "kubereach: note: {}; files that .gitignore, --exclude or the configuration leave out are not read, \
             and Helm charts are rendered only where helm is installed",
            report::human::analysed(analysed)
        );
    }
}

/// Problems of the input (broken manifests, dangling backends) at warning level and above, on
/// standard error, for the commands whose standard output is an answer rather than a report: the
/// answer holds without the objects they concern.
fn print_input_problems(loaded: &build::Loaded, scope: &build::Scope, graph: &graph::Graph) {
    let mut diagnostics = rules::input_findings(&rules::Context::new(scope, graph));
    // Renderings that failed, in every scope: what the answer may be missing.
    for other in loaded.scopes.iter().filter(|s| !std::ptr::eq(*s, scope)) {
        diagnostics.extend(rules::render_failures(&rules::Context::new(other, graph)));
    }
    for f in &mut diagnostics {
        f.location = loaded.files.resolve(f.location);
    }
    result::order::sort_findings(&mut diagnostics, &loaded.files);
    diagnostics.retain(|f| f.level >= Level::Warning);
    let stderr = io::stderr();
    let _ = report::write_compact(&diagnostics, &loaded.files, &mut stderr.lock());
}

/// The paths from the internet that pictures highlight: exactly what `internet-exposed-workload`
/// reports, at its level.
fn internet_entries(scope: &build::Scope, graph: &graph::Graph) -> Vec<report::picture::InternetEntry> {
    let cx = rules::Context::new(scope, graph);
    rules::internet_exposures(&cx)
        .into_iter()
        .filter_map(|x| {
            let entry = graph.entries.get(x.entry)?;
            let kind = entry.kind.as_str();
            let object = entry.opener.meta(&scope.model).key();
            let label =
                if object.starts_with(&format!("{kind}/")) { object.clone() } else { format!("{kind} {object}") };
            Some(report::picture::InternetEntry { peer: x.peer, label, level: x.level })
        })
        .collect()
}

fn run_explain(args: ExplainArgs) -> Result<ExitCode, CliError> {
    let port = match &args.port {
        None => None,
        Some(p) => Some(report::explain::PortArg::parse(p).ok_or_else(|| CliError::Port(p.clone()))?),
    };
    let Analysed { analysis, settings, .. } = analyse(&args.common)?;
    let (loaded, scope, graph) = (&analysis.loaded, analysis.scope(), &analysis.graph);
    print_input_problems(loaded, scope, graph);
    if let Some(wanted) = &args.expect {
        return explain_expectation(wanted, &settings, loaded, scope, graph);
    }
    let (from_text, to_text) = (args.from.clone().unwrap_or_default(), args.to.clone().unwrap_or_default());
    let from = graph.party(&from_text).map_err(|e| nearest_peer(e, graph))?;
    let to = graph.party(&to_text).map_err(|e| nearest_peer(e, graph))?;
    let port = match port {
        None => None,
        Some(report::explain::PortArg::Number(q)) => Some(q),
        Some(report::explain::PortArg::Named(name, protocol)) => {
            Some(named_port(&name, protocol, &to, graph, &scope.model).map_err(CliError::Usage)?)
        }
    };
    if !crate::graph::explain::Party::pair_supported(&from, &to) {
        return Err(crate::graph::explain::PartyError::Unsupported(from_text, to_text).into());
    }
    let explanation = graph.explain(&scope.model, &from, &to);
    let mut out = open_output(None)?;
    let written = report::explain::write(&explanation, graph, &scope.model, &loaded.files, port, &mut out);
    let allowed = *written.as_ref().unwrap_or(&false);
    finish_write(written.map(|_| ()).and_then(|()| out.flush()), "the explanation")?;
    // Like `grep`: 0 when the connection is allowed, 1 when it is denied.
    Ok(if allowed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `explain --expect N|NAME`: one expectation of the configuration that governs the scope.
fn explain_expectation(
    wanted: &str,
    settings: &Settings,
    loaded: &build::Loaded,
    scope: &build::Scope,
    graph: &graph::Graph,
) -> Result<ExitCode, CliError> {
    use crate::result::RuleSource as _;
    let Some((config, list)) = settings.expectations(&scope.settings) else {
        return Err(CliError::Expectation(format!(
            "`--expect {wanted}`: the configuration of scope `{}` states no expectation (`expect:`)",
            scope.name
        )));
    };
    let Some(e) = list.iter().find(|e| e.is_named(wanted)) else {
        let names: Vec<String> = list.iter().map(|e| e.name.clone().unwrap_or_else(|| e.index.to_string())).collect();
        return Err(CliError::Expectation(format!(
            "`--expect {wanted}`: no expectation of that position or name; there are: {}",
            names.join(", ")
        )));
    };
    let status = graph.check_expectation(&scope.model, e);
    let mut out = open_output(None)?;
    let shown = crate::load::display_path(config);
    let written = report::expect::write(e, &shown, &status, graph, &scope.model, &loaded.files, &mut out);
    let holds = *written.as_ref().unwrap_or(&false);
    finish_write(written.map(|_| ()).and_then(|()| out.flush()), "the expectation")?;
    // Like `explain`: 0 when it holds, 1 when it does not.
    Ok(if holds { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// An unknown workload, with the nearest names the graph has when it found none itself.
fn nearest_peer(e: crate::graph::explain::PartyError, graph: &graph::Graph) -> CliError {
    use crate::graph::explain::PartyError;
    match e {
        PartyError::Unknown(text, hint) if hint.is_empty() => {
            let mut scored: Vec<(f64, &str)> = graph
                .peers
                .iter()
                .map(|p| {
                    // Compared without the kind, which a user often leaves out.
                    let bare = p.name.split('[').next().unwrap_or(&p.name);
                    (strsim::jaro_winkler(text.split('[').next().unwrap_or(&text), bare), p.name.as_str())
                })
                .filter(|(score, _)| *score > 0.8)
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
            // The best, and those about as close: a shared namespace prefix is no likeness.
            let best = scored.first().map_or(0.0, |s| s.0);
            let names: Vec<String> = scored
                .iter()
                .filter(|(score, _)| *score >= best - 0.02)
                .take(3)
                .map(|(_, n)| format!("`{n}`"))
                .collect();
            let hint = if names.is_empty() { hint } else { format!(" (did you mean {}?)", names.join(", ")) };
            CliError::Peer(PartyError::Unknown(text, hint))
        }
        other => CliError::Peer(other),
    }
}

/// A container port's name on the destination's pods, as a number: `--port http`.
fn named_port(
    name: &str,
    protocol: Option<crate::model::net::Protocol>,
    to: &crate::graph::explain::Party,
    graph: &graph::Graph,
    model: &crate::model::Model,
) -> Result<report::explain::PortQuery, String> {
    let crate::graph::explain::Party::Peer(peer) = to else {
        return Err(format!("`--port {name}`: a port name needs a workload as the destination; give a number"));
    };
    let peer = &graph.peers[peer.index()];
    let mut found: Vec<report::explain::PortQuery> = peer
        .workloads
        .iter()
        .filter_map(|&w| model.workloads.get(w))
        .flat_map(|w| w.ports.iter())
        .filter(|p| p.name.as_deref() == Some(name) && protocol.is_none_or(|pr| pr == p.protocol))
        .map(|p| report::explain::PortQuery { port: p.port, protocol: p.protocol })
        .collect();
    found.sort_by_key(|q| (q.port, q.protocol.index()));
    found.dedup();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let mut names: Vec<&str> = peer
                .workloads
                .iter()
                .filter_map(|&w| model.workloads.get(w))
                .flat_map(|w| w.ports.iter())
                .filter_map(|p| p.name.as_deref())
                .collect();
            names.sort_unstable();
            names.dedup();
            let known = if names.is_empty() {
                "it names no container port".to_string()
            } else {
                format!("its named ports are {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
            };
            Err(format!("`--port {name}`: no container port of `{}` has that name; {known}", peer.name))
        }
        several => Err(format!(
            "`--port {name}`: the name stands for several ports of `{}` ({}); give the number",
            peer.name,
            several.iter().map(|q| q.to_string()).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn run_check(args: CheckArgs) -> Result<ExitCode, CliError> {
    // Rule ids on the command line are wrong on every run: refused before watching starts.
    check_rule_ids(&args.select)?;
    check_rule_ids(&args.ignore)?;
    let format = args.format()?;
    if args.statistics && format != CheckFormat::Human {
        return Err(CliError::Usage("--statistics prints counts in the human format; leave out --format".to_string()));
    }
    if args.category.is_some() && format != CheckFormat::Sarif {
        // Not an error: a workflow may pass one category to several formats.
        eprintln!("kubereach: warning: --category is written only in SARIF (`automationDetails.id`); ignored here");
    }
    let pool = thread_pool(args.common.threads)?;
    if args.watch {
        if args.common.stdin.is_some() {
            // Standard input is read once; there is nothing to watch for changes.
            return Err(CliError::Watch("standard input (`-`) cannot be watched".to_string()));
        }
        return watch::run(&args, &pool);
    }
    check_once(&args, &pool, None)
}

/// One run of `check`. With a session (`--watch`), files unchanged since the previous run are not
/// read again; `modified` names the files known to have changed in place (empty: look at all).
/// The settings are resolved on every run, so that a change to the configuration counts.
fn check_once(
    args: &CheckArgs,
    pool: &rayon::ThreadPool,
    session: Option<(&mut build::Session, &[PathBuf])>,
) -> Result<ExitCode, CliError> {
    let mut stats = Stats::new(args.common.stats);
    let settings = Settings::resolve(&args.requested())?;
    let source = match session {
        None => pipeline::Source::Fresh,
        Some((session, modified)) => pipeline::Source::Session { session, modified },
    };
    let checked = pool.install(|| pipeline::check(&settings, source, &mut |done| stats.stage(done)))?;
    let Checked { loaded, graphs, outcome, changes } = checked;

    let started = Instant::now();
    let format = args.format()?;
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    // Paths in annotations, links and SARIF are relative to the repository's root.
    let root = crate::load::repository_root(settings.paths.first().map_or(std::path::Path::new("."), |p| p));
    // To a file, the report replaces the previous one at once: an editor watching it never reads
    // half a report. It is written as it is produced, to a temporary file renamed at the end, so
    // that a large report (150 MB of SARIF at a million objects) is not held in memory too.
    let mut pending = None;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            let (file, rename) =
                create_output(path).map_err(|source| CliError::Write { what: "the report".to_string(), source })?;
            pending = rename;
            Box::new(BufWriter::with_capacity(1 << 16, file))
        }
        None => open_output(None)?,
    };
    let human = report::human::HumanOptions { color, quiet: args.quiet, base: args.diff_base.as_deref() };
    let mut notes = Vec::new();
    let written = match format {
        CheckFormat::Human if args.statistics => report::human::write_statistics(&outcome, &human, &mut out),
        CheckFormat::Human => report::human::write_with(&outcome, &loaded.files, &human, &mut out),
        CheckFormat::Json => report::json::write(&outcome, &loaded.files, &mut out),
        CheckFormat::Github => report::github::write(&outcome, &loaded.files, &root, &mut out),
        CheckFormat::Markdown => {
            let links = github_links(&root);
            let base = args.diff_base.as_deref();
            report::markdown::write(&outcome, &loaded.files, changes.as_deref(), base, links.as_ref(), &mut out)
        }
        CheckFormat::Sarif => {
            let mut limits = report::sarif::Limits::default();
            if let Some(n) = args.sarif_max_results {
                limits.results = n.max(1);
                limits.shown = limits.shown.min(limits.results);
            }
            if let Some(n) = args.sarif_max_gzip_bytes {
                limits.gzipped_bytes = n;
            }
            let options = report::sarif::SarifOptions { category: args.category.clone(), root, limits };
            report::sarif::write(&outcome, &loaded.files, &options, &mut out).map(|n| notes = n)
        }
    }
    .and_then(|()| out.flush());
    drop(out);
    let written = finish_output(pending, written);
    finish_write(written, "the report")?;
    for note in &notes {
        eprintln!("kubereach: warning: {note}");
    }
    if !args.quiet {
        note_if_nothing_analysed(&outcome.analysed);
    }
    stats.stage(StageDone { name: "report", started, volume: None, took: None });
    let classes = graphs.iter().map(|g| g.classes.len()).sum();
    stats.finish(outcome.findings.len(), classes, graphs.iter().map(|g| g.peers.len()).sum());
    let failed = outcome.findings.iter().any(|f| settings.fail_on.fails(f.level));
    // A session's repository stays for the next run; a fresh one is done with.
    if let pipeline::LoadedRef::Owned(loaded) = loaded {
        release((loaded, graphs, outcome, changes));
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Opens `--output` for a report: a sibling temporary file, returned with (temporary, target)
/// for [`finish_output`] to rename over `path`. What is not a regular file (`/dev/null`, a named
/// pipe) is written in place: renaming over it would replace the device or pipe with a file. A
/// symbolic link stays a link: its target is replaced.
fn create_output(path: &std::path::Path) -> io::Result<(File, Option<(PathBuf, PathBuf)>)> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Ok((File::create(path)?, None));
    }
    let resolved = std::fs::canonicalize(path).ok();
    let path = resolved.as_deref().unwrap_or(path);
    // `--output .sarif/kubereach.sarif` in a fresh checkout: the folder is created.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut name = path.file_name().map(std::ffi::OsString::from).unwrap_or_default();
    name.push(".kubereach-tmp");
    let temporary = path.with_file_name(name);
    Ok((File::create(&temporary)?, Some((temporary, path.to_path_buf()))))
}

/// Renames a completely written temporary file over its target; after a failed write, removes
/// it and leaves the target as it was.
fn finish_output(pending: Option<(PathBuf, PathBuf)>, written: io::Result<()>) -> io::Result<()> {
    let Some((temporary, path)) = pending else { return written };
    written.and_then(|()| std::fs::rename(&temporary, &path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// Links to files on GitHub, in a GitHub Actions run (from the variables the runner sets).
fn github_links(root: &std::path::Path) -> Option<report::markdown::Links> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if var("GITHUB_ACTIONS").as_deref() != Some("true") {
        return None;
    }
    let (server, repository, sha) = (var("GITHUB_SERVER_URL")?, var("GITHUB_REPOSITORY")?, var("GITHUB_SHA")?);
    Some(report::markdown::Links {
        root: root.to_path_buf(),
        blob: format!("{}/{repository}/blob/{sha}", server.trim_end_matches('/')),
    })
}

/// `rules --format json`: every rule's metadata, or one rule's with its documentation.
fn rules_json(meta: &rules::RuleMeta, with_body: bool) -> serde_json::Value {
    let mut value = serde_json::json!({
        "id": meta.id,
        "name": meta.name,
        "level": meta.level.as_str(),
        "security-severity": meta.security_severity,
        "precision": meta.precision,
        "tags": meta.tags,
        "summary": meta.summary,
    });
    if with_body {
        value["documentation"] = serde_json::Value::from(meta.body);
    }
    value
}

fn run_rules(args: RulesArgs) -> Result<ExitCode, CliError> {
    let mut out = open_output(None)?;
    if args.format == RulesFormat::Json {
        let value = match &args.id {
            None => serde_json::Value::Array(rules::all().iter().map(|m| rules_json(m, false)).collect()),
            Some(id) => rules_json(rules::find(id).ok_or_else(|| SettingsError::UnknownRule(id.clone()))?, true),
        };
        let written = serde_json::to_writer_pretty(&mut out, &value)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        finish_write(written, "the rule list")?;
        return Ok(ExitCode::SUCCESS);
    }
    let written = match &args.id {
        None => {
            let width = rules::all().iter().map(|m| m.id.len()).max().unwrap_or(0);
            rules::all().iter().try_for_each(|m| {
                writeln!(out, "{:width$}  {:7}  {}", m.id, m.level.as_str(), m.summary, width = width)
            })
        }
        Some(id) => {
            let meta = rules::find(id).ok_or_else(|| SettingsError::UnknownRule(id.clone()))?;
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
