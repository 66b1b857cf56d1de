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
//! 3. runs `--format txt` once and `-j 1` once per size;
//! 4. with the 10,000-object size, measures `check --watch`'s incremental re-check in process: a cold
//!    check against a re-check after one file changed (medians);
//! 5. prints the tables to standard output and writes them to `target/bench-repos/results.md`.
//!
//! Environment: `KUBEREACH_BENCH_SIZES=1000,10000` (default `1000,10000,100000`),
//! `KUBEREACH_BENCH_RUNS=5` (default 5), `KUBEREACH_BIN` (default `target/release/kubereach`),
//! `CARGO_TARGET_DIR` (as for cargo).
//!
//! The synthetic repositories keep the answer moderate, as real ones do: about 90% of the
//! namespaces deny by default in both directions, most of the rest deny ingress and allow egress
//! only inside the namespace and to DNS, and only ~2.5% (small ones) have no policy at all, since
//! every unisolated workload is reachable from every unisolated source.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Instant, SystemTime};

/// Bump whenever the generated text changes: repositories with another version are regenerated.
const GENERATOR_VERSION: u32 = 3;
const MARKER: &str = ".kubereach-bench-repo";
const DEFAULT_SIZES: &[usize] = &[1_000, 10_000, 100_000];
const DEFAULT_RUNS: usize = 5;
const GRAPH_VARIANT: &str = "graph-10k-5k";
const GRAPH_WORKLOADS: usize = 10_000;
const GRAPH_POLICIES: usize = 5_000;

type Result<T> = std::result::Result<T, String>;

// The in-process measurement runs the library as the binary does, with the binary's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Appends one formatted line to a `String` (writing to a `String` cannot fail).
macro_rules! y {
    ($out:expr, $($arg:tt)*) => {{
        let out: &mut String = $out;
        let _ = writeln!(out, $($arg)*);
    }};
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scale bench: {message}");
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Deterministic pseudo-random numbers (SplitMix64).

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: usize) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// One word of a whitespace-separated list.
    fn word(&mut self, words: &'static str) -> &'static str {
        let n = self.below(words.split_whitespace().count());
        words.split_whitespace().nth(n).unwrap_or(words)
    }
}

// ------------------------------------------------------------------------------------------------
// The plan of a synthetic repository.

/// Word lists, whitespace-separated.
const TEAMS: &str = "\
    payments checkout search catalog identity billing shipping inventory pricing reviews recommend \
    notify messaging analytics reporting fraud risk ledger accounts onboarding support marketing \
    ads media content storefront mobile partners logistics warehouse returns loyalty subscriptions \
    tax compliance audit platform data ml growth";

const COMPONENTS: &str = "\
    core edge orders events profiles sessions feeds quotes rates claims cards wallet offers carts \
    tickets docs images jobs sync stream index export import portal hub";

const ENVS: &str = "prod prod prod prod prod staging staging staging dev dev";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    Frontend,
    Backend,
    Worker,
    Db,
    Cache,
}

impl Tier {
    fn label(self) -> &'static str {
        match self {
            Tier::Frontend => "frontend",
            Tier::Backend => "backend",
            Tier::Worker => "worker",
            Tier::Db => "db",
            Tier::Cache => "cache",
        }
    }

    fn stateful(self) -> bool {
        matches!(self, Tier::Db | Tier::Cache)
    }
}

#[derive(Clone, Debug)]
struct Port {
    name: Option<&'static str>,
    number: u16,
    protocol: &'static str,
    /// The Service port that targets it, if the Service exposes it.
    service_port: Option<u16>,
}

impl Port {
    fn named(name: &'static str, number: u16, service_port: Option<u16>) -> Port {
        Port { name: Some(name), number, protocol: "TCP", service_port }
    }
}

#[derive(Clone, Debug)]
struct App {
    name: String,
    tier: Tier,
    part_of: String,
    image: &'static str,
    ports: Vec<Port>,
    /// A metrics exporter sidecar (databases and caches).
    exporter: Option<Port>,
    service: bool,
    ingress: bool,
    /// Calls the backends of its team's other namespaces (label `role: gateway`).
    gateway: bool,
    /// Admits the gateways of its team's other namespaces.
    team_access: bool,
    /// Admits the frontends of two sibling namespaces (named by `kubernetes.io/metadata.name`).
    sibling_access: bool,
    replicas: usize,
    version: (usize, usize, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isolation {
    /// One policy denying both directions.
    DenyAll,
    /// `default-deny-ingress` and `default-deny-egress`.
    DenySplit,
    /// Only ingress is denied by default; the egress allow-lists below isolate egress anyway.
    DenyIngress,
    /// No policy at all.
    Open,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pol {
    DenyAll,
    DenyIngress,
    DenyEgress,
    Dns,
    SameNamespaceEgress,
    /// DNS and the same namespace in one policy.
    InternalEgress,
    Monitoring {
        expressions: bool,
    },
    Partner {
        block: usize,
    },
    Internet,
    TierFrontend,
    TierBackend {
        team: bool,
    },
    TierDb,
    TierCache,
    /// The app's own ingress policy (its content depends on the tier).
    AppIngress(usize),
    Gateway(usize),
    AppEgress(usize),
}

impl Pol {
    /// The app whose file holds the policy; `None`: `network-policies.yaml`.
    fn app(self) -> Option<usize> {
        match self {
            Pol::AppIngress(a) | Pol::Gateway(a) | Pol::AppEgress(a) => Some(a),
            _ => None,
        }
    }

    fn optional(self) -> bool {
        !matches!(
            self,
            Pol::DenyAll
                | Pol::DenyIngress
                | Pol::DenyEgress
                | Pol::Dns
                | Pol::SameNamespaceEgress
                | Pol::InternalEgress
                | Pol::Monitoring { .. }
        )
    }
}

#[derive(Clone, Debug)]
struct Ns {
    name: String,
    team: &'static str,
    env: &'static str,
    isolation: Isolation,
    apps: Vec<App>,
    policies: Vec<Pol>,
    siblings: [String; 2],
}

impl Ns {
    fn objects(&self) -> usize {
        1 + self.apps.len()
            + self.apps.iter().filter(|a| a.service).count()
            + self.apps.iter().filter(|a| a.ingress).count()
            + self.policies.len()
    }
}

/// What to generate.
struct Spec {
    seed: u64,
    /// Stop once the repository holds this many objects (0: no limit).
    objects: usize,
    /// Stop at exactly this many workloads (0: no limit).
    workloads: usize,
    /// Adjust the optional policies to exactly this many policies (0: as they come).
    policies: usize,
    apps_per_namespace: (usize, usize),
    /// Share of the namespaces (per mille) whose allow policies select tiers rather than apps.
    per_tier: usize,
}

/// What was generated, also stored in the marker file.
#[derive(Clone, Debug, Default)]
struct RepoInfo {
    objects: usize,
    workloads: usize,
    policies: usize,
    namespaces: usize,
    files: usize,
    bytes: u64,
}

fn plan_app(rng: &mut Rng, tier: Tier, part_of: &str, taken: &mut Vec<String>) -> App {
    let (role, image) = match tier {
        Tier::Frontend => (rng.pick(&["web", "ui", "portal", "bff"]), "nginx-app"),
        Tier::Backend => (rng.pick(&["api", "service", "query", "command", "rpc"]), "jvm-service"),
        Tier::Worker => (rng.pick(&["worker", "consumer", "scheduler", "indexer", "notifier"]), "worker"),
        Tier::Db => (rng.pick(&["postgres", "postgres", "mysql"]), "database"),
        Tier::Cache => ("redis", "redis"),
    };
    let base = format!("{part_of}-{role}");
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.push(name.clone());
    let metrics = Port::named("metrics", 9090, None);
    let mut exporter = None;
    let ports = match tier {
        Tier::Frontend => {
            let mut p = vec![Port::named("http", 8080, Some(80))];
            if rng.chance(700) {
                p.push(metrics);
            }
            p
        }
        Tier::Backend => {
            let mut p = vec![Port::named("http", 8080, Some(80))];
            if rng.chance(300) {
                p.push(Port::named("grpc", 9000, Some(9000)));
            }
            if rng.chance(800) {
                p.push(metrics);
            }
            p
        }
        Tier::Worker => {
            let mut p = vec![Port { name: None, number: 8081, protocol: "TCP", service_port: None }];
            if rng.chance(600) {
                p.push(metrics);
            }
            if rng.chance(100) {
                p.push(Port { name: Some("statsd"), number: 8125, protocol: "UDP", service_port: None });
            }
            p
        }
        Tier::Db | Tier::Cache => {
            let main = match role {
                "mysql" => Port::named("mysql", 3306, Some(3306)),
                "redis" => Port::named("redis", 6379, Some(6379)),
                _ => Port::named("postgres", 5432, Some(5432)),
            };
            if rng.chance(500) {
                exporter = Some(Port::named("metrics", if tier == Tier::Cache { 9121 } else { 9187 }, None));
            }
            vec![main]
        }
    };
    App {
        name,
        tier,
        part_of: part_of.to_string(),
        image,
        ports,
        exporter,
        service: tier != Tier::Worker || rng.chance(300),
        ingress: tier == Tier::Frontend && rng.chance(350),
        gateway: false,
        team_access: false,
        sibling_access: false,
        replicas: if tier.stateful() { [1, 3, 3][rng.below(3)] } else { rng.between(1, 6) },
        version: (rng.between(1, 9), rng.below(40), rng.below(12)),
    }
}

fn random_tier(rng: &mut Rng) -> Tier {
    match rng.below(10) {
        0 | 1 => Tier::Frontend,
        2..=5 => Tier::Backend,
        6 | 7 => Tier::Worker,
        8 => Tier::Db,
        _ => Tier::Cache,
    }
}

fn plan_namespace(rng: &mut Rng, index: usize, spec: &Spec, partners: &mut usize) -> Ns {
    let team = rng.word(TEAMS);
    let component = rng.word(COMPONENTS);
    let env = rng.word(ENVS);
    let name = format!("{team}-{component}-{index}");
    let isolation = match rng.below(1000) {
        0..=719 => Isolation::DenyAll,
        720..=899 => Isolation::DenySplit,
        900..=974 => Isolation::DenyIngress,
        _ => Isolation::Open,
    };
    let count = if isolation == Isolation::Open {
        rng.between(2, 4)
    } else {
        rng.between(spec.apps_per_namespace.0, spec.apps_per_namespace.1)
    };
    let mut taken = Vec::new();
    let mut apps = Vec::with_capacity(count);
    for i in 0..count {
        let tier = match i {
            0 => Tier::Frontend,
            1 => Tier::Backend,
            _ if isolation == Isolation::Open => [Tier::Frontend, Tier::Backend, Tier::Worker][rng.below(3)],
            _ => random_tier(rng),
        };
        // Most apps of a namespace belong to one product; some to a second.
        let part_of = if rng.chance(800) { component } else { rng.word(COMPONENTS) };
        apps.push(plan_app(rng, tier, part_of, &mut taken));
    }
    let siblings = [
        format!("{team}-{}-{}", rng.word(COMPONENTS), index.saturating_sub(1 + rng.below(50))),
        format!("{team}-{}-{}", rng.word(COMPONENTS), index + 1 + rng.below(50)),
    ];
    let mut ns = Ns { name, team, env, isolation, apps, policies: Vec::new(), siblings };
    if isolation == Isolation::Open {
        return ns;
    }
    if rng.chance(100) {
        ns.apps[1].gateway = true;
    }
    for app in ns.apps.iter_mut().filter(|a| a.tier == Tier::Backend && !a.gateway) {
        app.team_access = rng.chance(150);
        app.sibling_access = rng.chance(100);
    }
    let mut p = Vec::new();
    match isolation {
        Isolation::DenyAll => p.push(Pol::DenyAll),
        Isolation::DenySplit => p.extend([Pol::DenyIngress, Pol::DenyEgress]),
        _ => p.push(Pol::DenyIngress),
    }
    if rng.chance(300) {
        p.push(Pol::InternalEgress);
    } else {
        p.extend([Pol::Dns, Pol::SameNamespaceEgress]);
    }
    // Scraping is allowed where there is something to scrape (else the named port matches no pod).
    let expressions = rng.chance(300);
    if ns.apps.iter().any(|a| a.ports.iter().chain(&a.exporter).any(|p| p.name == Some("metrics"))) {
        p.push(Pol::Monitoring { expressions });
    }
    if rng.chance(40) {
        p.push(Pol::Partner { block: *partners });
        *partners += 1;
    }
    if rng.chance(150) {
        p.push(Pol::Internet);
    }
    let has = |t: Tier| ns.apps.iter().any(|a| a.tier == t);
    if rng.chance(spec.per_tier) {
        for (tier, pol) in [
            (Tier::Frontend, Pol::TierFrontend),
            (Tier::Backend, Pol::TierBackend { team: rng.chance(300) }),
            (Tier::Db, Pol::TierDb),
            (Tier::Cache, Pol::TierCache),
        ] {
            if has(tier) {
                p.push(pol);
            }
        }
    } else {
        for (i, app) in ns.apps.iter().enumerate() {
            if app.tier != Tier::Worker {
                p.push(Pol::AppIngress(i));
            }
        }
    }
    for (i, app) in ns.apps.iter().enumerate() {
        if app.gateway {
            p.push(Pol::Gateway(i));
        } else if app.tier == Tier::Backend && rng.chance(100) {
            p.push(Pol::AppEgress(i));
        }
    }
    ns.policies = p;
    ns
}

/// Adds or removes optional policies until the repository holds exactly `target`.
fn adjust_policies(namespaces: &mut [Ns], fixed: usize, target: usize) {
    let mut total = fixed + namespaces.iter().map(|n| n.policies.len()).sum::<usize>();
    // Too few: explicit egress policies for backends and workers, one namespace after another.
    let mut progress = true;
    while total < target && progress {
        progress = false;
        for ns in namespaces.iter_mut().filter(|n| n.isolation != Isolation::Open) {
            if total >= target {
                break;
            }
            let next = (0..ns.apps.len()).find(|&i| {
                matches!(ns.apps[i].tier, Tier::Backend | Tier::Worker)
                    && !ns.apps[i].gateway
                    && !ns.policies.contains(&Pol::AppEgress(i))
            });
            if let Some(i) = next {
                ns.policies.push(Pol::AppEgress(i));
                total += 1;
                progress = true;
            }
        }
    }
    // Too many: drop optional policies, explicit egress first, from the last namespace backwards.
    for pass in 0..2 {
        let mut progress = true;
        while total > target && progress {
            progress = false;
            for ns in namespaces.iter_mut().rev() {
                if total <= target {
                    break;
                }
                let found =
                    ns.policies
                        .iter()
                        .rposition(|p| if pass == 0 { matches!(p, Pol::AppEgress(_)) } else { p.optional() });
                if let Some(at) = found {
                    let removed = ns.policies.remove(at);
                    if let Pol::Gateway(i) = removed {
                        ns.apps[i].gateway = false;
                    }
                    total -= 1;
                    progress = true;
                }
            }
        }
    }
}

fn plan(spec: &Spec, fixed: &RepoInfo) -> Vec<Ns> {
    let mut rng = Rng::new(spec.seed);
    let mut namespaces = Vec::new();
    let mut objects = fixed.objects;
    let mut workloads = fixed.workloads;
    let mut partners = 0;
    loop {
        if spec.objects > 0 && objects >= spec.objects {
            break;
        }
        if spec.workloads > 0 && workloads >= spec.workloads {
            break;
        }
        let mut ns = plan_namespace(&mut rng, namespaces.len() + 1, spec, &mut partners);
        if spec.workloads > 0 && workloads + ns.apps.len() > spec.workloads {
            let keep = (spec.workloads - workloads).max(1);
            ns.apps.truncate(keep);
            ns.policies.retain(|p| p.app().is_none_or(|a| a < keep));
        }
        workloads += ns.apps.len();
        objects += ns.objects();
        namespaces.push(ns);
    }
    if spec.policies > 0 {
        adjust_policies(&mut namespaces, fixed.policies, spec.policies);
    }
    namespaces
}

// ------------------------------------------------------------------------------------------------
// Rendering.

fn header(out: &mut String, api_version: &str, kind: &str, name: &str, namespace: Option<&str>) {
    // A document separator before every object but the first (a leading comment stays with it).
    if out.contains("\napiVersion: ") || out.starts_with("apiVersion: ") {
        out.push_str("---\n");
    }
    y!(out, "apiVersion: {api_version}");
    y!(out, "kind: {kind}");
    y!(out, "metadata:");
    y!(out, "  name: {name}");
    if let Some(ns) = namespace {
        y!(out, "  namespace: {ns}");
    }
}

fn render_namespace(ns: &Ns) -> String {
    let mut out = String::new();
    header(&mut out, "v1", "Namespace", &ns.name, None);
    y!(&mut out, "  labels:");
    y!(&mut out, "    team: {}", ns.team);
    y!(&mut out, "    env: {}", ns.env);
    y!(&mut out, "    pod-security.kubernetes.io/enforce: restricted");
    if ns.isolation == Isolation::Open {
        y!(&mut out, "  annotations:");
        y!(&mut out, "    owner: \"{}-oncall@example.com\"", ns.team);
    }
    out
}

fn pod_labels(out: &mut String, ns: &Ns, app: &App, indent: &str) {
    y!(out, "{indent}app: {}", app.name);
    y!(out, "{indent}app.kubernetes.io/name: {}", app.name);
    y!(out, "{indent}app.kubernetes.io/part-of: {}", app.part_of);
    y!(out, "{indent}tier: {}", app.tier.label());
    y!(out, "{indent}team: {}", ns.team);
    if app.gateway {
        y!(out, "{indent}role: gateway");
    }
}

fn container_ports(out: &mut String, ports: &[Port]) {
    y!(out, "          ports:");
    for p in ports {
        match p.name {
            Some(name) => {
                y!(out, "            - name: {name}");
                y!(out, "              containerPort: {}", p.number);
            }
            None => y!(out, "            - containerPort: {}", p.number),
        }
        if p.protocol != "TCP" || p.name == Some("http") {
            y!(out, "              protocol: {}", p.protocol);
        }
    }
}

fn render_workload(out: &mut String, ns: &Ns, app: &App) {
    let kind = if app.tier.stateful() { "StatefulSet" } else { "Deployment" };
    header(out, "apps/v1", kind, &app.name, Some(&ns.name));
    y!(out, "  labels:");
    pod_labels(out, ns, app, "    ");
    y!(out, "spec:");
    y!(out, "  replicas: {}", app.replicas);
    if app.tier.stateful() {
        y!(out, "  serviceName: {}", app.name);
    }
    y!(out, "  selector:");
    y!(out, "    matchLabels:");
    y!(out, "      app: {}", app.name);
    y!(out, "  template:");
    y!(out, "    metadata:");
    y!(out, "      labels:");
    pod_labels(out, ns, app, "        ");
    if app.ports.iter().chain(&app.exporter).any(|p| p.name == Some("metrics")) {
        y!(out, "      annotations:");
        y!(out, "        prometheus.io/scrape: \"true\"");
    }
    y!(out, "    spec:");
    y!(out, "      serviceAccountName: {}", app.name);
    y!(out, "      containers:");
    y!(out, "        - name: {}", app.tier.label());
    let (major, minor, patch) = app.version;
    y!(out, "          image: registry.example.com/{}/{}:{major}.{minor}.{patch}", ns.team, app.image);
    container_ports(out, &app.ports);
    y!(out, "          env:");
    y!(out, "            - name: LOG_LEVEL");
    y!(out, "              value: info");
    if !app.tier.stateful() {
        y!(out, "            - name: OTEL_SERVICE_NAME");
        y!(out, "              value: {}", app.name);
    }
    y!(out, "          resources:");
    y!(out, "            requests:");
    y!(out, "              cpu: {}m", 50 * (1 + app.version.2 % 4));
    y!(out, "              memory: {}Mi", 128 << (app.version.1 % 3));
    y!(out, "            limits:");
    y!(out, "              memory: {}Mi", 256 << (app.version.1 % 3));
    y!(out, "          readinessProbe:");
    match app.ports.first() {
        Some(p) if p.name == Some("http") => {
            y!(out, "            httpGet:");
            y!(out, "              path: /healthz");
            y!(out, "              port: http");
        }
        Some(p) => {
            y!(out, "            tcpSocket:");
            y!(out, "              port: {}", p.number);
        }
        None => {}
    }
    y!(out, "            periodSeconds: 10");
    if let Some(exporter) = &app.exporter {
        y!(out, "        - name: exporter");
        y!(out, "          image: registry.example.com/platform/{}-exporter:0.15.0", app.image);
        container_ports(out, std::slice::from_ref(exporter));
    }
    if app.tier.stateful() {
        y!(out, "  volumeClaimTemplates:");
        y!(out, "    - metadata:");
        y!(out, "        name: data");
        y!(out, "      spec:");
        y!(out, "        accessModes: [ReadWriteOnce]");
        y!(out, "        resources:");
        y!(out, "          requests:");
        y!(out, "            storage: {}Gi", 10 * (1 + app.version.0));
    }
}

fn render_service(out: &mut String, ns: &Ns, app: &App) {
    header(out, "v1", "Service", &app.name, Some(&ns.name));
    y!(out, "  labels:");
    y!(out, "    app: {}", app.name);
    y!(out, "spec:");
    if app.tier.stateful() {
        y!(out, "  clusterIP: None");
    }
    y!(out, "  selector:");
    y!(out, "    app: {}", app.name);
    y!(out, "  ports:");
    let mut any = false;
    for p in app.ports.iter().chain(&app.exporter) {
        let (port, target) = match (p.service_port, p.name) {
            (Some(port), Some(name)) => (port, name.to_string()),
            (None, Some("metrics")) if app.tier == Tier::Worker => (p.number, "metrics".to_string()),
            _ => continue,
        };
        any = true;
        y!(out, "    - name: {}", p.name.unwrap_or("main"));
        y!(out, "      port: {port}");
        y!(out, "      targetPort: {target}");
    }
    if !any {
        y!(out, "    - name: health");
        y!(out, "      port: 8081");
        y!(out, "      targetPort: 8081");
    }
}

fn render_ingress(out: &mut String, ns: &Ns, app: &App) {
    let host = format!("{}.{}.example.com", app.name, ns.name);
    header(out, "networking.k8s.io/v1", "Ingress", &app.name, Some(&ns.name));
    y!(out, "  annotations:");
    y!(out, "    nginx.ingress.kubernetes.io/force-ssl-redirect: \"true\"");
    y!(out, "spec:");
    y!(out, "  ingressClassName: nginx");
    y!(out, "  tls:");
    y!(out, "    - hosts:");
    y!(out, "        - {host}");
    y!(out, "      secretName: {}-tls", app.name);
    y!(out, "  rules:");
    y!(out, "    - host: {host}");
    y!(out, "      http:");
    y!(out, "        paths:");
    y!(out, "          - path: /");
    y!(out, "            pathType: Prefix");
    y!(out, "            backend:");
    y!(out, "              service:");
    y!(out, "                name: {}", app.name);
    y!(out, "                port:");
    if app.version.2 < 6 {
        y!(out, "                  name: http");
    } else {
        y!(out, "                  number: 80");
    }
}

fn policy_header(out: &mut String, ns: &Ns, name: &str) {
    header(out, "networking.k8s.io/v1", "NetworkPolicy", name, Some(&ns.name));
    y!(out, "spec:");
}

fn select_app(out: &mut String, app: &App) {
    y!(out, "  podSelector:");
    y!(out, "    matchLabels:");
    y!(out, "      app: {}", app.name);
}

fn select_tier(out: &mut String, tier: Tier) {
    y!(out, "  podSelector:");
    y!(out, "    matchLabels:");
    y!(out, "      tier: {}", tier.label());
}

fn policy_types(out: &mut String, types: &[&str]) {
    y!(out, "  policyTypes:");
    for t in types {
        y!(out, "    - {t}");
    }
}

fn ports(out: &mut String, list: &[&str]) {
    y!(out, "      ports:");
    for p in list {
        match p.split_once('/') {
            Some((port, protocol)) => {
                y!(out, "        - protocol: {protocol}");
                y!(out, "          port: {port}");
            }
            None => y!(out, "        - port: {p}"),
        }
    }
}

fn from_namespace_pod(out: &mut String, ns_label: (&str, &str), pod_label: (&str, &str)) {
    y!(out, "        - namespaceSelector:");
    y!(out, "            matchLabels:");
    y!(out, "              {}: {}", ns_label.0, ns_label.1);
    y!(out, "          podSelector:");
    y!(out, "            matchLabels:");
    y!(out, "              {}: {}", pod_label.0, pod_label.1);
}

fn from_tier(out: &mut String, tier: Tier) {
    y!(out, "        - podSelector:");
    y!(out, "            matchLabels:");
    y!(out, "              tier: {}", tier.label());
}

fn from_tiers_in(out: &mut String, op: &str, tiers: &[Tier], part_of: Option<&str>) {
    y!(out, "        - podSelector:");
    y!(out, "            matchExpressions:");
    y!(out, "              - key: tier");
    y!(out, "                operator: {op}");
    y!(out, "                values:");
    for t in tiers {
        y!(out, "                  - {}", t.label());
    }
    match part_of {
        Some(p) => {
            y!(out, "              - key: app.kubernetes.io/part-of");
            y!(out, "                operator: In");
            y!(out, "                values: [{p}]");
        }
        None => {
            y!(out, "              - key: app.kubernetes.io/part-of");
            y!(out, "                operator: Exists");
        }
    }
}

fn backend_rules(out: &mut String, ns: &Ns, app: Option<&App>, team: bool) {
    y!(out, "  ingress:");
    y!(out, "    - from:");
    from_tier(out, Tier::Frontend);
    let has_grpc = |a: &App| a.ports.iter().any(|p| p.name == Some("grpc"));
    let grpc = match app {
        Some(a) => has_grpc(a),
        None => ns.apps.iter().any(|a| a.tier == Tier::Backend && has_grpc(a)),
    };
    ports(out, if grpc { &["http", "grpc"] } else { &["http"] });
    if team {
        y!(out, "    - from:");
        from_namespace_pod(out, ("team", ns.team), ("role", "gateway"));
        ports(out, &["http"]);
    }
    if app.is_some_and(|a| a.sibling_access) {
        y!(out, "    - from:");
        y!(out, "        - namespaceSelector:");
        y!(out, "            matchExpressions:");
        y!(out, "              - key: kubernetes.io/metadata.name");
        y!(out, "                operator: In");
        y!(out, "                values:");
        for s in &ns.siblings {
            y!(out, "                  - {s}");
        }
        y!(out, "          podSelector:");
        y!(out, "            matchLabels:");
        y!(out, "              tier: frontend");
        ports(out, &["http"]);
    }
}

fn render_policy(out: &mut String, ns: &Ns, pol: Pol) {
    match pol {
        Pol::DenyAll => {
            policy_header(out, ns, "default-deny-all");
            y!(out, "  podSelector: {{}}");
            policy_types(out, &["Ingress", "Egress"]);
        }
        Pol::DenyIngress => {
            policy_header(out, ns, "default-deny-ingress");
            y!(out, "  podSelector: {{}}");
            policy_types(out, &["Ingress"]);
        }
        Pol::DenyEgress => {
            policy_header(out, ns, "default-deny-egress");
            y!(out, "  podSelector: {{}}");
            policy_types(out, &["Egress"]);
        }
        Pol::Dns | Pol::SameNamespaceEgress | Pol::InternalEgress => {
            let name = match pol {
                Pol::Dns => "allow-dns",
                Pol::SameNamespaceEgress => "allow-same-namespace-egress",
                _ => "allow-internal-egress",
            };
            policy_header(out, ns, name);
            y!(out, "  podSelector: {{}}");
            policy_types(out, &["Egress"]);
            y!(out, "  egress:");
            if pol != Pol::SameNamespaceEgress {
                y!(out, "    - to:");
                from_namespace_pod(out, ("kubernetes.io/metadata.name", "kube-system"), ("k8s-app", "kube-dns"));
                ports(out, &["53/UDP", "53/TCP"]);
            }
            if pol != Pol::Dns {
                y!(out, "    - to:");
                y!(out, "        - podSelector: {{}}");
            }
        }
        Pol::Monitoring { expressions } => {
            policy_header(out, ns, "allow-prometheus-scrape");
            y!(out, "  podSelector: {{}}");
            policy_types(out, &["Ingress"]);
            y!(out, "  ingress:");
            y!(out, "    - from:");
            if expressions {
                y!(out, "        - namespaceSelector:");
                y!(out, "            matchExpressions:");
                y!(out, "              - key: kubernetes.io/metadata.name");
                y!(out, "                operator: In");
                y!(out, "                values: [monitoring]");
                y!(out, "          podSelector:");
                y!(out, "            matchLabels:");
                y!(out, "              app.kubernetes.io/name: prometheus");
            } else {
                from_namespace_pod(
                    out,
                    ("kubernetes.io/metadata.name", "monitoring"),
                    ("app.kubernetes.io/name", "prometheus"),
                );
            }
            ports(out, &["metrics"]);
        }
        Pol::Partner { block } => {
            let (a, b) = (block / 256 % 64, block % 256);
            policy_header(out, ns, "allow-partner-ingress");
            select_tier(out, Tier::Frontend);
            policy_types(out, &["Ingress"]);
            y!(out, "  ingress:");
            y!(out, "    - from:");
            y!(out, "        - ipBlock:");
            y!(out, "            cidr: 100.{}.{b}.0/24", 64 + a);
            y!(out, "            except:");
            y!(out, "              - 100.{}.{b}.128/25", 64 + a);
            y!(out, "      ports:");
            y!(out, "        - port: http");
            y!(out, "        - protocol: TCP");
            y!(out, "          port: 8443");
            y!(out, "          endPort: 8445");
        }
        Pol::Internet => {
            policy_header(out, ns, "allow-internet-egress");
            y!(out, "  podSelector:");
            y!(out, "    matchExpressions:");
            y!(out, "      - key: tier");
            y!(out, "        operator: In");
            y!(out, "        values:");
            y!(out, "          - backend");
            y!(out, "          - worker");
            policy_types(out, &["Egress"]);
            y!(out, "  egress:");
            y!(out, "    - to:");
            y!(out, "        - ipBlock:");
            y!(out, "            cidr: 0.0.0.0/0");
            y!(out, "            except:");
            y!(out, "              - 10.0.0.0/8");
            y!(out, "              - 172.16.0.0/12");
            y!(out, "              - 192.168.0.0/16");
            y!(out, "              - 169.254.169.254/32");
            ports(out, &["443/TCP"]);
        }
        Pol::TierFrontend => {
            policy_header(out, ns, "allow-ingress-controller-to-frontend");
            select_tier(out, Tier::Frontend);
            policy_types(out, &["Ingress"]);
            y!(out, "  ingress:");
            y!(out, "    - from:");
            from_namespace_pod(
                out,
                ("kubernetes.io/metadata.name", "ingress-nginx"),
                ("app.kubernetes.io/name", "ingress-nginx"),
            );
            ports(out, &["http"]);
        }
        Pol::TierBackend { team } => {
            policy_header(out, ns, "allow-frontend-to-backend");
            select_tier(out, Tier::Backend);
            policy_types(out, &["Ingress"]);
            backend_rules(out, ns, None, team);
        }
        Pol::TierDb => {
            policy_header(out, ns, "allow-apps-to-db");
            select_tier(out, Tier::Db);
            policy_types(out, &["Ingress"]);
            y!(out, "  ingress:");
            y!(out, "    - from:");
            from_tiers_in(out, "In", &[Tier::Backend, Tier::Worker], None);
            ports(out, &["5432/TCP", "3306/TCP"]);
        }
        Pol::TierCache => {
            policy_header(out, ns, "allow-apps-to-cache");
            select_tier(out, Tier::Cache);
            policy_types(out, &["Ingress"]);
            y!(out, "  ingress:");
            y!(out, "    - from:");
            from_tiers_in(out, "NotIn", &[Tier::Frontend, Tier::Db], None);
            ports(out, &["redis"]);
        }
        Pol::AppIngress(i) => {
            let app = &ns.apps[i];
            policy_header(out, ns, &format!("{}-ingress", app.name));
            select_app(out, app);
            policy_types(out, &["Ingress"]);
            match app.tier {
                Tier::Frontend => {
                    y!(out, "  ingress:");
                    y!(out, "    - from:");
                    from_namespace_pod(
                        out,
                        ("kubernetes.io/metadata.name", "ingress-nginx"),
                        ("app.kubernetes.io/name", "ingress-nginx"),
                    );
                    ports(out, &["http"]);
                }
                Tier::Backend => backend_rules(out, ns, Some(app), app.team_access),
                Tier::Db => {
                    let port = format!("{}/TCP", app.ports.first().map_or(5432, |p| p.number));
                    y!(out, "  ingress:");
                    y!(out, "    - from:");
                    from_tiers_in(out, "In", &[Tier::Backend, Tier::Worker], Some(&app.part_of));
                    ports(out, &[port.as_str()]);
                }
                Tier::Cache => {
                    y!(out, "  ingress:");
                    y!(out, "    - from:");
                    from_tiers_in(out, "NotIn", &[Tier::Frontend, Tier::Db], None);
                    ports(out, &["6379/TCP"]);
                }
                Tier::Worker => {
                    y!(out, "  ingress:");
                    y!(out, "    - from:");
                    from_tier(out, Tier::Backend);
                    ports(out, &["8081/TCP"]);
                }
            }
        }
        Pol::Gateway(i) => {
            let app = &ns.apps[i];
            policy_header(out, ns, &format!("{}-egress-team-apis", app.name));
            select_app(out, app);
            policy_types(out, &["Egress"]);
            y!(out, "  egress:");
            y!(out, "    - to:");
            y!(out, "        - namespaceSelector:");
            y!(out, "            matchLabels:");
            y!(out, "              team: {}", ns.team);
            y!(out, "            matchExpressions:");
            y!(out, "              - key: env");
            y!(out, "                operator: NotIn");
            y!(out, "                values: [dev]");
            y!(out, "          podSelector:");
            y!(out, "            matchLabels:");
            y!(out, "              tier: backend");
            ports(out, &["http"]);
        }
        Pol::AppEgress(i) => {
            let app = &ns.apps[i];
            policy_header(out, ns, &format!("{}-egress", app.name));
            select_app(out, app);
            policy_types(out, &["Egress"]);
            y!(out, "  egress:");
            y!(out, "    - to:");
            y!(out, "        - podSelector:");
            y!(out, "            matchExpressions:");
            y!(out, "              - key: tier");
            y!(out, "                operator: In");
            y!(out, "                values: [db, cache]");
            ports(out, &["5432/TCP", "3306/TCP", "6379/TCP"]);
        }
    }
}

fn render_app(ns: &Ns, index: usize) -> String {
    let app = &ns.apps[index];
    let mut out = String::new();
    y!(&mut out, "# {}: {} of {}, team {}.", app.name, app.tier.label(), app.part_of, ns.team);
    render_workload(&mut out, ns, app);
    if app.service {
        render_service(&mut out, ns, app);
    }
    for pol in ns.policies.iter().filter(|p| p.app() == Some(index)) {
        render_policy(&mut out, ns, *pol);
    }
    if app.ingress {
        render_ingress(&mut out, ns, app);
    }
    out
}

fn render_namespace_policies(ns: &Ns) -> Option<String> {
    let mut out = String::new();
    for pol in ns.policies.iter().filter(|p| p.app().is_none()) {
        if out.is_empty() {
            y!(&mut out, "# Namespace-wide policies of {}.", ns.name);
        }
        render_policy(&mut out, ns, *pol);
    }
    (!out.is_empty()).then_some(out)
}

/// The cluster services every synthetic repository has: DNS, monitoring, the ingress controller.
const PLATFORM: &[(&str, &str)] = &[
    (
        "kube-system/coredns.yaml",
        r#"# CoreDNS: the namespace is the cluster's own, so no Namespace object here.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: 2
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      containers:
        - name: coredns
          image: registry.k8s.io/coredns/coredns:v1.11.1
          ports:
            - name: dns
              containerPort: 53
              protocol: UDP
            - name: dns-tcp
              containerPort: 53
              protocol: TCP
            - name: metrics
              containerPort: 9153
              protocol: TCP
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  selector:
    k8s-app: kube-dns
  clusterIP: 10.96.0.10
  ports:
    - name: dns
      port: 53
      protocol: UDP
    - name: dns-tcp
      port: 53
      protocol: TCP
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: coredns
  namespace: kube-system
spec:
  podSelector:
    matchLabels:
      k8s-app: kube-dns
  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector: {}
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
      ports:
        - port: metrics
"#,
    ),
    (
        "monitoring/namespace.yaml",
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
  labels:
    team: platform
    env: prod
"#,
    ),
    (
        "monitoring/prometheus.yaml",
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: prometheus
  namespace: monitoring
spec:
  replicas: 2
  serviceName: prometheus
  selector:
    matchLabels:
      app.kubernetes.io/name: prometheus
  template:
    metadata:
      labels:
        app.kubernetes.io/name: prometheus
    spec:
      containers:
        - name: prometheus
          image: quay.io/prometheus/prometheus:v2.53.0
          ports:
            - name: web
              containerPort: 9090
---
apiVersion: v1
kind: Service
metadata:
  name: prometheus
  namespace: monitoring
spec:
  selector:
    app.kubernetes.io/name: prometheus
  ports:
    - name: web
      port: 9090
      targetPort: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: grafana
  namespace: monitoring
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: grafana
  template:
    metadata:
      labels:
        app.kubernetes.io/name: grafana
    spec:
      containers:
        - name: grafana
          image: docker.io/grafana/grafana:11.1.0
          ports:
            - name: http
              containerPort: 3000
"#,
    ),
    (
        "monitoring/network-policies.yaml",
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: monitoring
spec:
  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: prometheus-scrape-everything
  namespace: monitoring
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: prometheus
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: grafana
      ports:
        - port: web
  egress:
    - to:
        - namespaceSelector: {}
      ports:
        - port: metrics
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - protocol: UDP
          port: 53
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: grafana
  namespace: monitoring
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: grafana
  policyTypes:
    - Egress
  egress:
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: prometheus
      ports:
        - port: 9090
"#,
    ),
    (
        "ingress-nginx/namespace.yaml",
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: ingress-nginx
  labels:
    team: platform
    env: prod
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
"#,
    ),
    (
        "ingress-nginx/controller.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: ingress-nginx
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ingress-nginx
        app.kubernetes.io/component: controller
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.11.1
          ports:
            - name: http
              containerPort: 80
            - name: https
              containerPort: 443
            - name: metrics
              containerPort: 10254
---
apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  type: LoadBalancer
  selector:
    app.kubernetes.io/name: ingress-nginx
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: https
      port: 443
      targetPort: https
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: ingress-nginx
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - ipBlock:
            cidr: 0.0.0.0/0
      ports:
        - port: http
        - port: https
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
      ports:
        - port: metrics
  egress:
    - to:
        - namespaceSelector: {}
          podSelector:
            matchLabels:
              tier: frontend
      ports:
        - port: http
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - protocol: UDP
          port: 53
"#,
    ),
];

/// Counts of the fixed platform part.
fn platform_info() -> RepoInfo {
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

fn write_file(root: &Path, relative: &str, text: &str, info: &mut RepoInfo) -> Result<()> {
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
    let namespaces = plan(spec, &fixed);
    let mut info = RepoInfo { files: 0, bytes: 0, ..fixed };
    for (path, text) in PLATFORM {
        write_file(root, path, text, &mut info)?;
    }
    for ns in &namespaces {
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

fn marker_text(info: &RepoInfo) -> String {
    format!(
        "generator={GENERATOR_VERSION}\nobjects={}\nworkloads={}\npolicies={}\nnamespaces={}\nfiles={}\nbytes={}\n",
        info.objects, info.workloads, info.policies, info.namespaces, info.files, info.bytes
    )
}

fn read_marker(dir: &Path) -> Option<RepoInfo> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    let fields: BTreeMap<&str, u64> =
        text.lines().filter_map(|l| l.split_once('=')).filter_map(|(k, v)| Some((k, v.parse().ok()?))).collect();
    if fields.get("generator").copied() != Some(u64::from(GENERATOR_VERSION)) {
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
fn ensure_repo(dir: &Path, spec: &Spec) -> Result<RepoInfo> {
    if let Some(info) = read_marker(dir) {
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
    let info = generate(&partial, spec)?;
    fs::write(partial.join(MARKER), marker_text(&info)).map_err(|e| format!("cannot write the marker: {e}"))?;
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

// ------------------------------------------------------------------------------------------------
// Measuring.

/// One `kubereach` run: the `--stats` figures per stage, and the process's own wall time.
#[derive(Debug, Default)]
struct RunStats {
    stages: BTreeMap<String, BTreeMap<String, f64>>,
    process_ms: f64,
    /// Other lines on standard error (diagnostics about the repository).
    diagnostics: Vec<String>,
}

impl RunStats {
    fn get(&self, stage: &str, key: &str) -> Option<f64> {
        self.stages.get(stage)?.get(key).copied()
    }
}

fn parse_stats(stderr: &str) -> (BTreeMap<String, BTreeMap<String, f64>>, Vec<String>) {
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

fn run_kubereach(bin: &Path, repo: &Path, args: &[&str]) -> Result<RunStats> {
    let started = Instant::now();
    let output = Command::new(bin)
        .arg("graph")
        .arg(repo)
        .args(args)
        .args(["-o", "/dev/null", "--stats"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let process_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "`{} graph {} {}` failed ({}):\n{stderr}",
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

fn median(mut values: Vec<f64>) -> f64 {
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

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

const STAGES: [&str; 4] = ["load", "graph", "report", "total"];

/// Medians over repeated runs.
struct Summary {
    runs: Vec<RunStats>,
}

impl Summary {
    fn values(&self, stage: &str, key: &str) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.get(stage, key)).collect()
    }

    fn median(&self, stage: &str, key: &str) -> f64 {
        median(self.values(stage, key))
    }

    fn process_ms(&self) -> f64 {
        median(self.runs.iter().map(|r| r.process_ms).collect())
    }

    /// A figure that does not vary between runs (bytes, objects, edges).
    fn count(&self, stage: &str, key: &str) -> u64 {
        self.runs.first().and_then(|r| r.get(stage, key)).map_or(0, |v| v as u64)
    }
}

struct SizeResult {
    label: String,
    info: RepoInfo,
    json: Summary,
    txt: RunStats,
    single: RunStats,
}

fn measure(bin: &Path, repo: &Path, args: &[&str], runs: usize) -> Result<Summary> {
    // One run to warm the page cache, not counted.
    let warm = run_kubereach(bin, repo, args)?;
    if !warm.diagnostics.is_empty() {
        println!("  note: {} line(s) of diagnostics on standard error, first ones:", warm.diagnostics.len());
        for line in warm.diagnostics.iter().take(5) {
            println!("    {line}");
        }
    }
    let mut all = Vec::with_capacity(runs);
    for i in 0..runs {
        let r = run_kubereach(bin, repo, args)?;
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

// ------------------------------------------------------------------------------------------------
// Reporting.

fn thousands(n: u64) -> String {
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

fn mib(kib: f64) -> String {
    format!("{:.0}", kib / 1024.0)
}

fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    y!(out, "| {} |", head.join(" | "));
    let align: Vec<&str> = head.iter().enumerate().map(|(i, _)| if i == 0 { ":--" } else { "--:" }).collect();
    y!(out, "|{}|", align.join("|"));
    for row in rows {
        y!(out, "| {} |", row.join(" | "));
    }
    y!(out, "");
}

fn single_row(label: &str, variant: &str, r: &RunStats) -> Vec<String> {
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

struct Context {
    bin: PathBuf,
    version: String,
    cores: usize,
    runs: usize,
    /// Share of the machine's CPU time that other processes used while this benchmark ran (Linux).
    others_cpu: Option<f64>,
}

/// CPU clock ticks: (busy on the whole machine, total on the whole machine, used by this process
/// and its waited-for children), from `/proc/stat` and `/proc/self/stat`.
fn cpu_ticks() -> Option<(u64, u64, u64)> {
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

fn others_share(before: Option<(u64, u64, u64)>, after: Option<(u64, u64, u64)>) -> Option<f64> {
    let ((b0, t0, o0), (b1, t1, o1)) = (before?, after?);
    let total = t1.checked_sub(t0).filter(|&t| t > 0)?;
    let others = (b1.saturating_sub(b0)).saturating_sub(o1.saturating_sub(o0));
    Some(others as f64 / total as f64)
}

fn report(ctx: &Context, sizes: &[SizeResult], graph: Option<(&RepoInfo, &Summary)>) -> String {
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

// ------------------------------------------------------------------------------------------------
// Driver.

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

/// Median milliseconds of a cold check and of a re-check after one file changed, both in
/// process, and how many files the re-check read.
fn incremental_check(dir: &Path, runs: usize) -> Result<(f64, f64, usize)> {
    use kubereach::model::build::{LoadOptions, Session};
    use kubereach::result::{self as check, RuleSettings};
    let paths = vec![dir.to_path_buf()];
    let options = LoadOptions { keep_text: true, ..LoadOptions::default() };
    let profile = kubereach::profile::Profile::default();
    let settings = RuleSettings::default();
    let check = |session: &mut Session, modified: &[PathBuf]| -> Result<usize> {
        let loaded = session.reload(modified, &paths, &options).map_err(|e| e.to_string())?;
        let graph = kubereach::graph::build_with(&loaded.model, &profile);
        Ok(check::run(loaded, &graph, &settings, None).findings.len())
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

fn run() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
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

    let mut results = Vec::new();
    for &size in &sizes {
        let dir = repos.join(size.to_string());
        let spec = Spec {
            seed: 0x6b75_6265_7265_6163 ^ size as u64,
            objects: size,
            workloads: 0,
            policies: 0,
            apps_per_namespace: (4, 20),
            per_tier: 350,
        };
        let info = ensure_repo(&dir, &spec)?;
        println!("measuring {} objects: graph --format json, {runs} runs", thousands(size as u64));
        let json = measure(&snapshot, &dir, &["--format", "json"], runs)?;
        let loaded = json.count("load", "objects") as usize;
        if loaded != info.objects {
            println!("  warning: kubereach loaded {loaded} objects, the generator wrote {}", info.objects);
        }
        println!("  --format txt, once");
        let txt = run_kubereach(&snapshot, &dir, &["--format", "txt"])?;
        println!("  --format json -j 1, once");
        let single = run_kubereach(&snapshot, &dir, &["--format", "json", "-j", "1"])?;
        results.push(SizeResult { label: thousands(size as u64), info, json, txt, single });
    }

    let dir = repos.join(GRAPH_VARIANT);
    let spec = Spec {
        seed: 0x6772_6170_6831_306b,
        objects: 0,
        workloads: GRAPH_WORKLOADS,
        policies: GRAPH_POLICIES,
        apps_per_namespace: (12, 20),
        per_tier: 1000,
    };
    let info = ensure_repo(&dir, &spec)?;
    println!("measuring the graph stage on {GRAPH_VARIANT}: {runs} runs");
    let graph = measure(&snapshot, &dir, &["--format", "json"], runs)?;

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
    if let Some((cold, warm, read)) = incremental {
        text.push_str(&format!(
            "\n## Incremental re-check (`check --watch`), 10,000 objects\n\n| | median |\n| --- | --- |\n| cold check (load, graph, rules) | {cold:.1} ms |\n| one file changed, re-checked | {warm:.1} ms ({read} file re-read) |\n| ratio | {:.0}% of the cold time |\n",
            100.0 * warm / cold
        ));
    }
    println!();
    print!("{text}");
    let path = repos.join("results.md");
    fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!();
    println!("written to {}", path.display());
    Ok(())
}
