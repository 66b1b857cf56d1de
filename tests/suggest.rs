#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kubereach suggest`, end to end: on the example shop and on small repositories that name
//! their Services in every supported form, the suggested NetworkPolicies close the gaps, keep
//! every connection the manifests' references and ways in imply (the re-analysis says so), list
//! what they could not infer, parse with `kubectl apply --dry-run=client`, and are themselves
//! clean under `kubereach check`. The YAML of the example is a snapshot.

use serde_json::Value;
use std::path::Path;

mod common;
use common::{kubereach, kubereach_in_crate, repo_with, require_tool, RunExt as _, MANIFEST_DIR};

const GAP_RULES: [&str; 3] = ["workload-not-isolated", "namespace-without-default-deny", "internet-exposed-workload"];

/// `suggest PATH -o DIR --format json`, parsed.
fn suggest_json(path: &Path, dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["suggest".to_string(), path.display().to_string(), "-o".into(), dir.display().to_string()];
    args.extend(["--format".to_string(), "json".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = kubereach(&args).run();
    assert!(run.success(), "{}{}", run.stdout, run.stderr);
    run.json()
}

/// What every suggestion must show: nothing left open of the gaps, no intended connection cut,
/// no problem in its own text.
fn assert_proven(report: &Value) {
    let proof = &report["suggestion"]["proof"];
    assert_eq!(proof["remaining"].as_array().unwrap().len(), 0, "gaps left: {:#}", proof["remaining"]);
    for c in proof["intended"].as_array().unwrap() {
        assert_eq!(c["kept"], true, "cut: {c}");
    }
    assert_eq!(proof["text_problems"].as_array().unwrap().len(), 0, "{:#}", proof["text_problems"]);
    assert!(report["suggestion"]["withheld"].as_array().unwrap().is_empty(), "{:#}", report["suggestion"]["withheld"]);
}

/// `check` over the repository and the suggested files: the findings located in the latter, and
/// the gap findings left anywhere.
fn check_with(path: &Path, dir: &Path) -> (Vec<Value>, Vec<Value>) {
    let run = kubereach(["check", &path.display().to_string(), &dir.display().to_string(), "--format", "json"]).run();
    let report = run.json();
    let findings = report["findings"].as_array().unwrap().clone();
    let dir_name = dir.file_name().unwrap().to_string_lossy().to_string();
    let in_suggested =
        findings.iter().filter(|f| f["file"].as_str().unwrap_or("").contains(&dir_name)).cloned().collect();
    let gaps = findings
        .iter()
        .filter(|f| {
            let rule = f["rule"].as_str().unwrap_or("");
            GAP_RULES.contains(&rule) && (rule != "internet-exposed-workload" || f["level"] == "error")
        })
        .cloned()
        .collect();
    (in_suggested, gaps)
}

#[test]
fn the_shop_suggestions_close_its_gaps_and_keep_its_paths() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("suggested");
    let shop = Path::new(MANIFEST_DIR).join("examples/shop");
    let report = suggest_json(&shop, &dir, &[]);
    assert_proven(&report);
    let proof = &report["suggestion"]["proof"];
    let closed: Vec<&str> = proof["closed"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    for rule in GAP_RULES {
        assert!(closed.contains(&rule), "{rule} not closed: {closed:?}");
    }
    // Every intended connection was allowed before and still is.
    assert!(proof["intended"].as_array().unwrap().iter().all(|c| c["allowed_before"] == true));
    // The redis reference of orders-worker and the billing portal's Ingress are among them.
    let intended = proof["intended"].to_string();
    assert!(intended.contains("orders-worker[Deployment] => shop-data/redis[Deployment]"), "{intended}");
    assert!(intended.contains("Ingress `billing/billing-portal`"), "{intended}");
    // The findings the files close carry them as fixes.
    let fixed: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f.get("fixes").is_some()).collect();
    assert!(fixed.iter().any(|f| f["rule"] == "namespace-without-default-deny"), "{fixed:#?}");
    assert!(fixed.iter().all(|f| f["fixes"][0]["path"].as_str().unwrap().ends_with(".yaml")));
    // Files, one per namespace, in the snapshot.
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    assert_eq!(names, ["billing.yaml", "shop-api.yaml"]);
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        insta::assert_snapshot!(format!("example_suggested_{}", name.trim_end_matches(".yaml")), text);
    }
    // The suggested files are clean, and with them no gap is left.
    let (in_suggested, gaps) = check_with(&shop, &dir);
    assert!(in_suggested.is_empty(), "{in_suggested:#?}");
    assert!(gaps.is_empty(), "{gaps:#?}");
}

#[test]
fn the_human_summary_states_the_proof_and_the_review() {
    let out = tempfile::tempdir().unwrap();
    let run = kubereach_in_crate(["suggest", "examples/shop", "-o", &out.path().display().to_string()]).run();
    assert!(run.success(), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("findings:    15 before"), "{}", run.stdout);
    assert!(run.stdout.contains("intended connections still allowed: 5 of 5"), "{}", run.stdout);
    assert!(run.stdout.contains("review (2)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("names `smtp.mail.example.net` (container `worker` env `SMTP_RELAY`), outside the cluster"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("billing/invoices[Deployment]: names no Service"), "{}", run.stdout);
    // Without `-o`, the YAML goes to standard output.
    let run = kubereach_in_crate(["suggest", "examples/shop", "--namespace", "billing"]).run();
    assert!(run.stdout.starts_with("# file: billing.yaml\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("shop-api.yaml"), "{}", run.stdout);
}

/// A repository that names its Services in every form: DNS names with and without namespace and
/// port, in URLs, `*_SERVICE_HOST` variables, ConfigMaps read as env and mounted, and hosts
/// outside the cluster (for review); a public LoadBalancer; no policy at all.
const NAMED: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: front}
---
apiVersion: v1
kind: Namespace
metadata: {name: back}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: front}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: web
          ports: [{containerPort: 8080, name: http}]
          args: [\"--api=http://api.back.svc.cluster.local:8000/v1\", \"--cache=$(CACHE_SERVICE_HOST):$(CACHE_SERVICE_PORT)\"]
          env:
            - {name: PAYMENTS, value: \"https://payments.example.com/charge\"}
          envFrom:
            - configMapRef: {name: web-config}
      volumes:
        - name: conf
          configMap: {name: web-files}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: front}
data:
  SEARCH_URL: \"http://search.back:9200\"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-files, namespace: front}
data:
  upstream.conf: |
    upstream auth { server auth:7000; }
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: front}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: front}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: c, image: redis, ports: [{containerPort: 6379}]}]
---
apiVersion: v1
kind: Service
metadata: {name: cache, namespace: front}
spec:
  selector: {app: cache}
  ports: [{port: 6379}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: auth, namespace: front}
spec:
  selector: {matchLabels: {app: auth}}
  template:
    metadata: {labels: {app: auth}}
    spec:
      containers: [{name: a, image: auth, ports: [{containerPort: 7000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: auth, namespace: front}
spec:
  selector: {app: auth}
  ports: [{port: 7000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: back}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: api
          ports: [{containerPort: 8000}]
          env:
            - {name: SEARCH_HOST, value: search}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: back}
spec:
  selector: {app: api}
  ports: [{port: 8000}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: search, namespace: back}
spec:
  selector: {matchLabels: {app: search}}
  template:
    metadata: {labels: {app: search}}
    spec:
      containers: [{name: s, image: search, ports: [{containerPort: 9200}]}]
---
apiVersion: v1
kind: Service
metadata: {name: search, namespace: back}
spec:
  selector: {app: search}
  ports: [{port: 9200}]
";

#[test]
fn every_form_of_reference_becomes_a_kept_connection() {
    let repo = repo_with(&[("app.yaml", NAMED)]);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("suggested");
    let report = suggest_json(repo.path(), &dir, &[]);
    assert_proven(&report);
    let intended = report["suggestion"]["proof"]["intended"].to_string();
    for edge in [
        "front/web[Deployment] => back/api[Deployment] : TCP 8000",
        "front/web[Deployment] => front/cache[Deployment] : TCP 6379",
        "front/web[Deployment] => back/search[StatefulSet] : TCP 9200",
        "front/web[Deployment] => front/auth[Deployment] : TCP 7000",
        "back/api[Deployment] => back/search[StatefulSet] : TCP 9200",
    ] {
        assert!(intended.contains(edge), "{edge} missing from {intended}");
    }
    // The payment provider outside the cluster is cut, for review, with its evidence.
    let review = report["suggestion"]["review"].to_string();
    assert!(review.contains("payments.example.com"), "{review}");
    // The LoadBalancer keeps its way in; the auth backend admits web, and only web.
    let front = std::fs::read_to_string(dir.join("front.yaml")).unwrap();
    assert!(front.contains("public LoadBalancer") || front.contains("LoadBalancer `front/web`"), "{front}");
    assert!(
        front.contains("names Service `auth` as `auth:7000` in ConfigMap `web-files` key `upstream.conf`"),
        "{front}"
    );
    let (in_suggested, gaps) = check_with(repo.path(), &dir);
    assert!(gaps.is_empty(), "{gaps:#?}");
    // Only notes are allowed on the suggested files (the LoadBalancer's every-address rule).
    assert!(in_suggested.iter().all(|f| f["level"] == "note"), "{in_suggested:#?}");
}

#[test]
fn sarif_fixes_add_the_policy_file() {
    let run = kubereach_in_crate(["suggest", "examples/shop", "--format", "sarif"]).run();
    assert!(run.success(), "{}{}", run.stdout, run.stderr);
    let sarif = run.json();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let fixed: Vec<&Value> = results.iter().filter(|r| r.get("fixes").is_some()).collect();
    assert!(!fixed.is_empty());
    for r in fixed {
        let change = &r["fixes"][0]["artifactChanges"][0];
        assert!(change["artifactLocation"]["uri"].as_str().unwrap().starts_with("kubereach-suggested/"), "{change}");
        let text = change["replacements"][0]["insertedContent"]["text"].as_str().unwrap();
        assert!(text.contains("kind: NetworkPolicy"));
    }
}

/// A server that answers every request `404 Not Found`: what `kubectl apply --dry-run=client`
/// asks of a cluster (the live object, to choose between create and patch) has an answer offline.
fn not_found_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn kubectl_apply_dry_run_parses_the_suggestions() {
    let Some(kubectl) = require_tool("kubectl", "to check that the suggested files apply") else { return };
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("suggested");
    let repo = repo_with(&[("app.yaml", NAMED)]);
    for source in [Path::new(MANIFEST_DIR).join("examples/shop"), repo.path().to_path_buf()] {
        let _ = std::fs::remove_dir_all(&dir);
        suggest_json(&source, &dir, &[]);
        // Offline, kubectl maps kinds from a discovery cache, and the server says nothing exists.
        let port = not_found_server();
        let cache = out.path().join("cache");
        let discovery = cache.join(format!("discovery/127.0.0.1_{port}"));
        std::fs::create_dir_all(discovery.join("networking.k8s.io/v1")).unwrap();
        std::fs::write(
            discovery.join("servergroups.json"),
            r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"networking.k8s.io","versions":[{"groupVersion":"networking.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"networking.k8s.io/v1","version":"v1"}}]}"#,
        )
        .unwrap();
        std::fs::write(
            discovery.join("networking.k8s.io/v1/serverresources.json"),
            r#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"networking.k8s.io/v1","resources":[{"name":"networkpolicies","singularName":"networkpolicy","namespaced":true,"kind":"NetworkPolicy","verbs":["create","get","patch"]}]}"#,
        )
        .unwrap();
        let run = std::process::Command::new(&kubectl)
            .args(["--server", &format!("http://127.0.0.1:{port}"), "--cache-dir", &cache.display().to_string()])
            .args(["apply", "--dry-run=client", "--validate=false", "-f", &dir.display().to_string()])
            .env("KUBECONFIG", out.path().join("no-kubeconfig"))
            .run();
        assert!(run.success(), "{}{}", run.stdout, run.stderr);
        let created = run.stdout.lines().filter(|l| l.ends_with("created (dry run)")).count();
        let documents: usize = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap().matches("\nkind: NetworkPolicy").count())
            .sum();
        assert_eq!(created, documents, "{}", run.stdout);
    }
}

#[test]
fn the_expectations_hook_sees_the_reanalysed_graph() {
    use kubereach::result::pipeline;
    use kubereach::result::settings::{Requested, Settings};
    kubereach::load::yaml::read_references();
    let requested = Requested { paths: vec![Path::new(MANIFEST_DIR).join("examples/shop")], ..Requested::default() };
    let settings = Settings::resolve(&requested).unwrap();
    let analysis = pipeline::analyse(&settings, &mut |_| {}).unwrap();
    let before = analysis.scope().model.policies.len();
    let seen = std::sync::Mutex::new(None);
    let hook = |model: &kubereach::model::Model, _graph: &kubereach::graph::Graph| {
        *seen.lock().unwrap() = Some(model.policies.len());
        vec!["tenant billing must not reach shop-data".to_string()]
    };
    let enabled = |_: &str| true;
    let options = kubereach::suggest::Options { namespace: None, enabled: &enabled, expectations: Some(&hook) };
    let suggestion = kubereach::suggest::suggest(analysis.scope(), &analysis.graph, &options);
    let written: usize = suggestion.files.iter().map(|f| f.policies.len()).sum();
    assert_eq!(*seen.lock().unwrap(), Some(before + written));
    assert_eq!(suggestion.proof.broken_expectations, ["tenant billing must not reach shop-data"]);
}

/// An Ingress of a class no controller is known for: its backend cannot be admitted from the
/// controller alone, so it is left out of the default deny, for review; the rest is isolated.
const UNKNOWN_CONTROLLER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: web, ports: [{containerPort: 8080}], env: [{name: DB, value: \"db:5432\"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: a}
spec:
  ingressClassName: somebody-elses
  rules:
    - http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: a}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: pg, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: a}
spec:
  selector: {app: db}
  ports: [{port: 5432}]
";

#[test]
fn a_backend_behind_an_unknown_controller_is_left_out_for_review() {
    let repo = repo_with(&[("app.yaml", UNKNOWN_CONTROLLER)]);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("suggested");
    let report = suggest_json(repo.path(), &dir, &[]);
    let suggestion = &report["suggestion"];
    assert!(suggestion["withheld"].as_array().unwrap().is_empty(), "{suggestion:#}");
    for c in suggestion["proof"]["intended"].as_array().unwrap() {
        assert_eq!(c["kept"], true, "{c}");
    }
    let text = std::fs::read_to_string(dir.join("a.yaml")).unwrap();
    assert!(text.contains("operator: NotIn\n        values: [\"web\"]"), "{text}");
    // db admits web, and only web; web has no ingress policy.
    assert!(text.contains("kubereach-db-ingress") && !text.contains("kubereach-web-ingress"), "{text}");
    let review = suggestion["review"].to_string();
    assert!(review.contains("left out of the default deny"), "{review}");
}
