//! The plan of a synthetic repository: its namespaces, apps and policies, drawn from a seeded
//! pseudo-random sequence so that a seed always gives the same plan.

use super::{RepoInfo, Spec};

// ------------------------------------------------------------------------------------------------
// Deterministic pseudo-random numbers (SplitMix64).

pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn chance(&mut self, per_mille: usize) -> bool {
        self.below(1000) < per_mille
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// One word of a whitespace-separated list.
    pub(crate) fn word(&mut self, words: &'static str) -> &'static str {
        let n = self.below(words.split_whitespace().count());
        words.split_whitespace().nth(n).unwrap_or(words)
    }
}

// ------------------------------------------------------------------------------------------------
// The plan of a synthetic repository.

/// Word lists, whitespace-separated.
pub(crate) const TEAMS: &str = "\
    payments checkout search catalog identity billing shipping inventory pricing reviews recommend \
    notify messaging analytics reporting fraud risk ledger accounts onboarding support marketing \
    ads media content storefront mobile partners logistics warehouse returns loyalty subscriptions \
    tax compliance audit platform data ml growth";

pub(crate) const COMPONENTS: &str = "\
    core edge orders events profiles sessions feeds quotes rates claims cards wallet offers carts \
    tickets docs images jobs sync stream index export import portal hub";

pub(crate) const ENVS: &str = "prod prod prod prod prod staging staging staging dev dev";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    Frontend,
    Backend,
    Worker,
    Db,
    Cache,
}

impl Tier {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Tier::Frontend => "frontend",
            Tier::Backend => "backend",
            Tier::Worker => "worker",
            Tier::Db => "db",
            Tier::Cache => "cache",
        }
    }

    pub(crate) fn stateful(self) -> bool {
        matches!(self, Tier::Db | Tier::Cache)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Port {
    pub(crate) name: Option<&'static str>,
    pub(crate) number: u16,
    pub(crate) protocol: &'static str,
    /// The Service port that targets it, if the Service exposes it.
    pub(crate) service_port: Option<u16>,
}

impl Port {
    pub(crate) fn named(name: &'static str, number: u16, service_port: Option<u16>) -> Port {
        Port { name: Some(name), number, protocol: "TCP", service_port }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) tier: Tier,
    pub(crate) part_of: String,
    pub(crate) image: &'static str,
    pub(crate) ports: Vec<Port>,
    /// A metrics exporter sidecar (databases and caches).
    pub(crate) exporter: Option<Port>,
    pub(crate) service: bool,
    pub(crate) ingress: bool,
    /// Calls the backends of its team's other namespaces (label `role: gateway`).
    pub(crate) gateway: bool,
    /// Admits the gateways of its team's other namespaces.
    pub(crate) team_access: bool,
    /// Admits the frontends of two sibling namespaces (named by `kubernetes.io/metadata.name`).
    pub(crate) sibling_access: bool,
    pub(crate) replicas: usize,
    pub(crate) version: (usize, usize, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isolation {
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
pub(crate) enum Pol {
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
    pub(crate) fn app(self) -> Option<usize> {
        match self {
            Pol::AppIngress(a) | Pol::Gateway(a) | Pol::AppEgress(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn optional(self) -> bool {
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
pub(crate) struct Ns {
    pub(crate) name: String,
    pub(crate) team: &'static str,
    pub(crate) env: &'static str,
    pub(crate) isolation: Isolation,
    pub(crate) apps: Vec<App>,
    pub(crate) policies: Vec<Pol>,
    pub(crate) siblings: [String; 2],
}

impl Ns {
    pub(crate) fn objects(&self) -> usize {
        1 + self.apps.len()
            + self.apps.iter().filter(|a| a.service).count()
            + self.apps.iter().filter(|a| a.ingress).count()
            + self.policies.len()
    }
}

pub(crate) fn plan_app(rng: &mut Rng, tier: Tier, part_of: &str, taken: &mut Vec<String>) -> App {
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

pub(crate) fn random_tier(rng: &mut Rng) -> Tier {
    match rng.below(10) {
        0 | 1 => Tier::Frontend,
        2..=5 => Tier::Backend,
        6 | 7 => Tier::Worker,
        8 => Tier::Db,
        _ => Tier::Cache,
    }
}

pub(crate) fn plan_namespace(rng: &mut Rng, index: usize, spec: &Spec, partners: &mut usize) -> Ns {
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
pub(crate) fn adjust_policies(namespaces: &mut [Ns], fixed: usize, target: usize) {
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

/// The namespaces of a plan, one at a time: a million objects are written as they are planned,
/// without holding the whole plan. Namespaces come out in the same order, from the same draws, as
/// [`plan`] collects them.
pub(crate) struct Planner<'s> {
    spec: &'s Spec,
    rng: Rng,
    objects: usize,
    workloads: usize,
    partners: usize,
    planned: usize,
}

impl<'s> Planner<'s> {
    pub(crate) fn new(spec: &'s Spec, fixed: &RepoInfo) -> Planner<'s> {
        Planner {
            spec,
            rng: Rng::new(spec.seed),
            objects: fixed.objects,
            workloads: fixed.workloads,
            partners: 0,
            planned: 0,
        }
    }
}

impl Iterator for Planner<'_> {
    type Item = Ns;

    fn next(&mut self) -> Option<Ns> {
        let spec = self.spec;
        if spec.objects > 0 && self.objects >= spec.objects {
            return None;
        }
        if spec.workloads > 0 && self.workloads >= spec.workloads {
            return None;
        }
        let mut ns = plan_namespace(&mut self.rng, self.planned + 1, spec, &mut self.partners);
        if spec.workloads > 0 && self.workloads + ns.apps.len() > spec.workloads {
            let keep = (spec.workloads - self.workloads).max(1);
            ns.apps.truncate(keep);
            ns.policies.retain(|p| p.app().is_none_or(|a| a < keep));
        }
        self.workloads += ns.apps.len();
        self.objects += ns.objects();
        self.planned += 1;
        Some(ns)
    }
}

/// The whole plan, with the policy count adjusted to `spec.policies` (which needs every
/// namespace at once; the large sizes leave it at 0 and stream through [`Planner`]).
pub(crate) fn plan(spec: &Spec, fixed: &RepoInfo) -> Vec<Ns> {
    let mut namespaces: Vec<Ns> = Planner::new(spec, fixed).collect();
    if spec.policies > 0 {
        adjust_policies(&mut namespaces, fixed.policies, spec.policies);
    }
    namespaces
}
