//! The graph stage with the cluster tiers (issue 15): the 10,000-workload, 5,000-policy repository
//! of the graph stage (generated under `apps/`) and 200 tier policies beside it
//! (`cluster-tiers/`), the mix a platform team writes for tenants sharing a cluster:
//!
//! * Admin: a Pass for the monitoring namespace's scrapes (left to the NetworkPolicies), a Deny
//!   of the cloud metadata addresses, an Accept of DNS, per team an AdminNetworkPolicy isolating
//!   the tenant (Pass inside the team and from the ingress controller, Deny from and to every
//!   other namespace), per environment a Deny from `dev` into `prod`, per team a
//!   ClusterNetworkPolicy guarding its databases (Accept from its own pods on a port range, Deny
//!   the rest), per team an egress Accept of HTTPS to `0.0.0.0/0` for its frontends, and for some
//!   namespaces an Accept from the ingress controller on a named port;
//! * Baseline: the BaselineAdminNetworkPolicy `default` (a default-deny of ingress from other
//!   namespaces) and per team a Baseline ClusterNetworkPolicy (Accept inside the team, Deny from
//!   every namespace).
//!
//! The teams and namespaces are read back from the generated `namespace.yaml` files, so the
//! selectors match what the generator wrote whatever its word lists.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::generate::{ensure_repo, generate_once, write_file, RepoInfo, Spec};
use crate::measure::{measure, Summary};
use crate::Result;

pub(crate) const DIR: &str = "graph-10k-5k-tiers";
/// Bump whenever the generated tier policies change.
const VERSION: u32 = 1;
/// How many tier policies the repository holds.
pub(crate) const TIER_POLICIES: usize = 200;

/// The teams and namespaces of a generated repository, from its `*/namespace.yaml` files.
fn teams_and_namespaces(apps: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let mut teams = BTreeSet::new();
    let mut namespaces = Vec::new();
    let entries = fs::read_dir(apps).map_err(|e| format!("cannot read {}: {e}", apps.display()))?;
    let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(text) = fs::read_to_string(dir.join("namespace.yaml")) else { continue };
        if let Some(name) = dir.file_name().and_then(|n| n.to_str()) {
            namespaces.push(name.to_string());
        }
        for line in text.lines() {
            if let Some(team) = line.trim().strip_prefix("team: ") {
                teams.insert(team.to_string());
            }
        }
    }
    Ok((teams.into_iter().collect(), namespaces))
}

/// The next priority of the Admin tier: each policy its own, so that no two are tied.
fn next(priority: &mut u32) -> u32 {
    *priority += 1;
    *priority
}

/// Appends one document to a YAML stream.
fn doc(out: &mut String, text: String) {
    out.push_str("---\n");
    out.push_str(&text);
}

/// The 200 tier policies, one YAML stream per file name.
fn tier_policies(teams: &[String], namespaces: &[String]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut priority = 0;
    let mut platform = String::new();
    doc(
        &mut platform,
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: pass-monitoring\nspec:\n  priority: {}\n  subject:\n    namespaces: {{}}\n  ingress:\n    - name: scrapes-go-to-namespace-owners\n      action: Pass\n      from:\n        - namespaces:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n",
            next(&mut priority)
        ),
    );
    doc(
        &mut platform,
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: deny-cloud-metadata\nspec:\n  tier: Admin\n  priority: {}\n  subject:\n    namespaces: {{}}\n  egress:\n    - name: metadata\n      action: Deny\n      to:\n        - networks: [169.254.169.254/32, fd00:ec2::254/128]\n",
            next(&mut priority)
        ),
    );
    doc(
        &mut platform,
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: allow-dns\nspec:\n  tier: Admin\n  priority: {}\n  subject:\n    namespaces: {{}}\n  egress:\n    - name: dns\n      action: Accept\n      to:\n        - pods:\n            namespaceSelector:\n              matchLabels:\n                kubernetes.io/metadata.name: kube-system\n            podSelector:\n              matchLabels:\n                k8s-app: kube-dns\n      protocols:\n        - udp: {{destinationPort: {{number: 53}}}}\n        - tcp: {{destinationPort: {{number: 53}}}}\n",
            next(&mut priority)
        ),
    );
    for (from, to) in [("dev", "prod"), ("staging", "prod"), ("dev", "staging")] {
        doc(
            &mut platform,
            format!(
                "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: deny-{from}-to-{to}\nspec:\n  tier: Admin\n  priority: {}\n  subject:\n    namespaces:\n      matchLabels:\n        env: {to}\n  ingress:\n    - name: no-{from}\n      action: Deny\n      from:\n        - namespaces:\n            matchLabels:\n              env: {from}\n",
                next(&mut priority)
            ),
        );
    }
    files.push(("platform.yaml".to_string(), platform));

    let mut tenants = String::new();
    for team in teams {
        doc(
            &mut tenants,
            format!(
                "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: tenant-{team}\nspec:\n  priority: {}\n  subject:\n    namespaces:\n      matchLabels:\n        team: {team}\n  ingress:\n    - name: own-team\n      action: Pass\n      from:\n        - namespaces:\n            matchLabels:\n              team: {team}\n    - name: ingress-controller\n      action: Pass\n      from:\n        - pods:\n            namespaceSelector:\n              matchLabels:\n                kubernetes.io/metadata.name: ingress-nginx\n            podSelector:\n              matchLabels:\n                app.kubernetes.io/name: ingress-nginx\n    - name: monitoring\n      action: Pass\n      from:\n        - namespaces:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n    - name: other-tenants\n      action: Deny\n      from:\n        - namespaces: {{}}\n  egress:\n    - name: own-team\n      action: Pass\n      to:\n        - namespaces:\n            matchLabels:\n              team: {team}\n        - namespaces:\n            matchLabels:\n              team: platform\n    - name: other-tenants\n      action: Deny\n      to:\n        - namespaces: {{}}\n",
                next(&mut priority)
            ),
        );
    }
    for team in teams {
        doc(
            &mut tenants,
            format!(
                "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: databases-{team}\nspec:\n  tier: Admin\n  priority: {}\n  subject:\n    pods:\n      namespaceSelector:\n        matchLabels:\n          team: {team}\n      podSelector:\n        matchLabels:\n          tier: db\n  ingress:\n    - name: own-pods\n      action: Accept\n      from:\n        - pods:\n            namespaceSelector:\n              matchLabels:\n                team: {team}\n            podSelector:\n              matchExpressions:\n                - {{key: tier, operator: In, values: [backend, worker]}}\n      protocols:\n        - tcp: {{destinationPort: {{range: {{start: 5432, end: 5433}}}}}}\n        - tcp: {{destinationPort: {{number: 3306}}}}\n    - name: nobody-else\n      action: Deny\n      from:\n        - namespaces: {{}}\n",
                next(&mut priority)
            ),
        );
    }
    for team in teams {
        doc(
            &mut tenants,
            format!(
                "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: frontends-https-{team}\nspec:\n  tier: Admin\n  priority: {}\n  subject:\n    pods:\n      namespaceSelector:\n        matchLabels:\n          team: {team}\n      podSelector:\n        matchLabels:\n          tier: frontend\n  egress:\n    - name: cluster-first\n      action: Pass\n      to:\n        - namespaces: {{}}\n    - name: https-out\n      action: Accept\n      to:\n        - networks: [0.0.0.0/0, ::/0]\n      protocols:\n        - tcp: {{destinationPort: {{number: 443}}}}\n",
                next(&mut priority)
            ),
        );
    }
    files.push(("tenants.yaml".to_string(), tenants));

    let mut baseline = String::new();
    doc(
        &mut baseline,
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: default\nspec:\n  subject:\n    namespaces: {}\n  ingress:\n    - name: same-namespace-only\n      action: Deny\n      from:\n        - namespaces:\n            matchLabels:\n              env: dev\n".to_string(),
    );
    let mut baseline_priority = 0;
    for team in teams {
        baseline_priority += 1;
        doc(
            &mut baseline,
            format!(
                "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: baseline-{team}\nspec:\n  tier: Baseline\n  priority: {baseline_priority}\n  subject:\n    namespaces:\n      matchLabels:\n        team: {team}\n  ingress:\n    - name: own-team\n      action: Accept\n      from:\n        - namespaces:\n            matchLabels:\n              team: {team}\n    - name: default-deny\n      action: Deny\n      from:\n        - namespaces: {{}}\n",
            ),
        );
    }
    files.push(("baseline.yaml".to_string(), baseline));

    // The rest: per namespace, an Accept from the ingress controller on the named port `http`.
    let count: usize = files.iter().map(|(_, text): &(String, String)| text.matches("---\n").count()).sum();
    let mut per_namespace = String::new();
    for (i, ns) in namespaces.iter().cycle().take(TIER_POLICIES.saturating_sub(count)).enumerate() {
        doc(
            &mut per_namespace,
            format!(
                "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: edge-{ns}-{i}\nspec:\n  tier: Admin\n  priority: {}\n  subject:\n    namespaces:\n      matchLabels:\n        kubernetes.io/metadata.name: {ns}\n  ingress:\n    - name: from-edge\n      action: Accept\n      from:\n        - pods:\n            namespaceSelector:\n              matchLabels:\n                kubernetes.io/metadata.name: ingress-nginx\n            podSelector: {{}}\n      protocols:\n        - destinationNamedPort: http\n",
                next(&mut priority).min(1000)
            ),
        );
    }
    files.push(("per-namespace.yaml".to_string(), per_namespace));
    files
}

/// The repository, generated once: `apps/` as the graph-stage repository, `cluster-tiers/` the
/// tier policies.
pub(crate) fn ensure(dir: &Path, spec: &Spec) -> Result<RepoInfo> {
    generate_once(dir, "tier-shape", VERSION, |partial| {
        fs::create_dir_all(partial).map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
        let apps = partial.join("apps");
        let mut info = ensure_repo(&apps, spec)?;
        let (teams, namespaces) = teams_and_namespaces(&apps)?;
        let files = tier_policies(&teams, &namespaces);
        let mut written = 0;
        for (name, text) in &files {
            written += text.matches("\nkind: ").count();
            write_file(partial, &format!("cluster-tiers/{name}"), text, &mut info)?;
        }
        if written != TIER_POLICIES {
            return Err(format!("wrote {written} tier policies, meant {TIER_POLICIES}"));
        }
        info.objects += written;
        Ok(info)
    })
}

/// Measures `graph` on the repository; the section of the results.
pub(crate) fn measure_tiers(repos: &Path, bin: &Path, spec: &Spec, runs: usize) -> Result<String> {
    let dir = repos.join(DIR);
    let info = ensure(&dir, spec)?;
    println!("measuring the graph stage with {TIER_POLICIES} tier policies on {DIR}: {runs} runs");
    let graph: Summary = measure(bin, "graph", &dir, &["--format", "json"], runs)?;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\n## Graph stage with the cluster tiers ({} workloads, {} NetworkPolicies, {TIER_POLICIES} tier policies)\n",
        info.workloads, info.policies
    );
    let _ = writeln!(text, "| | median | min–max |\n| --- | --: | --: |");
    for (label, stage) in [("load", "load"), ("graph", "graph"), ("report", "report"), ("total", "total")] {
        let values = graph.values(stage, "ms");
        let (lo, hi) = crate::measure::min_max(&values);
        let _ = writeln!(text, "| {label} | {:.0} ms | {lo:.0}–{hi:.0} ms |", graph.median(stage, "ms"));
    }
    let rss = graph.median("total", "peak_rss_kib") / 1024.0;
    let _ = writeln!(text, "| peak RSS | {rss:.0} MiB | |");
    let _ = writeln!(text, "| edges | {} | |", graph.count("total", "edges"));
    Ok(text)
}
