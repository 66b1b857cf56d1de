//! The YAML text of a planned namespace: the Namespace, its policies, and one file per app.

use std::fmt::Write as _;

use super::plan::{App, Isolation, Ns, Pol, Port, Tier};

pub(crate) fn header(out: &mut String, api_version: &str, kind: &str, name: &str, namespace: Option<&str>) {
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

pub(crate) fn render_namespace(ns: &Ns) -> String {
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

pub(crate) fn pod_labels(out: &mut String, ns: &Ns, app: &App, indent: &str) {
    y!(out, "{indent}app: {}", app.name);
    y!(out, "{indent}app.kubernetes.io/name: {}", app.name);
    y!(out, "{indent}app.kubernetes.io/part-of: {}", app.part_of);
    y!(out, "{indent}tier: {}", app.tier.label());
    y!(out, "{indent}team: {}", ns.team);
    if app.gateway {
        y!(out, "{indent}role: gateway");
    }
}

pub(crate) fn container_ports(out: &mut String, ports: &[Port]) {
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

pub(crate) fn render_workload(out: &mut String, ns: &Ns, app: &App) {
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

pub(crate) fn render_service(out: &mut String, ns: &Ns, app: &App) {
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

pub(crate) fn render_ingress(out: &mut String, ns: &Ns, app: &App) {
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

pub(crate) fn policy_header(out: &mut String, ns: &Ns, name: &str) {
    header(out, "networking.k8s.io/v1", "NetworkPolicy", name, Some(&ns.name));
    y!(out, "spec:");
}

pub(crate) fn select_app(out: &mut String, app: &App) {
    y!(out, "  podSelector:");
    y!(out, "    matchLabels:");
    y!(out, "      app: {}", app.name);
}

pub(crate) fn select_tier(out: &mut String, tier: Tier) {
    y!(out, "  podSelector:");
    y!(out, "    matchLabels:");
    y!(out, "      tier: {}", tier.label());
}

pub(crate) fn policy_types(out: &mut String, types: &[&str]) {
    y!(out, "  policyTypes:");
    for t in types {
        y!(out, "    - {t}");
    }
}

pub(crate) fn ports(out: &mut String, list: &[&str]) {
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

pub(crate) fn from_namespace_pod(out: &mut String, ns_label: (&str, &str), pod_label: (&str, &str)) {
    y!(out, "        - namespaceSelector:");
    y!(out, "            matchLabels:");
    y!(out, "              {}: {}", ns_label.0, ns_label.1);
    y!(out, "          podSelector:");
    y!(out, "            matchLabels:");
    y!(out, "              {}: {}", pod_label.0, pod_label.1);
}

pub(crate) fn from_tier(out: &mut String, tier: Tier) {
    y!(out, "        - podSelector:");
    y!(out, "            matchLabels:");
    y!(out, "              tier: {}", tier.label());
}

pub(crate) fn from_tiers_in(out: &mut String, op: &str, tiers: &[Tier], part_of: Option<&str>) {
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

pub(crate) fn backend_rules(out: &mut String, ns: &Ns, app: Option<&App>, team: bool) {
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

pub(crate) fn render_policy(out: &mut String, ns: &Ns, pol: Pol) {
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

pub(crate) fn render_app(ns: &Ns, index: usize) -> String {
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

pub(crate) fn render_namespace_policies(ns: &Ns) -> Option<String> {
    let mut out = String::new();
    for pol in ns.policies.iter().filter(|p| p.app().is_none()) {
        if out.is_empty() {
            y!(&mut out, "# Namespace-wide policies of {}.", ns.name);
        }
        render_policy(&mut out, ns, *pol);
    }
    (!out.is_empty()).then_some(out)
}
