//! Measuring: runs of the binary with `--stats` and their medians, the machine's load meanwhile,
//! and the in-process incremental re-check.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::generate::RepoInfo;
use crate::Result;

/// One `kubereach` run: the `--stats` figures per stage, and the process's own wall time.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub(crate) stages: BTreeMap<String, BTreeMap<String, f64>>,
    pub(crate) process_ms: f64,
    /// Other lines on standard error (diagnostics about the repository).
    pub(crate) diagnostics: Vec<String>,
}

impl RunStats {
    pub(crate) fn get(&self, stage: &str, key: &str) -> Option<f64> {
        self.stages.get(stage)?.get(key).copied()
    }
}

pub(crate) fn parse_stats(stderr: &str) -> (BTreeMap<String, BTreeMap<String, f64>>, Vec<String>) {
    let mut stages = BTreeMap::new();
    let mut other = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("stats: ") else {
            if !line.trim().is_empty() {
                other.push(line.to_string());
            }
            continue;
        };
        let mut stage = None;
        let mut values = BTreeMap::new();
        for token in rest.split_whitespace() {
            let Some((k, v)) = token.split_once('=') else { continue };
            if k == "stage" {
                stage = Some(v.to_string());
            } else if let Ok(x) = v.parse::<f64>() {
                values.insert(k.to_string(), x);
            }
        }
        if let Some(stage) = stage {
            stages.insert(stage, values);
        }
    }
    (stages, other)
}

/// One run of `kubereach COMMAND REPO ARGS -o /dev/null --stats` (`check` runs with
/// `--fail-on never`, since findings are expected).
pub(crate) fn run_kubereach(bin: &Path, command: &str, repo: &Path, args: &[&str]) -> Result<RunStats> {
    let started = Instant::now();
    let output = Command::new(bin)
        .arg(command)
        .arg(repo)
        .args(if command == "check" { &["--fail-on", "never"][..] } else { &[] })
        .args(args)
        .args(["-o", "/dev/null", "--stats"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let process_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "`{} {command} {} {}` failed ({}):\n{stderr}",
            bin.display(),
            repo.display(),
            args.join(" "),
            output.status
        ));
    }
    let (stages, diagnostics) = parse_stats(&stderr);
    if !stages.contains_key("total") {
        return Err(format!(
            "no `stats: stage=total` line from {} (does this build know the hidden `--stats` flag?):\n{stderr}",
            bin.display()
        ));
    }
    Ok(RunStats { stages, process_ms, diagnostics })
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

pub(crate) fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

pub(crate) const STAGES: [&str; 4] = ["load", "graph", "report", "total"];

/// Medians over repeated runs.
pub(crate) struct Summary {
    pub(crate) runs: Vec<RunStats>,
}

impl Summary {
    pub(crate) fn values(&self, stage: &str, key: &str) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.get(stage, key)).collect()
    }

    pub(crate) fn median(&self, stage: &str, key: &str) -> f64 {
        median(self.values(stage, key))
    }

    pub(crate) fn process_ms(&self) -> f64 {
        median(self.runs.iter().map(|r| r.process_ms).collect())
    }

    /// A figure that does not vary between runs (bytes, objects, edges).
    pub(crate) fn count(&self, stage: &str, key: &str) -> u64 {
        self.runs.first().and_then(|r| r.get(stage, key)).map_or(0, |v| v as u64)
    }
}

pub(crate) struct SizeResult {
    pub(crate) label: String,
    pub(crate) info: RepoInfo,
    pub(crate) json: Summary,
    /// `check --format json` on the same repository.
    pub(crate) check: Summary,
    pub(crate) txt: RunStats,
    pub(crate) single: RunStats,
}

pub(crate) fn measure(bin: &Path, command: &str, repo: &Path, args: &[&str], runs: usize) -> Result<Summary> {
    // One run to warm the page cache, not counted.
    let warm = run_kubereach(bin, command, repo, args)?;
    if !warm.diagnostics.is_empty() {
        println!("  note: {} line(s) of diagnostics on standard error, first ones:", warm.diagnostics.len());
        for line in warm.diagnostics.iter().take(5) {
            println!("    {line}");
        }
    }
    let mut all = Vec::with_capacity(runs);
    for i in 0..runs {
        let r = run_kubereach(bin, command, repo, args)?;
        println!(
            "  run {}/{runs}: total {:.0} ms (load {:.0}, graph {:.0}, report {:.0}), peak RSS {:.0} MiB",
            i + 1,
            r.get("total", "ms").unwrap_or(f64::NAN),
            r.get("load", "ms").unwrap_or(f64::NAN),
            r.get("graph", "ms").unwrap_or(f64::NAN),
            r.get("report", "ms").unwrap_or(f64::NAN),
            r.get("total", "peak_rss_kib").unwrap_or(f64::NAN) / 1024.0
        );
        all.push(r);
    }
    Ok(Summary { runs: all })
}

/// CPU clock ticks: (busy on the whole machine, total on the whole machine, used by this process
/// and its waited-for children), from `/proc/stat` and `/proc/self/stat`.
pub(crate) fn cpu_ticks() -> Option<(u64, u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal ...
    let busy = cpu.first()? + cpu.get(1)? + cpu.get(2)? + cpu.get(5)? + cpu.get(6)? + cpu.get(7).unwrap_or(&0);
    let total = busy + cpu.get(3)? + cpu.get(4)?;
    let own = fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<u64> =
        own.rsplit_once(')')?.1.split_whitespace().skip(11).take(4).filter_map(|v| v.parse().ok()).collect();
    // utime stime cutime cstime
    Some((busy, total, fields.iter().sum()))
}

pub(crate) fn others_share(before: Option<(u64, u64, u64)>, after: Option<(u64, u64, u64)>) -> Option<f64> {
    let ((b0, t0, o0), (b1, t1, o1)) = (before?, after?);
    let total = t1.checked_sub(t0).filter(|&t| t > 0)?;
    let others = (b1.saturating_sub(b0)).saturating_sub(o1.saturating_sub(o0));
    Some(others as f64 / total as f64)
}

/// Median milliseconds of a cold check and of a re-check after one file changed, both in
/// process, and how many files the re-check read.
pub(crate) fn incremental_check(dir: &Path, runs: usize) -> Result<(f64, f64, usize)> {
    use kubereach::model::build::{LoadOptions, Session};
    use kubereach::result::{self as check, RuleSettings};
    let paths = vec![dir.to_path_buf()];
    let options = LoadOptions {
        keep_text: kubereach::load::KeepText::Containing(check::suppress::MARKER),
        ..LoadOptions::default()
    };
    let profile = kubereach::profile::Profile::default();
    let settings = RuleSettings::default();
    let check = |session: &mut Session, modified: &[PathBuf]| -> Result<usize> {
        let loaded = session.reload(modified, &paths, &options).map_err(|e| e.to_string())?;
        let graph = kubereach::graph::build_with(&loaded.single().model, &profile);
        Ok(check::run(loaded, std::slice::from_ref(&graph), &settings, None).findings.len())
    };
    let mut cold = Vec::new();
    for _ in 0..runs.max(1) {
        let mut session = Session::new();
        let started = Instant::now();
        check(&mut session, &[])?;
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    // The file to change: the first manifest of the first namespace folder.
    let mut namespaces: Vec<PathBuf> =
        fs::read_dir(dir).map_err(|e| e.to_string())?.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    namespaces.sort();
    let folder = namespaces.first().ok_or("empty repository")?;
    let mut files: Vec<PathBuf> =
        fs::read_dir(folder).map_err(|e| e.to_string())?.flatten().map(|e| e.path()).collect();
    files.sort();
    let file = files.into_iter().find(|p| p.extension().is_some_and(|x| x == "yaml")).ok_or("no manifest")?;
    let original = fs::read_to_string(&file).map_err(|e| e.to_string())?;
    let mut session = Session::new();
    check(&mut session, &[])?;
    let mut warm = Vec::new();
    let mut read = 0;
    for run in 0..runs.max(1) {
        // A change of size as well as time: the session compares both.
        fs::write(&file, format!("{original}# edit {run}{}\n", "!".repeat(run + 1))).map_err(|e| e.to_string())?;
        // As `--watch` does: the file the watcher saw modified is read, the model patched.
        let started = Instant::now();
        check(&mut session, std::slice::from_ref(&file))?;
        warm.push(started.elapsed().as_secs_f64() * 1000.0);
        read = session.reparsed;
    }
    fs::write(&file, original).map_err(|e| e.to_string())?;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((median(cold), median(warm), read))
}
