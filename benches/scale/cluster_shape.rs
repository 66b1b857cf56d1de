//! The "real cluster" shape (issue 13): a generated repository after the published figures of a
//! large production cluster's policies (5,413 workloads in 604 namespaces under 13,678
//! NetworkPolicies, 26% of them empty), its generation under `target/bench-repos/cluster-shape/`
//! (once per [`VERSION`]) and its report section (`graph` and `check`, every stage, peak RSS).
//!
//! The synthetic repositories are kind to the engine: their peers select few pods. This one
//! repeats cluster-wide peers (monitoring from every namespace, the ingress controller's
//! `namespaceSelector` over all environments) in every namespace, which is what makes a real
//! cluster's graph stage expensive. Every figure comes from a seeded generator; no data is copied.

use std::fmt::Write as _;
use std::path::Path;

use crate::generate::{generate_once, platform_info, write_file, RepoInfo, PLATFORM};
use crate::measure::{measure, median, min_max};
use crate::report::{mib, table, thousands};
use crate::Result;

/// Bump whenever the generated text changes: a repository of another version is regenerated.
const VERSION: u32 = 1;
pub(crate) const DIR: &str = "cluster-shape";
const SEED: u64 = 0x636c_7573_7465_7231;

/// The published figures the shape follows.
const NAMESPACES: usize = 604;
const WORKLOADS: usize = 5_413;
const POLICIES: usize = 13_678;
/// 26% of the policies select pods and admit nothing.
const EMPTY: usize = POLICIES * 26 / 100;
/// Policies every namespace has (default-deny, DNS, monitoring, ingress controller, three
/// tier-to-tier rules, the team rule, the ipBlock egress).
const FIXED: usize = 9;
/// Workloads with a policy of their own: what the total leaves after the fixed and empty ones.
const OWN: usize = POLICIES - EMPTY - FIXED * NAMESPACES;

const TEAMS: usize = 40;
const ENVS: [&str; 3] = ["prod", "staging", "dev"];
/// A tier: its name, its named ports (name, port) and the tier it calls.
type Tier = (&'static str, &'static [(&'static str, u16)], &'static str);
const TIERS: [Tier; 4] = [
    ("web", &[("http", 8080)], "api"),
    ("api", &[("http", 8080), ("grpc", 9090)], "db"),
    ("db", &[("postgres", 5432)], "cache"),
    ("cache", &[("redis", 6379)], "db"),
];

/// splitmix64: deterministic across platforms and releases, unlike the standard library's hashers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The share of `total` that falls to item `i` of `n`, spread evenly (counts stay exact).
fn share(total: usize, i: usize, n: usize) -> usize {
    total * (i + 1) / n - total * i / n
}

fn namespace(name: &str, team: usize, env: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    team: team-{team:02}\n    env: {env}\n    kubernetes.io/metadata.name: {name}\n"
    )
}

fn workload(out: &mut String, ns: &str, name: &str, tier: usize, team: usize, rng: &mut Rng) {
    let (tier_name, ports, _) = TIERS[tier];
    let kind = if tier_name == "db" { "StatefulSet" } else { "Deployment" };
    let _ = write!(
        out,
        "---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: {name}\n    tier: {tier_name}\n    team: team-{team:02}\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n        tier: {tier_name}\n        team: team-{team:02}\n      annotations:\n        prometheus.io/scrape: \"true\"\n        prometheus.io/port: \"9102\"\n    spec:\n      containers:\n        - name: main\n          image: 'registry.example.com/team-{team:02}/{name}:1.{}.{}'\n          ports:\n",
        1 + rng.below(3),
        rng.below(40),
        rng.below(10)
    );
    for (port_name, port) in ports.iter().chain(&[("metrics", 9102)]) {
        let _ = write!(out, "            - name: {port_name}\n              containerPort: {port}\n");
    }
}

/// `ports:` entries naming the ports of `tier`.
fn named_ports(tier: usize, indent: &str) -> String {
    TIERS[tier].1.iter().map(|(name, _)| format!("{indent}- port: {name}\n{indent}  protocol: TCP\n")).collect()
}

fn tier_index(name: &str) -> usize {
    TIERS.iter().position(|t| t.0 == name).unwrap_or(0)
}

fn policy(out: &mut String, ns: &str, name: &str, body: &str) {
    let _ = write!(
        out,
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{body}"
    );
}

/// The policies every namespace has; the cluster-wide peers are repeated in each.
fn fixed_policies(out: &mut String, ns: &str, team: usize) {
    policy(out, ns, "default-deny", "  podSelector: {}\n  policyTypes: [\"Ingress\", \"Egress\"]\n");
    policy(
        out,
        ns,
        "allow-dns",
        "  podSelector: {}\n  policyTypes: [\"Egress\"]\n  egress:\n    - to:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: \"kube-system\"\n          podSelector:\n            matchLabels:\n              k8s-app: \"kube-dns\"\n      ports:\n        - port: 53\n          protocol: UDP\n        - port: 53\n          protocol: TCP\n",
    );
    // Cluster-wide: every pod of every namespace may scrape, as the published analysis found.
    policy(
        out,
        ns,
        "allow-monitoring",
        "  podSelector: {}\n  policyTypes: [\"Ingress\"]\n  ingress:\n    - from:\n        - namespaceSelector: {}\n      ports:\n        - port: metrics\n          protocol: TCP\n",
    );
    policy(
        out,
        ns,
        "allow-ingress-controller",
        "  podSelector:\n    matchLabels:\n      tier: \"web\"\n  policyTypes: [\"Ingress\"]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchExpressions:\n              - key: env\n                operator: In\n                values: [\"prod\", \"staging\", \"dev\"]\n      ports:\n        - port: http\n          protocol: TCP\n",
    );
    for (from, to) in [("web", "api"), ("api", "db"), ("api", "cache")] {
        policy(
            out,
            ns,
            &format!("{from}-to-{to}"),
            &format!(
                "  podSelector:\n    matchLabels:\n      tier: \"{to}\"\n  policyTypes: [\"Ingress\"]\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              tier: \"{from}\"\n      ports:\n{}",
                named_ports(tier_index(to), "        ")
            ),
        );
    }
    policy(
        out,
        ns,
        "allow-team",
        &format!(
            "  podSelector:\n    matchLabels:\n      tier: \"api\"\n  policyTypes: [\"Ingress\"]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchExpressions:\n              - key: team\n                operator: In\n                values: [\"team-{team:02}\"]\n              - key: env\n                operator: NotIn\n                values: [\"dev\"]\n          podSelector:\n            matchExpressions:\n              - key: tier\n                operator: In\n                values: [\"web\", \"api\"]\n      ports:\n        - port: http\n          protocol: TCP\n"
        ),
    );
    policy(
        out,
        ns,
        "allow-external-egress",
        "  podSelector:\n    matchLabels:\n      tier: \"api\"\n  policyTypes: [\"Egress\"]\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n            except: [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"]\n      ports:\n        - port: 443\n          protocol: TCP\n",
    );
}

/// A workload's own egress to the tier it calls, by named port.
fn own_policy(out: &mut String, ns: &str, name: &str, tier: usize) {
    let callee = tier_index(TIERS[tier].2);
    policy(
        out,
        ns,
        &format!("{name}-egress"),
        &format!(
            "  podSelector:\n    matchLabels:\n      app: \"{name}\"\n  policyTypes: [\"Egress\"]\n  egress:\n    - to:\n        - podSelector:\n            matchLabels:\n              tier: \"{}\"\n      ports:\n{}",
            TIERS[callee].0,
            named_ports(callee, "        ")
        ),
    );
}

/// An empty policy: selects pods and admits nothing (three spellings of it, as clusters have).
fn empty_policy(out: &mut String, ns: &str, k: usize, app: &str) {
    let body = match k % 3 {
        0 => format!("  podSelector:\n    matchLabels:\n      app: \"{app}\"\n  policyTypes: [\"Ingress\"]\n"),
        1 => format!("  podSelector:\n    matchLabels:\n      app: \"{app}\"\n  policyTypes: [\"Ingress\"]\n  ingress: []\n"),
        _ => format!(
            "  podSelector:\n    matchLabels:\n      app: \"{app}\"\n  policyTypes: [\"Ingress\", \"Egress\"]\n  ingress: []\n  egress: []\n"
        ),
    };
    policy(out, ns, &format!("legacy-{k}"), &body);
}

fn generate(root: &Path) -> Result<RepoInfo> {
    let mut info = RepoInfo { files: 0, bytes: 0, ..platform_info() };
    for (path, text) in PLATFORM {
        write_file(root, path, text, &mut info)?;
    }
    let mut rng = Rng(SEED);
    let mut global = 0;
    for i in 0..NAMESPACES {
        let team = rng.below(TEAMS);
        let env = ENVS[rng.below(ENVS.len())];
        let ns = format!("team-{team:02}-{env}-{i:03}");
        let workloads = share(WORKLOADS, i, NAMESPACES);
        let empties = share(EMPTY, i, NAMESPACES);
        // One large file of workloads and one of policies per namespace: real repositories
        // (exports, Helm output) come in long files rather than one object per file.
        let mut apps = namespace(&ns, team, env);
        let mut policies = String::new();
        fixed_policies(&mut policies, &ns, team);
        let mut names = Vec::with_capacity(workloads);
        let mut own = 0;
        for w in 0..workloads {
            let tier = w % TIERS.len();
            let name = format!("{}-{w}", TIERS[tier].0);
            workload(&mut apps, &ns, &name, tier, team, &mut rng);
            // Spread OWN over all workloads in order, so that the total is exact.
            if share(OWN, global, WORKLOADS) > 0 {
                own_policy(&mut policies, &ns, &name, tier);
                own += 1;
            }
            global += 1;
            names.push(name);
        }
        for k in 0..empties {
            let app = names.get(rng.below(names.len())).map_or("none", String::as_str);
            empty_policy(&mut policies, &ns, k, app);
        }
        write_file(root, &format!("{ns}/workloads.yaml"), &apps, &mut info)?;
        write_file(root, &format!("{ns}/network-policies.yaml"), &policies, &mut info)?;
        info.namespaces += 1;
        info.workloads += workloads;
        info.policies += FIXED + own + empties;
        info.objects += 1 + workloads + FIXED + own + empties;
    }
    Ok(info)
}

/// The repository under `dir`, generated unless a marker of this version is there.
pub(crate) fn ensure(dir: &Path) -> Result<RepoInfo> {
    generate_once(dir, "cluster-shape", VERSION, generate)
}

/// Generates (once) and measures the repository; its report section.
pub(crate) fn measure_shape(repos: &Path, bin: &Path, runs: usize) -> Result<String> {
    let dir = repos.join(DIR);
    let info = ensure(&dir)?;
    println!("measuring {DIR}: graph --format json, {runs} runs");
    let graph = measure(bin, "graph", &dir, &["--format", "json"], runs)?;
    println!("  check --format json, {runs} runs");
    let check = measure(bin, "check", &dir, &["--format", "json"], runs)?;
    let mut out = String::from("\n## The shape of a real cluster (`target/bench-repos/cluster-shape`)\n\n");
    let _ = writeln!(
        out,
        "{} objects ({} workloads, {} NetworkPolicies of which {} empty, {} namespaces), {} files, {:.1} MB; cluster-wide monitoring and ingress peers in every namespace. Medians of {runs} runs.\n",
        thousands(info.objects as u64),
        thousands(info.workloads as u64),
        thousands(info.policies as u64),
        thousands(EMPTY as u64),
        thousands(info.namespaces as u64),
        thousands(info.files as u64),
        info.bytes as f64 / 1e6
    );
    let mut rows = Vec::new();
    for (command, summary) in [("`graph --format json`", &graph), ("`check --format json`", &check)] {
        // In the order the binary runs them; `rules` only in `check`.
        let order = ["load", "graph", "rules", "report", "total"];
        let stages = order.into_iter().filter(|s| !summary.values(s, "ms").is_empty());
        for stage in stages {
            let ms = summary.values(stage, "ms");
            let (lo, hi) = min_max(&ms);
            rows.push(vec![
                command.to_string(),
                stage.to_string(),
                format!("{:.1}", median(ms)),
                format!("{lo:.1}"),
                format!("{hi:.1}"),
                mib(summary.median(stage, "peak_rss_kib")),
            ]);
        }
    }
    table(&mut out, &["run", "stage", "median ms", "min ms", "max ms", "median peak RSS MiB"], &rows);
    let _ = writeln!(
        out,
        "Graph: {} classes, {} peers, {} edges. Goals of issue 13: `check` under 500 ms on 2 cores ({:.0} ms), graph stage under 200 ms ({:.0} ms).",
        thousands(graph.count("total", "classes")),
        thousands(graph.count("total", "peers")),
        thousands(graph.count("total", "edges")),
        check.median("total", "ms"),
        graph.median("graph", "ms")
    );
    Ok(out)
}
