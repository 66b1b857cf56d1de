//! Truth tables for the cluster tiers (DESIGN §4): AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`) and ClusterNetworkPolicy
//! (`v1alpha2`).
//!
//! Each table is written once, from the API reference (the kinds' field documentation and the
//! scenarios the upstream conformance suite exercises), in a neutral form ([`Pol`]), and rendered
//! in both API versions: the same rows must hold for each. A row is one connection and its
//! verdict, asserted through the command line twice: the `graph --format json` connectivity list
//! and `explain --port`. Every repository is then explained pair by pair in process, and the
//! tier decisions and NetworkPolicy admissions `explain` cites must add up to each side's verdict.
//!
//! What kubereach answers where the manifests cannot say (written in `src/graph/tiers.rs`):
//! `networks` match pods only when they cover a whole address family; a workload reaching itself
//! is not listed (no self edges), and `explain` of a workload to itself answers for its pods
//! reaching one another, which the tiers govern.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use kubereach::graph::explain::Party;
use kubereach::graph::{self, Conns, PeerId};
use kubereach::model::build::{self as analysis, LoadOptions};
use kubereach::profile::Profile;
use serde_json::Value;

mod common;
use common::{kubereach, repo_with, RunExt as _};

// ---------------------------------------------------------------------------------------------
// The cluster every table runs on
// ---------------------------------------------------------------------------------------------

/// Two tenants and an operations namespace. The container port `http` has a different number on
/// each workload, so that a named port is seen to be resolved on the destination.
const CLUSTER: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: red
  labels:
    tenant: red
---
apiVersion: v1
kind: Namespace
metadata:
  name: blue
  labels:
    tenant: blue
---
apiVersion: v1
kind: Namespace
metadata:
  name: ops
  labels:
    role: ops
---
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: red
  labels:
    app: api
spec:
  containers:
    - name: api
      image: api:1
      ports:
        - name: http
          containerPort: 8080
        - name: dns
          containerPort: 5353
          protocol: UDP
        - name: sig
          containerPort: 7777
          protocol: SCTP
        - containerPort: 9000
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: red
  labels:
    app: db
spec:
  containers:
    - name: db
      image: db:1
      ports:
        - name: pg
          containerPort: 5432
---
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: blue
  labels:
    app: api
spec:
  containers:
    - name: api
      image: api:1
      ports:
        - name: http
          containerPort: 8081
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: blue
  labels:
    app: web
spec:
  containers:
    - name: web
      image: web:1
      ports:
        - name: http
          containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: prom
  namespace: ops
  labels:
    app: prom
spec:
  containers:
    - name: prom
      image: prom:1
      ports:
        - name: metrics
          containerPort: 9100
";

/// A NetworkPolicy of namespace `ns`, `spec` indented by two spaces.
fn np(ns: &str, name: &str, spec: &str) -> String {
    format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}")
}

// ---------------------------------------------------------------------------------------------
// Tier policies in a neutral form, rendered in either API version
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Version {
    /// AdminNetworkPolicy and the BaselineAdminNetworkPolicy `default`.
    V1,
    /// ClusterNetworkPolicy.
    V2,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tier {
    Admin,
    Baseline,
}

#[derive(Clone, Copy)]
enum Act {
    Allow,
    Deny,
    Pass,
}

/// Label selectors are written as YAML flow mappings: `{}`, `{matchLabels: {tenant: red}}`.
#[derive(Clone, Copy)]
enum Peer {
    Ns(&'static str),
    Pods(&'static str, &'static str),
    Nets(&'static [&'static str]),
}

#[derive(Clone, Copy)]
enum Port {
    Num(&'static str, u16),
    Range(&'static str, u16, u16),
    Named(&'static str),
}

#[derive(Clone)]
struct Rule {
    action: Act,
    peers: Vec<Peer>,
    ports: Vec<Port>,
}

fn rule(action: Act, peers: &[Peer], ports: &[Port]) -> Rule {
    Rule { action, peers: peers.to_vec(), ports: ports.to_vec() }
}

#[derive(Clone)]
struct Pol {
    name: &'static str,
    tier: Tier,
    priority: u32,
    /// A namespace selector alone, or namespace and pod selectors.
    subject: (&'static str, Option<&'static str>),
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
}

fn admin(name: &'static str, priority: u32, subject: &'static str) -> Pol {
    Pol { name, tier: Tier::Admin, priority, subject: (subject, None), ingress: Vec::new(), egress: Vec::new() }
}

fn baseline(name: &'static str, priority: u32, subject: &'static str) -> Pol {
    Pol { tier: Tier::Baseline, ..admin(name, priority, subject) }
}

impl Pol {
    fn pods(mut self, namespaces: &'static str, pods: &'static str) -> Pol {
        self.subject = (namespaces, Some(pods));
        self
    }
    fn ingress(mut self, r: Rule) -> Pol {
        self.ingress.push(r);
        self
    }
    fn egress(mut self, r: Rule) -> Pol {
        self.egress.push(r);
        self
    }
}

const RED: &str = "{matchLabels: {tenant: red}}";
const BLUE: &str = "{matchLabels: {tenant: blue}}";
const OPS: &str = "{matchLabels: {role: ops}}";
const ALL: &str = "{}";

/// The policies in `version`: each Admin policy as an AdminNetworkPolicy or a ClusterNetworkPolicy;
/// the Baseline ones as the single BaselineAdminNetworkPolicy `default` (their rules in priority
/// order, which is what one policy evaluating them in turn means) or as ClusterNetworkPolicies.
fn render(version: Version, policies: &[Pol]) -> String {
    let mut out = String::new();
    let mut baselines: Vec<&Pol> = policies.iter().filter(|p| p.tier == Tier::Baseline).collect();
    baselines.sort_by_key(|p| p.priority);
    for p in policies {
        if version == Version::V1 && p.tier == Tier::Baseline {
            continue;
        }
        out.push_str("---\n");
        match version {
            Version::V1 => {
                writeln!(out, "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy").unwrap();
                writeln!(out, "metadata:\n  name: {}\nspec:\n  priority: {}", p.name, p.priority).unwrap();
            }
            Version::V2 => {
                writeln!(out, "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy").unwrap();
                let tier = if p.tier == Tier::Admin { "Admin" } else { "Baseline" };
                writeln!(out, "metadata:\n  name: {}\nspec:\n  tier: {tier}\n  priority: {}", p.name, p.priority)
                    .unwrap();
            }
        }
        subject(&mut out, p);
        rules(&mut out, version, p.tier, "ingress", "from", &p.ingress);
        rules(&mut out, version, p.tier, "egress", "to", &p.egress);
    }
    if version == Version::V1 && !baselines.is_empty() {
        let first = baselines[0];
        out.push_str("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n");
        out.push_str("metadata:\n  name: default\nspec:\n");
        for p in &baselines {
            assert!(p.subject == first.subject, "one BaselineAdminNetworkPolicy has one subject");
        }
        subject(&mut out, first);
        let ingress: Vec<Rule> = baselines.iter().flat_map(|p| p.ingress.clone()).collect();
        let egress: Vec<Rule> = baselines.iter().flat_map(|p| p.egress.clone()).collect();
        rules(&mut out, version, Tier::Baseline, "ingress", "from", &ingress);
        rules(&mut out, version, Tier::Baseline, "egress", "to", &egress);
    }
    out
}

fn subject(out: &mut String, p: &Pol) {
    match p.subject {
        (ns, None) => writeln!(out, "  subject:\n    namespaces: {ns}").unwrap(),
        (ns, Some(pods)) => {
            writeln!(out, "  subject:\n    pods:\n      namespaceSelector: {ns}\n      podSelector: {pods}").unwrap()
        }
    }
}

fn rules(out: &mut String, version: Version, tier: Tier, key: &str, peers_key: &str, rules: &[Rule]) {
    if rules.is_empty() {
        return;
    }
    writeln!(out, "  {key}:").unwrap();
    for (i, r) in rules.iter().enumerate() {
        let action = match (r.action, version) {
            (Act::Allow, Version::V1) => "Allow",
            (Act::Allow, Version::V2) => "Accept",
            (Act::Deny, _) => "Deny",
            (Act::Pass, _) => {
                assert!(version == Version::V2 || tier == Tier::Admin, "v1alpha1 has no Baseline Pass");
                "Pass"
            }
        };
        writeln!(out, "    - name: {key}-{}\n      action: {action}\n      {peers_key}:", i + 1).unwrap();
        for peer in &r.peers {
            match peer {
                Peer::Ns(sel) => writeln!(out, "        - namespaces: {sel}").unwrap(),
                Peer::Pods(ns, pods) => writeln!(
                    out,
                    "        - pods:\n            namespaceSelector: {ns}\n            podSelector: {pods}"
                )
                .unwrap(),
                Peer::Nets(cidrs) => writeln!(out, "        - networks: [{}]", cidrs.join(", ")).unwrap(),
            }
        }
        if r.ports.is_empty() {
            continue;
        }
        writeln!(out, "      {}:", if version == Version::V1 { "ports" } else { "protocols" }).unwrap();
        for port in &r.ports {
            let line = match (version, port) {
                (Version::V1, Port::Num(proto, n)) => format!("portNumber: {{protocol: {proto}, port: {n}}}"),
                (Version::V1, Port::Range(proto, a, b)) => {
                    format!("portRange: {{protocol: {proto}, start: {a}, end: {b}}}")
                }
                (Version::V1, Port::Named(name)) => format!("namedPort: {name}"),
                (Version::V2, Port::Num(proto, n)) => {
                    format!("{}: {{destinationPort: {{number: {n}}}}}", proto.to_ascii_lowercase())
                }
                (Version::V2, Port::Range(proto, a, b)) => {
                    format!("{}: {{destinationPort: {{range: {{start: {a}, end: {b}}}}}}}", proto.to_ascii_lowercase())
                }
                (Version::V2, Port::Named(name)) => format!("destinationNamedPort: {name}"),
            };
            writeln!(out, "        - {line}").unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows and their checks
// ---------------------------------------------------------------------------------------------

/// One connection: source, destination (`ns/name` of a Pod, or an address), `port/PROTOCOL`,
/// and whether it is allowed.
type Row = (&'static str, &'static str, &'static str, bool);

/// A table: its repository (beyond [`CLUSTER`]), its configuration, its rows.
struct Table {
    name: &'static str,
    policies: Vec<Pol>,
    /// Other files (NetworkPolicies, more workloads).
    extra: Vec<String>,
    config: &'static str,
    rows: Vec<Row>,
}

fn table(name: &'static str, policies: Vec<Pol>, rows: Vec<Row>) -> Table {
    Table { name, policies, extra: Vec::new(), config: "{}\n", rows }
}

impl Table {
    fn with(mut self, file: String) -> Table {
        self.extra.push(file);
        self
    }
    fn config(mut self, config: &'static str) -> Table {
        self.config = config;
        self
    }
}

fn endpoint_id(name: &str) -> String {
    if name.contains('[') {
        name.to_string()
    } else {
        format!("{name}[Pod]")
    }
}

fn parse_port(port: &str) -> (u16, String) {
    let (n, proto) = port.split_once('/').unwrap();
    (n.parse().unwrap(), proto.to_string())
}

fn ranges_hold(v: &Value, port: u16) -> bool {
    v.as_array().is_some_and(|r| {
        r.iter().any(|pair| pair[0].as_u64().unwrap() <= port as u64 && port as u64 <= pair[1].as_u64().unwrap())
    })
}

/// Whether the connectivity list holds the row's connection; `None` for an address of a family
/// the list names no range of (it lists IPv6 ranges only where some policy names one).
fn listed(graph: &Value, from: &str, to: &str, port: &str) -> Option<bool> {
    let (n, proto) = parse_port(port);
    let address: Option<IpAddr> = to.parse().ok();
    let connections = graph["connections"].as_array().unwrap();
    if let Some(a) = address {
        let family = if a.is_ipv4() { "IPv4" } else { "IPv6" };
        if !connections.iter().any(|c| c["dst"]["family"] == family || c["src"]["family"] == family) {
            return None;
        }
    }
    Some(connections.iter().any(|c| {
        if c["src"]["id"] != endpoint_id(from) {
            return false;
        }
        let dst = &c["dst"];
        let hit = match address {
            Some(a) => {
                dst["type"] == "external" && {
                    let first: IpAddr = dst["first"].as_str().unwrap().parse().unwrap();
                    let last: IpAddr = dst["last"].as_str().unwrap().parse().unwrap();
                    first.is_ipv4() == a.is_ipv4() && first <= a && a <= last
                }
            }
            None => dst["id"] == endpoint_id(to),
        };
        hit && ranges_hold(&c["protocols"][proto.as_str()], n)
    }))
}

/// Writes a table's repository in `version` and checks every row through `graph` and `explain`;
/// returns the repository for more checks.
fn run_table(t: &Table, version: Version) -> tempfile::TempDir {
    let tiers = render(version, &t.policies);
    let mut files: Vec<(String, String)> = vec![("cluster.yaml".into(), CLUSTER.into()), ("tiers.yaml".into(), tiers)];
    for (i, f) in t.extra.iter().enumerate() {
        files.push((format!("extra-{i}.yaml"), f.clone()));
    }
    files.push((".kubereach.yaml".into(), t.config.into()));
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let dir = repo_with(&borrowed);
    let out = kubereach(["graph"]).arg(dir.path()).args(["--format", "json"]).run();
    assert!(out.success(), "{}: {out}", t.name);
    let graph = out.json();
    let context = || format!("table `{}` in {version:?}:\n{}", t.name, files[1].1);
    for &(from, to, port, want) in &t.rows {
        let got = listed(&graph, from, to, port).unwrap_or(want);
        assert_eq!(got, want, "graph: {from} => {to} on {port}, {}", context());
        let out = kubereach(["explain"]).arg(dir.path()).args(["--from", from, "--to", to, "--port", port]).run();
        let verdict = if want { "allowed on" } else { "denied on" };
        assert_eq!(out.code, Some(if want { 0 } else { 1 }), "explain: {from} => {to} on {port}: {out}\n{}", context());
        assert!(out.stdout.lines().next().unwrap_or("").contains(verdict), "{out}\n{}", context());
    }
    explain_adds_up(dir.path(), &format!("{} ({version:?})", t.name));
    dir
}

fn run_both(t: &Table) {
    for version in [Version::V1, Version::V2] {
        run_table(t, version);
    }
}

/// Loads a repository with its own configuration's profile, as the command line does.
fn load_with_profile(dir: &Path) -> (analysis::Loaded, graph::Graph) {
    let config = kubereach::config::discover(dir).map(|p| kubereach::config::load(&p).unwrap()).unwrap_or_default();
    let profile: Profile = config.resolve_profile(None).unwrap();
    let loaded = analysis::load(&[dir.to_path_buf()], &LoadOptions::default()).expect("load");
    let g = graph::build_with(&loaded.single().model, &profile);
    (loaded, g)
}

/// On every ordered pair of workloads: `explain` agrees with the connectivity list, and on each
/// side the connections the tiers decided, those they left to the NetworkPolicies and those
/// nothing decided partition every connection, and what the side allows is exactly the sum of the
/// tiers' Allow decisions, the NetworkPolicy admissions it cites, Baseline passes and the default.
fn explain_adds_up(dir: &Path, what: &str) {
    use kubereach::model::tier::{Action, Tier};
    let (loaded, g) = load_with_profile(dir);
    let model = &loaded.single().model;
    let mut edges = std::collections::BTreeMap::new();
    g.for_each_edge(|src, dst, conns| {
        edges.insert((g.endpoint_name(src), g.endpoint_name(dst)), conns.clone());
        Ok::<(), ()>(())
    })
    .unwrap();
    for s in (0..g.peers.len()).map(PeerId::new) {
        for d in (0..g.peers.len()).map(PeerId::new) {
            let pair = format!("{what}: {} => {}", g.peers[s.index()].name, g.peers[d.index()].name);
            let e = g.explain(model, &Party::Peer(s), &Party::Peer(d));
            if s != d {
                let want = edges
                    .get(&(g.endpoint_name(&graph::Endpoint::Peer(s)), g.endpoint_name(&graph::Endpoint::Peer(d))))
                    .cloned()
                    .unwrap_or_else(Conns::none);
                assert_eq!(e.allowed, want, "{pair}");
            }
            for verdict in &e.pairs {
                for side in verdict.egress.iter().chain(verdict.ingress.iter()) {
                    let mut admitted = Conns::none();
                    side.admitting.iter().for_each(|a| admitted.union_with(&a.conns));
                    let Some(left) = &side.to_network_policies else {
                        // No tier policy for this side: the NetworkPolicies alone.
                        assert!(side.tiers.is_empty(), "{pair}");
                        if side.isolating.is_empty() {
                            assert!(side.allows.is_all(), "{pair}");
                        } else {
                            assert_eq!(admitted, side.allows, "{pair}");
                        }
                        continue;
                    };
                    let mut decided = Conns::none();
                    let mut sum = Conns::none();
                    for t in &side.tiers {
                        let tier = model.tier_policies[t.policy].tier;
                        assert!(t.conns.intersect(&decided).is_empty(), "{pair}: a connection decided twice");
                        match (tier, t.action) {
                            // Passed on: decided later, by the NetworkPolicies or the Baseline.
                            (Tier::Admin, Action::Pass) => continue,
                            (_, Action::Allow) | (Tier::Baseline, Action::Pass) => sum.union_with(&t.conns),
                            (_, Action::Deny) => {}
                        }
                        decided.union_with(&t.conns);
                    }
                    if side.isolating.is_empty() {
                        assert!(side.admitting.is_empty(), "{pair}");
                    } else {
                        assert!(
                            side.tiers.iter().all(|t| model.tier_policies[t.policy].tier == Tier::Admin),
                            "{pair}: the Baseline tier consulted for pods a NetworkPolicy isolates"
                        );
                        assert!(side.by_default.is_empty(), "{pair}");
                        assert!(admitted.subtract(left).is_empty(), "{pair}");
                    }
                    for part in [left, &side.by_default] {
                        assert!(part.intersect(&decided).is_empty(), "{pair}: decided and left over at once");
                        decided.union_with(part);
                    }
                    assert!(decided.is_all(), "{pair}: some connection neither decided nor left over");
                    sum.union_with(&admitted);
                    sum.union_with(&side.by_default);
                    assert_eq!(sum, side.allows, "{pair}: the cited decisions do not add up to the verdict");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------------------------

#[test]
fn the_lower_priority_value_is_consulted_first() {
    // Two Admin policies match blue's web on red's api: the lower priority value decides.
    let deny = admin("deny-blue", 20, RED).ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[]));
    let allow = admin("allow-web", 10, RED).ingress(rule(
        Act::Allow,
        &[Peer::Pods(BLUE, "{matchLabels: {app: web}}")],
        &[Port::Num("TCP", 8080)],
    ));
    run_both(&table(
        "priority",
        vec![deny.clone(), allow.clone()],
        vec![
            ("blue/web", "red/api", "8080/TCP", true),
            ("blue/web", "red/api", "9000/TCP", false),
            ("blue/api", "red/api", "8080/TCP", false),
            ("blue/web", "red/db", "5432/TCP", false),
            ("ops/prom", "red/api", "8080/TCP", true),
            ("red/api", "blue/api", "8081/TCP", true),
        ],
    ));
    // The same two policies with their priorities swapped: the Deny comes first.
    let mut deny_first = deny;
    deny_first.priority = 5;
    run_both(&table(
        "priority swapped",
        vec![deny_first, allow],
        vec![("blue/web", "red/api", "8080/TCP", false), ("ops/prom", "red/api", "8080/TCP", true)],
    ));
}

#[test]
fn rules_are_consulted_in_order_and_the_first_match_decides() {
    let p = admin("ordered", 5, RED)
        .ingress(rule(Act::Allow, &[Peer::Pods(BLUE, "{matchLabels: {app: web}}")], &[Port::Num("TCP", 8080)]))
        .ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[]))
        // Never reached for blue: the rule above took all of it.
        .ingress(rule(Act::Allow, &[Peer::Ns(BLUE)], &[]))
        .egress(rule(Act::Deny, &[Peer::Ns(OPS)], &[Port::Num("TCP", 9100)]))
        .egress(rule(Act::Allow, &[Peer::Ns(OPS)], &[]));
    run_both(&table(
        "rule order",
        vec![p],
        vec![
            ("blue/web", "red/api", "8080/TCP", true),
            ("blue/web", "red/api", "9000/TCP", false),
            ("blue/api", "red/api", "8080/TCP", false),
            ("blue/api", "red/db", "5432/TCP", false),
            ("red/api", "ops/prom", "9100/TCP", false),
            ("red/api", "ops/prom", "9101/TCP", true),
            ("red/db", "ops/prom", "9100/UDP", true),
        ],
    ));
}

/// Admin: blue's traffic to red is passed on; everyone else's denied.
fn pass_blue_deny_rest() -> Pol {
    admin("pass-blue", 1, RED).ingress(rule(Act::Pass, &[Peer::Ns(BLUE)], &[])).ingress(rule(
        Act::Deny,
        &[Peer::Ns(ALL)],
        &[],
    ))
}

/// red's api admits blue on 8080 only (isolating its ingress); red's db is not isolated.
fn red_api_admits_blue_on_8080() -> String {
    np(
        "red",
        "api-from-blue",
        "  podSelector:\n    matchLabels:\n      app: api\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              tenant: blue\n      ports:\n        - port: 8080\n",
    )
}

#[test]
fn pass_hands_on_to_the_network_policies_then_the_baseline_then_the_default() {
    // Passed traffic: the NetworkPolicy decides where one isolates the pod; elsewhere nothing
    // decides it and it is allowed (a Pass that hands on to nothing).
    let t = table(
        "pass to NetworkPolicy",
        vec![pass_blue_deny_rest()],
        vec![
            ("blue/web", "red/api", "8080/TCP", true),
            ("blue/web", "red/api", "9000/TCP", false),
            ("ops/prom", "red/api", "8080/TCP", false),
            ("blue/web", "red/db", "5432/TCP", true),
            ("ops/prom", "red/db", "5432/TCP", false),
            // Same namespace: the `{}` Deny covers red itself.
            ("red/api", "red/db", "5432/TCP", false),
        ],
    )
    .with(red_api_admits_blue_on_8080());
    run_both(&t);
    // With a Baseline default-deny for blue: db (no NetworkPolicy) reaches the Baseline tier, api
    // (isolated by a NetworkPolicy) never does.
    let mut t = t;
    t.name = "pass to NetworkPolicy, then Baseline";
    t.policies.push(baseline("default", 1, RED).ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[])));
    t.rows = vec![
        ("blue/web", "red/api", "8080/TCP", true),
        ("blue/web", "red/api", "9000/TCP", false),
        ("blue/web", "red/db", "5432/TCP", false),
        ("blue/api", "red/db", "5432/TCP", false),
    ];
    run_both(&t);
}

#[test]
fn the_baseline_tier_decides_only_where_no_network_policy_isolates_for_that_direction() {
    // red's api is isolated for ingress only: its egress goes to the Baseline tier.
    let b = baseline("default", 1, RED)
        .ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[]))
        .egress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[]))
        .egress(rule(Act::Allow, &[Peer::Ns(ALL)], &[]));
    run_both(
        &table(
            "baseline after NetworkPolicy",
            vec![b],
            vec![
                ("blue/web", "red/api", "8080/TCP", true),
                ("blue/web", "red/api", "9000/TCP", false),
                ("blue/web", "red/db", "5432/TCP", false),
                ("red/api", "blue/web", "80/TCP", false),
                ("red/db", "blue/web", "80/TCP", false),
                ("red/db", "ops/prom", "9100/TCP", true),
                ("ops/prom", "red/db", "5432/TCP", true),
            ],
        )
        .with(red_api_admits_blue_on_8080()),
    );
}

#[test]
fn a_baseline_pass_skips_the_rest_of_the_baseline_tier() {
    // v1alpha2 only: a BaselineAdminNetworkPolicy has no Pass. What the Baseline tier passes on
    // meets no later tier: the default allows it.
    let t = table(
        "baseline pass",
        vec![
            baseline("delegate-blue", 1, RED).ingress(rule(Act::Pass, &[Peer::Ns(BLUE)], &[Port::Num("TCP", 5432)])),
            baseline("deny-rest", 2, RED).ingress(rule(Act::Deny, &[Peer::Ns(ALL)], &[])),
        ],
        vec![
            ("blue/web", "red/db", "5432/TCP", true),
            ("blue/web", "red/db", "5433/TCP", false),
            ("ops/prom", "red/db", "5432/TCP", false),
        ],
    );
    run_table(&t, Version::V2);
}

#[test]
fn an_admin_allow_overrides_a_network_policy_deny() {
    let deny_all = np("red", "default-deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n");
    let p = admin("ops-reach", 3, RED).ingress(rule(Act::Allow, &[Peer::Ns(OPS)], &[])).egress(rule(
        Act::Allow,
        &[Peer::Ns(OPS)],
        &[Port::Num("TCP", 9100)],
    ));
    run_both(
        &table(
            "allow over NetworkPolicy deny",
            vec![p],
            vec![
                ("ops/prom", "red/api", "8080/TCP", true),
                ("ops/prom", "red/db", "5432/TCP", true),
                ("red/api", "ops/prom", "9100/TCP", true),
                ("red/api", "ops/prom", "9101/TCP", false),
                ("blue/web", "red/api", "8080/TCP", false),
                ("red/api", "blue/web", "80/TCP", false),
                ("red/api", "red/db", "5432/TCP", false),
            ],
        )
        .with(deny_all),
    );
}

#[test]
fn an_admin_deny_overrides_a_network_policy_allow() {
    let allow_all = np("red", "allow-all", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n    - {}\n");
    let p = admin("deny-blue", 3, RED).ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[]));
    run_both(
        &table(
            "deny over NetworkPolicy allow",
            vec![p],
            vec![
                ("blue/web", "red/api", "8080/TCP", false),
                ("blue/api", "red/db", "5432/TCP", false),
                ("ops/prom", "red/api", "8080/TCP", true),
                ("red/db", "red/api", "8080/TCP", true),
            ],
        )
        .with(allow_all),
    );
}

#[test]
fn ingress_and_egress_are_decided_separately_and_both_must_allow() {
    let red_in = admin("red-in", 1, RED).ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[]));
    let blue_out = admin("blue-out", 2, BLUE).egress(rule(Act::Allow, &[Peer::Ns(RED)], &[]));
    let red_out = admin("red-out", 3, RED).egress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[Port::Num("TCP", 80)]));
    let blue_in = admin("blue-in", 4, BLUE).ingress(rule(Act::Allow, &[Peer::Ns(RED)], &[]));
    // An egress Allow does not open the destination's ingress: red's db admits nothing.
    let db_closed =
        np("red", "db-closed", "  podSelector:\n    matchLabels:\n      app: db\n  policyTypes: [Ingress]\n");
    run_both(
        &table(
            "both directions",
            vec![red_in, blue_out, red_out, blue_in],
            vec![
                ("blue/api", "red/api", "8080/TCP", false),
                ("blue/web", "red/db", "5432/TCP", false),
                ("red/api", "blue/web", "80/TCP", false),
                ("red/api", "blue/web", "81/TCP", true),
                ("red/api", "blue/api", "8081/TCP", true),
                ("ops/prom", "red/db", "5432/TCP", false),
                ("ops/prom", "red/api", "9000/TCP", true),
            ],
        )
        .with(db_closed),
    );
}

#[test]
fn named_ports_are_resolved_on_the_destination() {
    // Ingress: `http` is each subject's own port (8080 on red's api, 8081 on blue's api, 80 on
    // blue's web). Egress: `pg` is the destination's.
    let p = admin("http-only", 1, ALL)
        .ingress(rule(Act::Allow, &[Peer::Ns(OPS)], &[Port::Named("http")]))
        .ingress(rule(Act::Deny, &[Peer::Ns(OPS)], &[]));
    let q = admin("pg-only", 2, BLUE).egress(rule(Act::Allow, &[Peer::Ns(RED)], &[Port::Named("pg")])).egress(rule(
        Act::Deny,
        &[Peer::Ns(RED)],
        &[],
    ));
    run_both(&table(
        "named ports",
        vec![p, q],
        vec![
            ("ops/prom", "red/api", "8080/TCP", true),
            ("ops/prom", "red/api", "8081/TCP", false),
            ("ops/prom", "blue/api", "8081/TCP", true),
            ("ops/prom", "blue/api", "8080/TCP", false),
            ("ops/prom", "blue/web", "80/TCP", true),
            ("ops/prom", "red/db", "5432/TCP", false),
            // blue → red: the egress allows only `pg`, which red's api lacks.
            ("blue/web", "red/db", "5432/TCP", true),
            ("blue/web", "red/db", "5433/TCP", false),
            ("blue/web", "red/api", "8080/TCP", false),
            ("blue/web", "red/api", "5432/TCP", false),
            ("blue/web", "blue/api", "8081/TCP", true),
        ],
    ));
}

#[test]
fn a_named_port_keeps_its_container_protocol() {
    // `dns` is UDP 5353 and `sig` SCTP 7777 on red's api: a named port matches that protocol
    // only.
    let p = admin("named-protocols", 1, RED).ingress(rule(
        Act::Deny,
        &[Peer::Ns(BLUE)],
        &[Port::Named("dns"), Port::Named("sig")],
    ));
    run_both(&table(
        "named port protocols",
        vec![p],
        vec![
            ("blue/web", "red/api", "5353/UDP", false),
            ("blue/web", "red/api", "5353/TCP", true),
            ("blue/web", "red/api", "7777/SCTP", false),
            ("blue/web", "red/api", "7777/TCP", true),
        ],
    ));
}

#[test]
fn port_ranges_are_inclusive_and_per_protocol() {
    let p = admin("range", 1, RED).ingress(rule(
        Act::Deny,
        &[Peer::Ns(BLUE)],
        &[Port::Range("TCP", 8000, 8999), Port::Range("UDP", 5000, 5400)],
    ));
    run_both(&table(
        "port ranges",
        vec![p],
        vec![
            ("blue/web", "red/api", "7999/TCP", true),
            ("blue/web", "red/api", "8000/TCP", false),
            ("blue/web", "red/api", "8080/TCP", false),
            ("blue/web", "red/api", "8999/TCP", false),
            ("blue/web", "red/api", "9000/TCP", true),
            ("blue/web", "red/api", "8080/UDP", true),
            ("blue/web", "red/api", "5353/UDP", false),
            ("blue/web", "red/api", "5353/TCP", true),
            ("blue/web", "red/api", "8080/SCTP", true),
        ],
    ));
}

#[test]
fn tcp_udp_and_sctp_port_numbers() {
    let p = admin("protocols", 1, RED)
        .ingress(rule(
            Act::Deny,
            &[Peer::Ns(BLUE)],
            &[Port::Num("SCTP", 7777), Port::Num("UDP", 5353), Port::Num("TCP", 9000)],
        ))
        .egress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[Port::Num("SCTP", 80)]));
    run_both(&table(
        "protocols",
        vec![p],
        vec![
            ("blue/web", "red/api", "7777/SCTP", false),
            ("blue/web", "red/api", "7777/TCP", true),
            ("blue/web", "red/api", "7777/UDP", true),
            ("blue/web", "red/api", "5353/UDP", false),
            ("blue/web", "red/api", "5353/TCP", true),
            ("blue/web", "red/api", "9000/TCP", false),
            ("blue/web", "red/api", "9000/UDP", true),
            ("blue/web", "red/api", "9000/SCTP", true),
            ("red/api", "blue/web", "80/SCTP", false),
            ("red/api", "blue/web", "80/TCP", true),
        ],
    ));
}

#[test]
fn a_v1alpha1_port_without_a_protocol_is_tcp() {
    // The CRD defaults `protocol` to TCP; v1alpha2 has no such field (the protocol is the key).
    let tiers = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: no-protocol\nspec:\n  priority: 1\n  subject:\n    namespaces: {matchLabels: {tenant: red}}\n  ingress:\n    - action: Deny\n      from:\n        - namespaces: {}\n      ports:\n        - portNumber: {port: 8080}\n        - portRange: {start: 9000, end: 9001}\n";
    let dir = repo_with(&[("cluster.yaml", CLUSTER), ("tiers.yaml", tiers)]);
    for (port, want) in [("8080/TCP", 1), ("8080/UDP", 0), ("9000/TCP", 1), ("9001/SCTP", 0)] {
        let out = kubereach(["explain"])
            .arg(dir.path())
            .args(["--from", "blue/web", "--to", "red/api", "--port", port])
            .run();
        assert_eq!(out.code, Some(want), "{port}: {out}");
    }
    explain_adds_up(dir.path(), "no protocol");
}

#[test]
fn networks_match_addresses_and_pods_only_when_they_cover_a_whole_family() {
    // Cloud metadata endpoints denied, in both families; a private range does not match pods
    // (their addresses are not in the manifests).
    let metadata = admin("metadata", 1, ALL)
        .egress(rule(Act::Deny, &[Peer::Nets(&["169.254.169.254/32", "fd00:ec2::254/128"])], &[]))
        .egress(rule(Act::Deny, &[Peer::Nets(&["10.0.0.0/8"])], &[Port::Num("TCP", 443)]));
    run_both(&table(
        "networks",
        vec![metadata],
        vec![
            ("red/api", "169.254.169.254", "80/TCP", false),
            ("red/api", "169.254.169.253", "80/TCP", true),
            ("red/api", "fd00:ec2::254", "80/TCP", false),
            ("red/api", "fd00:ec2::253", "80/TCP", true),
            ("red/api", "10.1.2.3", "443/TCP", false),
            ("red/api", "10.1.2.3", "80/TCP", true),
            ("red/api", "8.8.8.8", "443/TCP", true),
            ("red/api", "blue/web", "443/TCP", true),
        ],
    ));
    // 0.0.0.0/0 holds every IPv4 pod address: a Deny to it denies pod traffic too, and IPv6
    // addresses are left alone; a Pass for pods before it keeps them (the API's advice).
    let everything = admin("no-egress", 1, RED).egress(rule(Act::Deny, &[Peer::Nets(&["0.0.0.0/0"])], &[]));
    run_both(&table(
        "0.0.0.0/0",
        vec![everything.clone()],
        vec![
            ("red/api", "8.8.8.8", "53/UDP", false),
            ("red/api", "blue/web", "80/TCP", false),
            ("red/api", "red/db", "5432/TCP", false),
            ("red/api", "2001:db8::1", "443/TCP", true),
            ("blue/web", "red/api", "8080/TCP", true),
            ("blue/web", "8.8.8.8", "53/UDP", true),
        ],
    ));
    let mut pods_first = everything;
    pods_first.egress.insert(0, rule(Act::Pass, &[Peer::Ns(ALL)], &[]));
    run_both(&table(
        "0.0.0.0/0 after a Pass for pods",
        vec![pods_first],
        vec![
            ("red/api", "8.8.8.8", "53/UDP", false),
            ("red/api", "blue/web", "80/TCP", true),
            ("red/api", "red/db", "5432/TCP", true),
        ],
    ));
    // An Allow of 0.0.0.0/0 opens the egress to every pod past the source's NetworkPolicies; each
    // destination's ingress still decides.
    let red_closed = np("red", "default-deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n");
    let ops_closed = np("ops", "default-deny", "  podSelector: {}\n  policyTypes: [Ingress]\n");
    let blue_api_from_red = np(
        "blue",
        "api-from-red",
        "  podSelector:\n    matchLabels:\n      app: api\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              tenant: red\n      ports:\n        - port: 443\n",
    );
    let https_out =
        admin("https-out", 1, RED).egress(rule(Act::Allow, &[Peer::Nets(&["0.0.0.0/0"])], &[Port::Num("TCP", 443)]));
    run_both(
        &table(
            "0.0.0.0/0 Allow",
            vec![https_out],
            vec![
                ("red/api", "8.8.8.8", "443/TCP", true),
                ("red/api", "8.8.8.8", "80/TCP", false),
                ("red/api", "blue/web", "443/TCP", true),
                ("red/api", "blue/web", "80/TCP", false),
                ("red/api", "blue/api", "443/TCP", true),
                ("red/db", "blue/api", "8081/TCP", false),
                ("red/api", "ops/prom", "443/TCP", false),
                ("red/api", "red/db", "443/TCP", false),
            ],
        )
        .with(red_closed)
        .with(ops_closed)
        .with(blue_api_from_red),
    );
    // ::/0 holds every IPv6 address, but pod-to-pod traffic is taken to be IPv4 (single-stack
    // IPv4 and dual-stack clusters default to it): it does not match pods.
    let v6 = admin("no-v6", 1, RED).egress(rule(Act::Deny, &[Peer::Nets(&["::/0"])], &[]));
    run_both(&table(
        "::/0",
        vec![v6],
        vec![
            ("red/api", "2001:db8::1", "443/TCP", false),
            ("red/api", "8.8.8.8", "53/UDP", true),
            ("red/api", "blue/web", "80/TCP", true),
        ],
    ));
}

#[test]
fn explain_says_what_no_tier_rule_decided() {
    // The Admin tier decides TCP 8080 only: the rest is allowed by default, and said so.
    let p = admin("deny-8080", 1, RED).ingress(rule(Act::Deny, &[Peer::Ns(BLUE)], &[Port::Num("TCP", 8080)]));
    for version in [Version::V1, Version::V2] {
        let tiers = render(version, std::slice::from_ref(&p));
        let dir = repo_with(&[("cluster.yaml", CLUSTER), ("tiers.yaml", &tiers)]);
        let out = kubereach(["explain"]).arg(dir.path()).args(["--from", "blue/web", "--to", "red/api"]).run();
        assert!(out.stdout.contains("denies TCP 8080"), "{out}");
        assert!(out.stdout.contains("allowed by default (no tier rule matches)"), "{out}");
        assert!(!out.stdout.contains("decided every connection"), "{out}");
    }
}

#[test]
fn the_subject_is_namespaces_or_pods_in_namespaces() {
    let by_pods = admin("db-closed", 1, RED).pods(RED, "{matchLabels: {app: db}}").ingress(rule(
        Act::Deny,
        &[Peer::Ns(ALL)],
        &[],
    ));
    run_both(&table(
        "subject pods",
        vec![by_pods],
        vec![
            ("blue/web", "red/db", "5432/TCP", false),
            ("red/api", "red/db", "5432/TCP", false),
            ("blue/web", "red/api", "8080/TCP", true),
            ("red/db", "red/api", "8080/TCP", true),
        ],
    ));
    let by_namespaces = admin("red-closed", 1, RED).ingress(rule(Act::Deny, &[Peer::Ns(ALL)], &[]));
    run_both(&table(
        "subject namespaces",
        vec![by_namespaces],
        vec![
            ("blue/web", "red/db", "5432/TCP", false),
            ("blue/web", "red/api", "8080/TCP", false),
            ("red/db", "red/api", "8080/TCP", false),
            ("red/api", "blue/web", "80/TCP", true),
        ],
    ));
    // A pod peer: the pods of the namespaces its selector matches.
    let peer_pods =
        admin("from-prom", 1, ALL).ingress(rule(Act::Deny, &[Peer::Pods(ALL, "{matchLabels: {app: web}}")], &[]));
    run_both(&table(
        "peer pods",
        vec![peer_pods],
        vec![
            ("blue/web", "red/api", "8080/TCP", false),
            ("blue/web", "blue/api", "8081/TCP", false),
            ("blue/api", "red/api", "8080/TCP", true),
        ],
    ));
}

#[test]
fn a_workload_reaching_itself() {
    // The connectivity list has no self pairs. `explain` of a workload to itself answers for its
    // pods reaching one another, which the tiers govern (a pod's traffic to its own address is
    // not subject to them, and is not what is asked).
    let batch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: batch\n  namespace: red\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: batch\n  template:\n    metadata:\n      labels:\n        app: batch\n    spec:\n      containers:\n        - name: batch\n          image: batch:1\n";
    let p = admin("no-peers", 1, RED).ingress(rule(Act::Deny, &[Peer::Ns(RED)], &[]));
    for version in [Version::V1, Version::V2] {
        let t = table("self", vec![p.clone()], vec![("red/api", "red/batch[Deployment]", "80/TCP", false)])
            .with(batch.to_string());
        let dir = run_table(&t, version);
        let graph = kubereach(["graph"]).arg(dir.path()).args(["--format", "json"]).run().json();
        for c in graph["connections"].as_array().unwrap() {
            assert_ne!(c["src"]["id"], c["dst"]["id"], "a self pair: {c}");
        }
        let out = kubereach(["explain"])
            .arg(dir.path())
            .args(["--from", "red/batch[Deployment]", "--to", "red/batch[Deployment]", "--port", "80"])
            .run();
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.stdout.contains("ingress rule 1"), "{out}");
    }
}

#[test]
fn tiers_are_inert_where_the_profile_does_not_enforce_them() {
    let deny = admin("deny-all", 1, ALL).ingress(rule(Act::Deny, &[Peer::Ns(ALL)], &[]));
    let rows_enforced = vec![("blue/web", "red/api", "8080/TCP", false), ("red/api", "blue/web", "80/TCP", false)];
    let rows_inert = vec![("blue/web", "red/api", "8080/TCP", true), ("red/api", "blue/web", "80/TCP", true)];
    for (config, rows) in [
        ("profile: aks-azure-cni\n", rows_inert.clone()),
        ("profile: aks-cilium\n", rows_inert),
        ("profile: aks-calico\n", rows_enforced.clone()),
        ("{}\n", rows_enforced.clone()),
        ("profile: aks-azure-cni\ncluster:\n  tiers-enforced: true\n", rows_enforced),
    ] {
        for version in [Version::V1, Version::V2] {
            let t = table("profiles", vec![deny.clone()], rows.clone()).config(config);
            let dir = run_table(&t, version);
            let _ = dir;
        }
    }
    // The command line's profile too.
    let t = table("profile flag", vec![deny], vec![]);
    let dir = run_table(&t, Version::V2);
    let inert = kubereach(["graph"]).arg(dir.path()).args(["--profile", "aks-azure-cni"]).run().ok();
    assert!(inert.contains("blue/web[Pod] => red/api[Pod] : All Connections"), "{inert}");
    let enforced = kubereach(["graph"]).arg(dir.path()).run().ok();
    assert!(!enforced.contains("blue/web[Pod] => red/api[Pod]"), "{enforced}");
}
