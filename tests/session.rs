//! The incremental session of `check --watch` gives exactly what a fresh analysis gives, whether
//! it patches the previous model in place or falls back to a full load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kubereach::graph;
use kubereach::model::build::{self as analysis, LoadOptions, Loaded, Session};
use kubereach::result::{self as check, RuleSettings};

/// Findings (with their files and positions) and the connectivity list: what a user sees.
fn observe(loaded: &Loaded) -> (Vec<String>, Vec<String>) {
    let g = graph::build(&loaded.single().model);
    let outcome = check::run(loaded, std::slice::from_ref(&g), &RuleSettings::default(), None);
    let findings = outcome
        .findings
        .iter()
        .map(|f| {
            let at = f.location.span.start;
            format!("{}:{}:{} {} {}", loaded.files.display(f.location.file), at.line, at.col, f.rule, f.message)
        })
        .collect();
    let mut edges = Vec::new();
    g.for_each_edge(|s, d, c| {
        edges.push(format!("{} => {} : {c}", g.endpoint_name(s), g.endpoint_name(d)));
        Ok::<(), ()>(())
    })
    .unwrap();
    (findings, edges)
}

fn copy_example(to: &Path) {
    let from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    for entry in walk(&from) {
        let target = to.join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn reloading_a_modified_file_equals_a_fresh_analysis() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path());
    let paths = vec![dir.path().to_path_buf()];
    let options = LoadOptions::default();
    let mut session = Session::new();
    let first = observe(session.load(&paths, &options).unwrap());
    assert_eq!(first, observe(&analysis::load(&paths, &options).unwrap()));

    let promo = dir.path().join("shop-web/promo.yaml");
    let policies = dir.path().join("shop-data/network-policies.yaml");
    let original_promo = std::fs::read_to_string(&promo).unwrap();
    let original_policies = std::fs::read_to_string(&policies).unwrap();
    // (file, new text, whether the session can patch in place)
    let steps: Vec<(&PathBuf, String, bool)> = vec![
        // The load balancer made internal: findings go away.
        (
            &promo,
            original_promo.replace(
                "spec:\n  type: LoadBalancer",
                "  annotations:\n    service.beta.kubernetes.io/azure-load-balancer-internal: \"true\"\nspec:\n  type: LoadBalancer",
            ),
            true,
        ),
        // A policy fixed (the selector that matched nothing), and a new object added to the file.
        (
            &policies,
            original_policies.replace("app: postgresql", "app: postgres")
                + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: extra\n  namespace: shop-data\nspec:\n  type: NodePort\n  selector: {app: redis}\n  ports: [{port: 6379}]\n",
            true,
        ),
        // An object that another file declares too: the model is rebuilt.
        (
            &promo,
            original_promo.clone()
                + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: billing\n",
            false,
        ),
        // Back as it was, the repeat gone again.
        (&promo, original_promo.clone(), false),
        // A syntax error in the middle of the file.
        (&policies, original_policies.replace("kind: NetworkPolicy", "kind: [NetworkPolicy"), true),
        (&policies, original_policies.clone(), true),
    ];
    for (i, (file, text, patchable)) in steps.into_iter().enumerate() {
        std::fs::write(file, &text).unwrap();
        let relative = [file.to_path_buf()];
        let patched = observe(session.reload(&relative, &paths, &options).unwrap());
        let fresh = observe(&analysis::load(&paths, &options).unwrap());
        assert_eq!(patched.0, fresh.0, "step {i}: findings differ");
        assert_eq!(patched.1, fresh.1, "step {i}: connections differ");
        assert_eq!(session.reparsed, 1, "step {i}: only the modified file is read");
        assert_eq!(session.patched, patchable, "step {i}: patched in place");
    }
    // Creating a file is a structural change: `load` finds it.
    std::fs::write(dir.path().join("shop-web/new.yaml"), "apiVersion: v1\nkind: Service\nmetadata:\n  name: new\n  namespace: shop-web\nspec:\n  type: NodePort\n  selector: {app: promo}\n  ports: [{port: 80}]\n").unwrap();
    let reloaded = observe(session.load(&paths, &options).unwrap());
    assert_eq!(reloaded, observe(&analysis::load(&paths, &options).unwrap()));
    assert_eq!(session.reparsed, 1);
}

#[test]
fn a_batch_where_two_files_gain_the_same_object_is_rebuilt_and_other_options_start_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: web}]}\n";
    std::fs::write(dir.path().join("a.yaml"), web).unwrap();
    std::fs::write(dir.path().join("b.yaml"), web.replace("name: web\nspec", "name: other\nspec")).unwrap();
    let paths = vec![dir.path().to_path_buf()];
    let options = LoadOptions::default();
    let mut session = Session::new();
    session.load(&paths, &options).unwrap();
    let lb = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, format!("{web}{lb}")).unwrap();
    std::fs::write(&b, format!("{}{lb}", web.replace("name: web\nspec", "name: other\nspec"))).unwrap();
    let patched = observe(session.reload(&[a.clone(), b.clone()], &paths, &options).unwrap());
    assert!(!session.patched, "both files gained `Service default/x`: rebuilt");
    assert_eq!(patched, observe(&analysis::load(&paths, &options).unwrap()));
    assert!(patched.0.iter().any(|f| f.contains("duplicate-object")), "{:?}", patched.0);
    // Another default namespace changes every object: nothing cached is reused.
    let other = LoadOptions { default_namespace: "beta".to_string(), ..LoadOptions::default() };
    let reloaded = observe(session.load(&paths, &other).unwrap());
    assert_eq!(session.reparsed, 2);
    assert_eq!(reloaded, observe(&analysis::load(&paths, &other).unwrap()));
    assert!(reloaded.1.iter().any(|e| e.contains("beta/web[Deployment]")), "{:?}", reloaded.1);
}

/// The library's one entry point, as the command line and `--watch` call it: a check through a
/// session after a file changed in place reports exactly what a fresh check reports.
#[test]
fn the_check_entry_point_gives_the_same_result_through_a_session() {
    use kubereach::result::pipeline::{self, Source};
    use kubereach::result::settings::{Requested, Settings};
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path());
    let requested = Requested { paths: vec![dir.path().to_path_buf()], ..Requested::default() };
    let settings = Settings::resolve(&requested).unwrap();
    let seen = |outcome: &check::Outcome, loaded: &Loaded| -> Vec<String> {
        outcome
            .findings
            .iter()
            .map(|f| format!("{} {} {}", loaded.files.display(f.location.file), f.rule, f.message))
            .collect()
    };
    let mut session = Session::new();
    let first =
        pipeline::check(&settings, Source::Session { session: &mut session, modified: &[] }, &mut |_| {}).unwrap();
    let before = seen(&first.outcome, &first.loaded);
    assert!(!before.is_empty(), "the example has deliberate gaps");
    drop(first);
    let fresh = pipeline::check(&settings, Source::Fresh, &mut |_| {}).unwrap();
    assert_eq!(before, seen(&fresh.outcome, &fresh.loaded));

    // Open the API's Service to the internet: both ways see the new exposure.
    let file = walk(dir.path()).into_iter().find(|p| p.ends_with("shop-api/api.yaml")).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let opened = text.replacen("  type: ClusterIP\n", "  type: LoadBalancer\n", 1);
    assert_ne!(text, opened, "the example's api Service changed shape");
    std::fs::write(&file, opened).unwrap();
    let modified = [file.clone()];
    let patched =
        pipeline::check(&settings, Source::Session { session: &mut session, modified: &modified }, &mut |_| {})
            .unwrap();
    let after = seen(&patched.outcome, &patched.loaded);
    drop(patched);
    let fresh = pipeline::check(&settings, Source::Fresh, &mut |_| {}).unwrap();
    assert_eq!(after, seen(&fresh.outcome, &fresh.loaded));
    assert!(after.iter().any(|f| f.contains("public-load-balancer")), "{after:#?}");
}
