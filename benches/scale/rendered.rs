//! Rendering: a GitOps repository of one base and many overlays, checked with kustomize rendering
//! cold (an empty cache), warm (the disk cache of the previous run) and off (`--no-render`). The
//! render stage is kustomize's time; the rest is kubereach's own share, to set against the plain
//! repositories' figures. Skipped when neither `kustomize` nor `kubectl` is on PATH.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::measure::{median, parse_stats};
use crate::Result;

/// Overlays (each one leaf, so one rendering and one scope) and apps in the base.
pub(crate) const OVERLAYS: usize = 20;
pub(crate) const APPS: usize = 40;
const VERSION: &str = "rendered-1";

/// Writes the repository under `dir` unless this version of it is already there.
pub(crate) fn ensure(dir: &Path) -> Result<()> {
    let marker = dir.join(".generated");
    if fs::read_to_string(&marker).is_ok_and(|v| v == VERSION) {
        return Ok(());
    }
    let _ = fs::remove_dir_all(dir);
    let write = |rel: &str, text: &str| -> Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let mut resources = String::from("resources:\n  - policies.yaml\n");
    for app in 0..APPS {
        let name = format!("app-{app:02}");
        resources.push_str(&format!("  - {name}.yaml\n"));
        write(
            &format!("base/{name}.yaml"),
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n        tier: t{}\n    spec:\n      containers:\n        - name: main\n          image: registry.example.com/{name}:1.0\n          ports:\n            - name: http\n              containerPort: 8080\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\nspec:\n  podSelector:\n    matchLabels:\n      app: {name}\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              tier: t{}\n      ports:\n        - port: 8080\n",
                app % 4,
                (app + 1) % 4
            ),
        )?;
    }
    write("base/kustomization.yaml", &resources)?;
    write(
        "base/policies.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
    )?;
    for overlay in 0..OVERLAYS {
        let env = format!("env-{overlay:02}");
        write(
            &format!("overlays/{env}/kustomization.yaml"),
            &format!(
                "namespace: {env}\nnamePrefix: {env}-\nresources:\n  - ../../base\npatches:\n  - path: replicas.yaml\n  - target:\n      kind: NetworkPolicy\n      name: app-00\n    patch: |-\n      - op: replace\n        path: /spec/ingress/0/ports/0/port\n        value: {}\n",
                8000 + overlay
            ),
        )?;
        write(
            &format!("overlays/{env}/replicas.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-01\nspec:\n  replicas: 3\n",
        )?;
    }
    write(".generated", VERSION)
}

/// One `check --format json --stats` run with `KUBEREACH_CACHE_DIR` set: (render ms, load ms,
/// total ms, objects).
fn run(bin: &Path, repo: &Path, cache: &Path, extra: &[&str]) -> Result<(f64, f64, f64, f64)> {
    let output = Command::new(bin)
        .args(["check", "--format", "json", "--fail-on", "never", "-o", "/dev/null", "--stats"])
        .args(extra)
        .arg(repo)
        .env("KUBEREACH_CACHE_DIR", cache)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("check {} failed:\n{stderr}", repo.display()));
    }
    let (stages, _) = parse_stats(&stderr);
    let get = |stage: &str, key: &str| stages.get(stage).and_then(|s| s.get(key)).copied().unwrap_or(0.0);
    Ok((get("render", "ms"), get("load", "ms"), get("total", "ms"), get("load", "objects")))
}

fn have_kustomize() -> bool {
    ["kustomize", "kubectl"]
        .iter()
        .any(|tool| Command::new(tool).arg("version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
}

/// Measures the rendered repository; the report section, or why it was skipped.
pub(crate) fn measure_rendered(repos: &Path, bin: &Path, runs: usize) -> Result<String> {
    let mut out = String::from("\n## Rendering: one base, many overlays\n\n");
    if !have_kustomize() {
        out.push_str("skipped: neither `kustomize` nor `kubectl` is on PATH.\n");
        return Ok(out);
    }
    let dir = repos.join("rendered");
    ensure(&dir)?;
    let caches = repos.join("rendered-caches");
    let _ = fs::remove_dir_all(&caches);
    let mut cold = Vec::new();
    for i in 0..runs {
        // A fresh, empty cache for every cold run.
        cold.push(run(bin, &dir, &caches.join(format!("cold-{i}")), &[])?);
    }
    let warm_cache = caches.join("warm");
    run(bin, &dir, &warm_cache, &[])?;
    let warm: Vec<_> = (0..runs).map(|_| run(bin, &dir, &warm_cache, &[])).collect::<Result<_>>()?;
    let off: Vec<_> = (0..runs).map(|_| run(bin, &dir, &warm_cache, &["--no-render"])).collect::<Result<_>>()?;
    let _ = fs::remove_dir_all(&caches);
    let med = |rows: &[(f64, f64, f64, f64)], f: fn(&(f64, f64, f64, f64)) -> f64| median(rows.iter().map(f).collect());
    let objects = cold.first().map_or(0.0, |r| r.3);
    let _ = writeln!(
        out,
        "{OVERLAYS} overlays (each a leaf: a rendering and a scope) of a base of {APPS} apps (Deployment, Service, NetworkPolicy each); {objects:.0} objects analysed. Medians of {runs} runs.\n"
    );
    out.push_str("| run | render (kustomize) | load | total | kubereach's own share (total − render) |\n| --- | --- | --- | --- | --- |\n");
    for (label, rows) in [("cold cache", &cold), ("warm cache", &warm), ("`--no-render`", &off)] {
        let (render, load, total) = (med(rows, |r| r.0), med(rows, |r| r.1), med(rows, |r| r.2));
        let _ = writeln!(out, "| {label} | {render:.0} ms | {load:.0} ms | {total:.0} ms | {:.0} ms |", total - render);
    }
    Ok(out)
}
