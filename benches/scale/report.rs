//! Reporting: the Markdown tables the benchmark prints and writes to `results.md`.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::generate::{RepoInfo, GENERATOR_VERSION};
use crate::measure::{median, min_max, RunStats, SizeResult, Summary, STAGES};
use crate::GRAPH_VARIANT;

pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    groups.join(",")
}

pub(crate) fn mib(kib: f64) -> String {
    format!("{:.0}", kib / 1024.0)
}

pub(crate) fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    y!(out, "| {} |", head.join(" | "));
    let align: Vec<&str> = head.iter().enumerate().map(|(i, _)| if i == 0 { ":--" } else { "--:" }).collect();
    y!(out, "|{}|", align.join("|"));
    for row in rows {
        y!(out, "| {} |", row.join(" | "));
    }
    y!(out, "");
}

pub(crate) fn single_row(label: &str, variant: &str, r: &RunStats) -> Vec<String> {
    let ms = |s: &str| r.get(s, "ms").map_or_else(|| "-".to_string(), |v| format!("{v:.0}"));
    vec![
        label.to_string(),
        variant.to_string(),
        ms("load"),
        ms("graph"),
        ms("report"),
        ms("total"),
        format!("{:.0}", r.process_ms),
        r.get("total", "peak_rss_kib").map_or_else(|| "-".to_string(), mib),
    ]
}

pub(crate) struct Context {
    pub(crate) bin: PathBuf,
    pub(crate) version: String,
    pub(crate) cores: usize,
    pub(crate) runs: usize,
    /// Share of the machine's CPU time that other processes used while this benchmark ran (Linux).
    pub(crate) others_cpu: Option<f64>,
}

pub(crate) fn report(ctx: &Context, sizes: &[SizeResult], graph: Option<(&RepoInfo, &Summary)>) -> String {
    let mut out = String::new();
    y!(&mut out, "# kubereach scale benchmark");
    y!(&mut out, "");
    y!(
        &mut out,
        "`{}` ({}), {} core(s) available, generator v{GENERATOR_VERSION}. Medians of {} runs after one warm-up run; output to /dev/null; figures from the hidden `--stats` flag (peak RSS: the kernel's `VmHWM`, per stage).",
        ctx.bin.display(),
        ctx.version,
        ctx.cores,
        ctx.runs
    );
    if let Some(share) = ctx.others_cpu {
        let busy = if share > 0.1 { " **The machine was busy: treat the times as upper bounds.**" } else { "" };
        y!(&mut out, "");
        y!(
            &mut out,
            "Other processes used {:.0}% of the machine's CPU time during the benchmark.{busy}",
            share * 100.0
        );
    }
    y!(&mut out, "");
    y!(&mut out, "## `graph --format json`");
    y!(&mut out, "");
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|s| {
            let bytes = s.json.count("load", "bytes") as f64;
            let objects = s.json.count("load", "objects") as f64;
            let total = s.json.median("total", "ms");
            let load = s.json.median("load", "ms");
            let peak = s.json.median("total", "peak_rss_kib");
            vec![
                s.label.clone(),
                format!("{:.1} MB", bytes / 1e6),
                thousands(s.info.files as u64),
                format!("{load:.0}"),
                format!("{:.0}", s.json.median("graph", "ms")),
                format!("{:.0}", s.json.median("report", "ms")),
                format!("**{total:.0}**"),
                format!("{:.0}", s.json.process_ms()),
                mib(peak),
                format!("{:.2}", peak * 1024.0 / bytes.max(1.0)),
                format!("{:.1}", bytes / 1e6 / (total / 1000.0)),
                thousands((objects / (total / 1000.0)) as u64),
                format!("{:.1}", bytes / 1e6 / (load / 1000.0)),
                thousands((objects / (load / 1000.0)) as u64),
                thousands(s.json.count("total", "edges")),
                thousands(s.json.count("total", "classes")),
                thousands(s.json.count("total", "peers")),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "objects",
            "input",
            "files",
            "load ms",
            "graph ms",
            "report ms",
            "total ms",
            "process ms",
            "peak RSS MiB",
            "RSS/input",
            "MB/s total",
            "obj/s total",
            "MB/s load",
            "obj/s load",
            "edges",
            "classes",
            "peers",
        ],
        &rows,
    );
    y!(&mut out, "`process ms` is the wall time of the whole process (start-up and exit included) as seen by the benchmark; `total ms` is the binary's own figure.");
    y!(&mut out, "");
    y!(&mut out, "## `check --format json` against `graph --format json`");
    y!(&mut out, "");
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|s| {
            let bytes = s.check.count("load", "bytes") as f64;
            let (check_ms, graph_ms) = (s.check.median("total", "ms"), s.json.median("total", "ms"));
            let (check_peak, graph_peak) =
                (s.check.median("total", "peak_rss_kib"), s.json.median("total", "peak_rss_kib"));
            vec![
                s.label.clone(),
                format!("{:.1} MB", bytes / 1e6),
                format!("{:.0}", s.check.median("rules", "ms")),
                format!("**{check_ms:.0}**"),
                format!("{graph_ms:.0}"),
                format!("{:.2}", check_ms / graph_ms),
                mib(check_peak),
                format!("**{:.2}**", check_peak * 1024.0 / bytes.max(1.0)),
                mib(graph_peak),
                format!("{:.2}", check_peak / graph_peak),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "objects",
            "input",
            "rules ms",
            "check total ms",
            "graph total ms",
            "check/graph time",
            "check peak RSS MiB",
            "check RSS/input",
            "graph peak RSS MiB",
            "check/graph RSS",
        ],
        &rows,
    );
    y!(&mut out, "");
    y!(&mut out, "### Per stage");
    y!(&mut out, "");
    let mut rows = Vec::new();
    for s in sizes {
        for stage in STAGES {
            let ms = s.json.values(stage, "ms");
            let (lo, hi) = min_max(&ms);
            rows.push(vec![
                s.label.clone(),
                stage.to_string(),
                format!("{:.1}", median(ms)),
                format!("{lo:.1}"),
                format!("{hi:.1}"),
                mib(s.json.median(stage, "peak_rss_kib")),
            ]);
        }
    }
    table(&mut out, &["objects", "stage", "median ms", "min ms", "max ms", "median peak RSS MiB"], &rows);
    y!(&mut out, "### Single runs");
    y!(&mut out, "");
    let mut rows = Vec::new();
    for s in sizes {
        rows.push(single_row(&s.label, "`--format txt`", &s.txt));
        rows.push(single_row(&s.label, "`--format json -j 1`", &s.single));
    }
    table(
        &mut out,
        &["objects", "run", "load ms", "graph ms", "report ms", "total ms", "process ms", "peak RSS MiB"],
        &rows,
    );
    y!(&mut out, "### Repositories");
    y!(&mut out, "");
    let mut rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|s| {
            vec![
                format!("`target/bench-repos/{}`", s.label.replace(',', "")),
                thousands(s.info.objects as u64),
                thousands(s.info.workloads as u64),
                thousands(s.info.policies as u64),
                thousands(s.info.namespaces as u64),
                thousands(s.info.files as u64),
                format!("{:.1} MB", s.info.bytes as f64 / 1e6),
            ]
        })
        .collect();
    if let Some((info, _)) = graph {
        rows.push(vec![
            format!("`target/bench-repos/{GRAPH_VARIANT}`"),
            thousands(info.objects as u64),
            thousands(info.workloads as u64),
            thousands(info.policies as u64),
            thousands(info.namespaces as u64),
            thousands(info.files as u64),
            format!("{:.1} MB", info.bytes as f64 / 1e6),
        ]);
    }
    table(&mut out, &["repository", "objects", "workloads", "policies", "namespaces", "files", "size"], &rows);
    if let Some((info, summary)) = graph {
        y!(
            &mut out,
            "## Graph stage alone: {} workloads, {} policies",
            thousands(info.workloads as u64),
            thousands(info.policies as u64)
        );
        y!(&mut out, "");
        let ms = summary.values("graph", "ms");
        let (lo, hi) = min_max(&ms);
        let med = median(ms);
        table(
            &mut out,
            &["repository", "classes", "edges", "graph ms (median)", "min", "max", "goal"],
            &[vec![
                GRAPH_VARIANT.to_string(),
                thousands(summary.count("total", "classes")),
                thousands(summary.count("total", "edges")),
                format!("**{med:.1}**"),
                format!("{lo:.1}"),
                format!("{hi:.1}"),
                "< 1000".to_string(),
            ]],
        );
    }
    y!(&mut out, "## Against DESIGN §10");
    y!(&mut out, "");
    let verdict = |ok: bool| if ok { "ok" } else { "**MISSED**" };
    if let Some(big) = sizes.iter().max_by_key(|s| s.info.objects) {
        let total = big.json.median("total", "ms");
        let ratio =
            big.json.median("total", "peak_rss_kib") * 1024.0 / (big.json.count("load", "bytes") as f64).max(1.0);
        y!(
            &mut out,
            "- `graph --format json`, {} objects: {total:.0} ms (goal < 3000 ms on 2 cores): {}",
            big.label,
            verdict(total < 3000.0)
        );
        y!(&mut out, "- peak RSS / input, {} objects: {ratio:.2} (goal < 4): {}", big.label, verdict(ratio < 4.0));
    }
    if let Some((_, summary)) = graph {
        let med = summary.median("graph", "ms");
        y!(&mut out, "- graph stage, {GRAPH_VARIANT}: {med:.0} ms (goal < 1000 ms): {}", verdict(med < 1000.0));
    }
    out
}
