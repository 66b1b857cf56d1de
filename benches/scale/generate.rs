//! Generating the synthetic repositories: a plan ([`plan`]) rendered as YAML ([`render`]) after
//! the fixed platform part (`templates/`), written once per generator version (a marker file
//! records it).

mod plan;
mod render;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

use crate::Result;
use plan::{plan, Ns, Planner};
use render::{render_app, render_namespace, render_namespace_policies};

/// Bump whenever the generated text changes: repositories with another version are regenerated.
pub(crate) const GENERATOR_VERSION: u32 = 3;
pub(crate) const MARKER: &str = ".kubereach-bench-repo";

/// What to generate.
pub(crate) struct Spec {
    pub(crate) seed: u64,
    /// Stop once the repository holds this many objects (0: no limit).
    pub(crate) objects: usize,
    /// Stop at exactly this many workloads (0: no limit).
    pub(crate) workloads: usize,
    /// Adjust the optional policies to exactly this many policies (0: as they come).
    pub(crate) policies: usize,
    pub(crate) apps_per_namespace: (usize, usize),
    /// Share of the namespaces (per mille) whose allow policies select tiers rather than apps.
    pub(crate) per_tier: usize,
}

/// What was generated, also stored in the marker file.
#[derive(Clone, Debug, Default)]
pub(crate) struct RepoInfo {
    pub(crate) objects: usize,
    pub(crate) workloads: usize,
    pub(crate) policies: usize,
    pub(crate) namespaces: usize,
    pub(crate) files: usize,
    pub(crate) bytes: u64,
}

/// The cluster services every synthetic repository has: DNS, monitoring, the ingress controller.
/// The files under `templates/` are written out byte for byte: editing one changes the generated
/// text, so bump [`GENERATOR_VERSION`] with it.
pub(crate) const PLATFORM: &[(&str, &str)] = &[
    ("kube-system/coredns.yaml", include_str!("templates/kube-system/coredns.yaml")),
    ("monitoring/namespace.yaml", include_str!("templates/monitoring/namespace.yaml")),
    ("monitoring/prometheus.yaml", include_str!("templates/monitoring/prometheus.yaml")),
    ("monitoring/network-policies.yaml", include_str!("templates/monitoring/network-policies.yaml")),
    ("ingress-nginx/namespace.yaml", include_str!("templates/ingress-nginx/namespace.yaml")),
    ("ingress-nginx/controller.yaml", include_str!("templates/ingress-nginx/controller.yaml")),
];

/// Counts of the fixed platform part.
pub(crate) fn platform_info() -> RepoInfo {
    let mut info = RepoInfo::default();
    for (_, text) in PLATFORM {
        for line in text.lines() {
            match line {
                "kind: Deployment" | "kind: StatefulSet" => info.workloads += 1,
                "kind: NetworkPolicy" => info.policies += 1,
                _ => {}
            }
            if line.starts_with("kind: ") {
                info.objects += 1;
            }
        }
        info.files += 1;
        info.bytes += text.len() as u64;
    }
    info.namespaces = 3;
    info
}

pub(crate) fn write_file(root: &Path, relative: &str, text: &str, info: &mut RepoInfo) -> Result<()> {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    info.files += 1;
    info.bytes += text.len() as u64;
    Ok(())
}

fn generate(root: &Path, spec: &Spec) -> Result<RepoInfo> {
    let fixed = platform_info();
    // Without a policy count to meet, each namespace is written as it is planned: at a million
    // objects nothing but the namespace at hand is held (a few kB, against 700 MB of text).
    let namespaces: Box<dyn Iterator<Item = Ns>> =
        if spec.policies > 0 { Box::new(plan(spec, &fixed).into_iter()) } else { Box::new(Planner::new(spec, &fixed)) };
    let mut info = RepoInfo { files: 0, bytes: 0, ..fixed };
    for (path, text) in PLATFORM {
        write_file(root, path, text, &mut info)?;
    }
    for ns in namespaces {
        let ns = &ns;
        info.namespaces += 1;
        info.objects += ns.objects();
        info.workloads += ns.apps.len();
        info.policies += ns.policies.len();
        write_file(root, &format!("{}/namespace.yaml", ns.name), &render_namespace(ns), &mut info)?;
        if let Some(text) = render_namespace_policies(ns) {
            write_file(root, &format!("{}/network-policies.yaml", ns.name), &text, &mut info)?;
        }
        for (i, app) in ns.apps.iter().enumerate() {
            write_file(root, &format!("{}/{}.yaml", ns.name, app.name), &render_app(ns, i), &mut info)?;
        }
    }
    Ok(info)
}

/// The marker of a generated repository: which generator (`kind`) at which `version` wrote it,
/// and what it holds. Shared by every generator of the benchmark.
pub(crate) fn marker_text(info: &RepoInfo, kind: &str, version: u32) -> String {
    format!(
        "{kind}={version}\nobjects={}\nworkloads={}\npolicies={}\nnamespaces={}\nfiles={}\nbytes={}\n",
        info.objects, info.workloads, info.policies, info.namespaces, info.files, info.bytes
    )
}

/// What a repository's marker says, when `kind` at `version` wrote it.
pub(crate) fn read_marker(dir: &Path, kind: &str, version: u32) -> Option<RepoInfo> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    let fields: BTreeMap<&str, u64> =
        text.lines().filter_map(|l| l.split_once('=')).filter_map(|(k, v)| Some((k, v.parse().ok()?))).collect();
    if fields.get(kind).copied() != Some(u64::from(version)) {
        return None;
    }
    let get = |k: &str| fields.get(k).copied();
    Some(RepoInfo {
        objects: get("objects")? as usize,
        workloads: get("workloads")? as usize,
        policies: get("policies")? as usize,
        namespaces: get("namespaces")? as usize,
        files: get("files")? as usize,
        bytes: get("bytes")?,
    })
}

/// The repository at `dir`, generated unless a marker of this generator version is there.
pub(crate) fn ensure_repo(dir: &Path, spec: &Spec) -> Result<RepoInfo> {
    generate_once(dir, "generator", GENERATOR_VERSION, |partial| generate(partial, spec))
}

/// The repository at `dir` as `write` generates it, unless a marker of `kind` at `version` is
/// there: written under a `.partial` sibling, marked, then renamed, so that an interrupted run
/// never leaves a repository that looks complete.
pub(crate) fn generate_once(
    dir: &Path,
    kind: &str,
    version: u32,
    write: impl FnOnce(&Path) -> Result<RepoInfo>,
) -> Result<RepoInfo> {
    if let Some(info) = read_marker(dir, kind, version) {
        println!("repository {} present ({} objects), not regenerated", dir.display(), info.objects);
        return Ok(info);
    }
    let started = Instant::now();
    let partial = dir.with_extension("partial");
    for stale in [dir, partial.as_path()] {
        if stale.exists() {
            fs::remove_dir_all(stale).map_err(|e| format!("cannot remove {}: {e}", stale.display()))?;
        }
    }
    let info = write(&partial)?;
    fs::write(partial.join(MARKER), marker_text(&info, kind, version))
        .map_err(|e| format!("cannot write the marker: {e}"))?;
    fs::rename(&partial, dir).map_err(|e| format!("cannot rename {} to {}: {e}", partial.display(), dir.display()))?;
    println!(
        "generated {} ({} objects, {} workloads, {} policies, {} files, {:.1} MB) in {:.1} s",
        dir.display(),
        info.objects,
        info.workloads,
        info.policies,
        info.files,
        info.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(info)
}
