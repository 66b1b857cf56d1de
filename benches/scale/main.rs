//! Scale benchmark of the release binary against synthetic repositories (DESIGN §10).
//!
//! Run it with
//!
//! ```text
//! cargo build --release && cargo bench --bench scale
//! ```
//!
//! `cargo bench` builds this file but not the `kubereach` binary it measures, hence the first
//! step. The benchmark:
//!
//! 1. generates deterministic repositories of 1,000, 10,000 and 100,000 objects under
//!    `target/bench-repos/<objects>/` (one folder per namespace: the Namespace, its
//!    NetworkPolicies, one file per app with its Deployment or StatefulSet, Service, own policies
//!    and Ingress), plus `target/bench-repos/graph-10k-5k/` (10,000 workloads, 5,000 policies) for
//!    the graph stage alone. A repository is generated once: a marker file records the generator
//!    version, so reruns start measuring at once;
//! 2. runs `kubereach graph REPO --format json -o /dev/null --stats` (hidden flag: time and peak
//!    memory per stage on standard error) once to warm the page cache and then N times, and reports
//!    the medians per stage, throughput, peak RSS against the input size and the graph's size;
//! 3. runs `--format txt` once and `-j 1` once per size, and `check --format json` N times, set
//!    against `graph --format json` (time and peak memory: `check` keeps only the texts it needs);
//! 4. with the 10,000-object size, measures `check --watch`'s incremental re-check in process: a cold
//!    check against a re-check after one file changed (medians);
//! 5. measures rendering on a generated GitOps repository (one base, 20 overlays): `check` with an
//!    empty render cache, with a warm one and with `--no-render`, render time apart ([`rendered`]);
//! 6. generates (once) and measures a repository of the shape of a real cluster
//!    (`target/bench-repos/cluster-shape/`: 5,413 workloads in 604 namespaces, 13,678 policies,
//!    26% of them empty, cluster-wide peers repeated in every namespace), `graph` and `check`,
//!    every stage and peak RSS ([`cluster_shape`]);
//! 7. measures the loader against the YAML parser alone, in process on one thread, on the
//!    10,000-object and cluster-shape repositories and on a generated set per style (block,
//!    flow, quoted, long files, JSON) ([`loader`]);
//! 8. prints the tables to standard output and writes them to `target/bench-repos/results.md`.
//!
//! The steps have their modules: [`generate`] (the repositories, with the fixed platform part as
//! YAML files under `templates/`), [`measure`] (the runs and their figures) and [`report`] (the
//! tables); this file reads the environment and drives them.
//!
//! A million objects (issue 13) is opt-in, as it takes minutes: `KUBEREACH_BENCH_SIZES=1000000`
//! (or beside the others, `1000,10000,100000,1000000`). Its repository, 675 MB in 380,000 files
//! under `target/bench-repos/1000000/`, is written once (about 15 s; each namespace is written as
//! it is planned, so the generator holds one namespace at a time, not the text), and then every
//! step above runs on it as on the other sizes. Delete the folder when done: it is the largest
//! thing the benchmark leaves on the disk.
//!
//! Environment: `KUBEREACH_BENCH_SIZES=1000,10000` (default `1000,10000,100000`),
//! `KUBEREACH_BENCH_RUNS=5` (default 5), `KUBEREACH_BIN` (default `target/release/kubereach`),
//! `KUBEREACH_BENCH_CLUSTER_SHAPE=0` skips the cluster-shape repository (default `1`: measured),
//! `KUBEREACH_BENCH_TIERS=0` skips the graph stage with 200 cluster tier policies
//! ([`tier_shape`], `target/bench-repos/graph-10k-5k-tiers/`) and `=only` runs nothing else,
//! `KUBEREACH_BENCH_LOADER=0` skips the loader's measurement and `=only` runs nothing else (it
//! needs no release binary; the two repositories it reads are generated when absent),
//! `CARGO_TARGET_DIR` (as for cargo).
//!
//! The synthetic repositories keep the answer moderate, as real ones do: about 90% of the
//! namespaces deny by default in both directions, most of the rest deny ingress and allow egress
//! only inside the namespace and to DNS, and only ~2.5% (small ones) have no policy at all, since
//! every unisolated workload is reachable from every unisolated source.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

/// Appends one formatted line to a `String` (writing to a `String` cannot fail). Defined before
/// the modules, which use it.
macro_rules! y {
    ($out:expr, $($arg:tt)*) => {{
        let out: &mut String = $out;
        let _ = writeln!(out, $($arg)*);
    }};
}

mod cluster_shape;
mod generate;
mod loader;
mod measure;
mod rendered;
mod report;
mod tier_shape;

use generate::{ensure_repo, Spec};
use measure::{cpu_ticks, incremental_check, measure, others_share, run_kubereach, SizeResult};
use report::{report, thousands, Context};

const DEFAULT_SIZES: &[usize] = &[1_000, 10_000, 100_000];
const DEFAULT_RUNS: usize = 5;
const GRAPH_VARIANT: &str = "graph-10k-5k";
const GRAPH_WORKLOADS: usize = 10_000;
const GRAPH_POLICIES: usize = 5_000;

type Result<T> = std::result::Result<T, String>;

// The in-process measurement runs the library as the binary does, with the binary's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scale bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env_list(name: &str, default: &[usize]) -> Result<Vec<usize>> {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => text
            .split(',')
            .map(|s| s.trim().replace('_', ""))
            .filter(|s| !s.is_empty())
            .map(|s| match s.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                Ok(_) => Err(format!("{name}: counts must be positive")),
                Err(e) => Err(format!("{name}: `{s}` is not a count: {e}")),
            })
            .collect(),
        _ => Ok(default.to_vec()),
    }
}

fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest: Option<SystemTime> = None;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() { newest_source(&path) } else { entry.metadata().ok()?.modified().ok() };
        newest = newest.max(t);
    }
    newest
}

/// The synthetic repository of `size` objects.
fn size_spec(size: usize) -> Spec {
    Spec {
        seed: 0x6b75_6265_7265_6163 ^ size as u64,
        objects: size,
        workloads: 0,
        policies: 0,
        apps_per_namespace: (4, 20),
        per_tier: 350,
    }
}

/// The graph stage's repository: 10,000 workloads, 5,000 policies.
fn graph_spec() -> Spec {
    Spec {
        seed: 0x6772_6170_6831_306b,
        objects: 0,
        workloads: GRAPH_WORKLOADS,
        policies: GRAPH_POLICIES,
        apps_per_namespace: (12, 20),
        per_tier: 1000,
    }
}

/// `KUBEREACH_BENCH_TIERS`: whether to measure the graph stage with the cluster tiers, and
/// whether only that (`only`).
fn tiers_switch() -> (bool, bool) {
    match std::env::var("KUBEREACH_BENCH_TIERS").map(|v| v.trim().to_string()) {
        Ok(v) if v == "0" => (false, false),
        Ok(v) if v == "only" => (true, true),
        _ => (true, false),
    }
}

/// `KUBEREACH_BENCH_LOADER`: whether to measure the loader, and whether only that.
fn loader_switch() -> (bool, bool) {
    match std::env::var("KUBEREACH_BENCH_LOADER").map(|v| v.trim().to_string()) {
        Ok(v) if v == "0" => (false, false),
        Ok(v) if v == "only" => (true, true),
        _ => (true, false),
    }
}

/// Only the loader against the parser: the repositories it reads, generated when absent.
fn run_loader_only(repos: &Path, runs: usize) -> Result<()> {
    fs::create_dir_all(repos).map_err(|e| format!("cannot create {}: {e}", repos.display()))?;
    ensure_repo(&repos.join("10000"), &size_spec(10_000))?;
    cluster_shape::ensure(&repos.join(cluster_shape::DIR))?;
    println!("measuring the loader against the parser alone: {runs} runs");
    let text = loader::measure_loader(repos, runs)?;
    println!();
    print!("{text}");
    Ok(())
}

fn run() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let (measure_loader, loader_only) = loader_switch();
    if loader_only {
        let runs = env_list("KUBEREACH_BENCH_RUNS", &[DEFAULT_RUNS])?.first().copied().unwrap_or(DEFAULT_RUNS);
        return run_loader_only(&target.join("bench-repos"), runs);
    }
    let bin = match std::env::var_os("KUBEREACH_BIN") {
        Some(b) => PathBuf::from(b),
        None => target.join("release").join(format!("kubereach{}", std::env::consts::EXE_SUFFIX)),
    };
    if !bin.is_file() {
        return Err(format!(
            "{} not found. This benchmark measures the release binary and does not build it: run\n\n    cargo build --release && cargo bench --bench scale\n",
            bin.display()
        ));
    }
    let built = fs::metadata(&bin).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(src)) = (built, newest_source(&root.join("src"))) {
        if src > built {
            println!(
                "warning: {} is older than src/; run `cargo build --release` to measure the current code",
                bin.display()
            );
        }
    }
    let sizes = env_list("KUBEREACH_BENCH_SIZES", DEFAULT_SIZES)?;
    let runs = env_list("KUBEREACH_BENCH_RUNS", &[DEFAULT_RUNS])?.first().copied().unwrap_or(DEFAULT_RUNS);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ticks_before = cpu_ticks();
    let repos = target.join("bench-repos");
    fs::create_dir_all(&repos).map_err(|e| format!("cannot create {}: {e}", repos.display()))?;
    // Measure a copy, so that a build running meanwhile cannot swap the binary between runs.
    let snapshot = repos.join(format!("kubereach-under-test{}", std::env::consts::EXE_SUFFIX));
    fs::copy(&bin, &snapshot).map_err(|e| format!("cannot copy {} to {}: {e}", bin.display(), snapshot.display()))?;
    let version = Command::new(&snapshot)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .map_err(|e| format!("cannot run {}: {e}", snapshot.display()))?;

    if tiers_switch().1 {
        let text = tier_shape::measure_tiers(&repos, &snapshot, &graph_spec(), runs)?;
        print!("{text}");
        return Ok(());
    }
    let mut results = Vec::new();
    for &size in &sizes {
        let dir = repos.join(size.to_string());
        let info = ensure_repo(&dir, &size_spec(size))?;
        println!("measuring {} objects: graph --format json, {runs} runs", thousands(size as u64));
        let json = measure(&snapshot, "graph", &dir, &["--format", "json"], runs)?;
        let loaded = json.count("load", "objects") as usize;
        if loaded != info.objects {
            println!("  warning: kubereach loaded {loaded} objects, the generator wrote {}", info.objects);
        }
        println!("  --format txt, once");
        let txt = run_kubereach(&snapshot, "graph", &dir, &["--format", "txt"])?;
        println!("  --format json -j 1, once");
        let single = run_kubereach(&snapshot, "graph", &dir, &["--format", "json", "-j", "1"])?;
        println!("  check --format json, {runs} runs");
        let check = measure(&snapshot, "check", &dir, &["--format", "json"], runs)?;
        results.push(SizeResult { label: thousands(size as u64), info, json, check, txt, single });
    }

    let dir = repos.join(GRAPH_VARIANT);
    let spec = graph_spec();
    let info = ensure_repo(&dir, &spec)?;
    println!("measuring the graph stage on {GRAPH_VARIANT}: {runs} runs");
    let graph = measure(&snapshot, "graph", &dir, &["--format", "json"], runs)?;
    let tiers = match tiers_switch() {
        (true, _) => Some(tier_shape::measure_tiers(&repos, &snapshot, &spec, runs)?),
        _ => None,
    };

    // `check --watch` re-reads only what changed: a one-file change on the 10,000-object
    // repository against a cold check, in process.
    let incremental = if sizes.contains(&10_000) {
        println!("measuring an incremental re-check (one file changed) on 10,000 objects: {runs} runs");
        Some(incremental_check(&repos.join("10000"), runs)?)
    } else {
        None
    };

    let ctx = Context { bin, version, cores, runs, others_cpu: others_share(ticks_before, cpu_ticks()) };
    let mut text = report(&ctx, &results, Some((&info, &graph)));
    text.push_str(tiers.as_deref().unwrap_or(""));
    if let Some((cold, warm, read)) = incremental {
        text.push_str(&format!(
            "\n## Incremental re-check (`check --watch`), 10,000 objects\n\n| | median |\n| --- | --- |\n| cold check (load, graph, rules) | {cold:.1} ms |\n| one file changed, re-checked | {warm:.1} ms ({read} file re-read) |\n| ratio | {:.0}% of the cold time |\n",
            100.0 * warm / cold
        ));
    }
    println!("measuring rendering: {} overlays, cold and warm cache, {runs} runs each", rendered::OVERLAYS);
    text.push_str(&rendered::measure_rendered(&repos, &snapshot, runs)?);
    // Any value but `0` (or none) measures it: the switch is an on/off, not a count.
    if std::env::var("KUBEREACH_BENCH_CLUSTER_SHAPE").map_or(true, |v| v.trim() != "0") {
        text.push_str(&cluster_shape::measure_shape(&repos, &snapshot, runs)?);
    }
    if measure_loader {
        println!("measuring the loader against the parser alone: {runs} runs");
        text.push_str(&loader::measure_loader(&repos, runs)?);
    }
    println!();
    print!("{text}");
    let path = repos.join("results.md");
    fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!();
    println!("written to {}", path.display());
    Ok(())
}
