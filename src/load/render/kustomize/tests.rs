//! Tests of the plan, the command, the rendering and the mapping back to the repository.
//!
//! Tests that render need kustomize (`kubectl kustomize` here): outside CI they are skipped with
//! a printed reason when it is missing; with `CI` set they fail, so that a green CI ran them.

use std::path::{Path, PathBuf};

use super::*;
use crate::span::Pos;

const ENVS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/kustomize-envs");
const BROKEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/kustomize-broken");

/// The kustomize command, or `None` (the test then returns) outside CI when none is installed.
fn renderer() -> Option<Vec<String>> {
    let found = command(&RenderOptions { enabled: true, ..RenderOptions::default() });
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "kustomize or kubectl (with kustomize built in) is not installed");
        eprintln!("skipped: neither `kustomize` nor `kubectl` is on PATH");
    }
    found
}

/// Every file below `dir`, as the walk lists them.
fn walked(dir: &Path) -> Vec<PathBuf> {
    let tree = Tree { walk: &WalkOptions::default(), source: &FileSource::Disk };
    tree.files_below(dir)
}

fn plan_of(dir: &Path) -> Plan {
    plan(&walked(dir), &WalkOptions::default(), &FileSource::Disk)
}

/// Writes `files` (path, text) under a fresh temporary folder.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The position of `value` on the first line of `file` that contains `line`.
fn at(file: &Path, line: &str, value: &str) -> (PathBuf, Pos) {
    at_after(file, "", line, value)
}

/// [`at`], from the first line that contains `anchor` on.
fn at_after(file: &Path, anchor: &str, line: &str, value: &str) -> (PathBuf, Pos) {
    let text = std::fs::read_to_string(file).unwrap();
    let start = text.lines().position(|l| l.contains(anchor)).unwrap();
    for (n, l) in text.lines().enumerate().skip(start) {
        if l.contains(line) {
            let col = l[..l.find(value).unwrap()].chars().count() + 1;
            return (file.to_path_buf(), Pos { line: n as u32 + 1, col: col as u32 });
        }
    }
    panic!("no line with {line:?} in {}", file.display());
}

/// The rendered node at `path` (keys, and list indexes) of the object `kind`/`name`.
fn node<'r>(rendered: &'r Rendered, kind: &str, name: &str, path: &[&str]) -> &'r Node {
    let doc = rendered
        .stream
        .documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .find(|r| r.get("kind").and_then(Node::as_str) == Some(kind) && meta_name(r) == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name} in\n{}", rendered.text));
    path.iter().fold(doc, |n, seg| match seg.parse::<usize>() {
        Ok(i) => &n.as_seq().unwrap()[i],
        Err(_) => n.get(seg).unwrap_or_else(|| panic!("no {seg} in {path:?}")),
    })
}

fn meta_name(root: &Node) -> Option<&str> {
    root.get("metadata").and_then(|m| m.get("name")).and_then(Node::as_str)
}

/// Where the rendered node at `path` is mapped: file and start.
fn source_of(rendered: &Rendered, kind: &str, name: &str, path: &[&str]) -> (PathBuf, Pos) {
    let n = node(rendered, kind, name, path);
    let (file, span) = rendered.map.resolve(n.span).unwrap();
    (file.to_path_buf(), span.start)
}

#[test]
fn leaves_are_the_kustomizations_no_other_one_uses_and_consume_their_whole_tree() {
    let root = Path::new(ENVS);
    let plan = plan_of(root);
    assert_eq!(plan.leaves, vec![root.join("overlays/dev"), root.join("overlays/prod")]);
    let prod = &plan.reads[&root.join("overlays/prod")];
    for file in [
        "base/kustomization.yaml",
        "base/web.yaml",
        "base/policies.yaml",
        "overlays/prod/kustomization.yaml",
        "overlays/prod/service-public.yaml",
        "overlays/prod/allow-from-anywhere.yaml",
    ] {
        assert!(prod.files.contains(&root.join(file)), "{file}: {:?}", prod.files);
        assert!(plan.consumed.contains(&root.join(file)), "{file}");
    }
    assert!(!plan.reads[&root.join("overlays/dev")].files.contains(&root.join("overlays/prod/service-public.yaml")));
    assert_eq!(
        plan.patches,
        [root.join("overlays/prod/allow-from-anywhere.yaml"), root.join("overlays/prod/service-public.yaml")].into()
    );
}

#[test]
fn a_folder_outside_the_analysed_tree_is_followed_and_consumed() {
    let root = Path::new(ENVS);
    let plan = plan_of(&root.join("overlays/prod"));
    assert_eq!(plan.leaves, vec![root.join("overlays/prod")]);
    assert!(plan.consumed.contains(&root.join("base/web.yaml")));
}

#[test]
fn components_are_not_leaves_and_cycles_get_one_leaf() {
    let dir = tree(&[
        ("app/kustomization.yaml", "resources: [svc.yaml]\ncomponents: [../extra]\n"),
        ("app/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"),
        (
            "extra/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: p.yaml}]\n",
        ),
        ("extra/p.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort}\n"),
        ("orphan/kustomization.yaml", "kind: Component\nresources: [x.yaml]\n"),
        ("a/kustomization.yaml", "resources: [../b]\n"),
        ("b/Kustomization", "resources: [../a]\n"),
    ]);
    let plan = plan_of(dir.path());
    let d = |p: &str| normalize(&dir.path().join(p));
    assert_eq!(plan.leaves, vec![d("a"), d("app")]);
    assert!(plan.consumed.contains(&d("extra/p.yaml")));
    assert!(plan.consumed.contains(&d("b/Kustomization")));
    assert!(!plan.consumed.contains(&d("orphan/x.yaml")), "an orphan component is not rendered");
}

#[test]
fn missing_and_broken_kustomizations_are_planned_without_panicking() {
    let dir = tree(&[
        ("broken/kustomization.yaml", "resources: [\n"),
        (
            "dangling/kustomization.yaml",
            "resources: [../nowhere, gone.yaml]\npatches: [{path: nope.yaml}, {target: {kind: X}}]\n",
        ),
        ("weird/kustomization.yaml", "resources: {a: 1}\npatches: 7\nconfigMapGenerator: [{name: [1]}]\n"),
    ]);
    let plan = plan_of(dir.path());
    assert_eq!(plan.leaves.len(), 3);
    assert!(plan.consumed.contains(&normalize(&dir.path().join("dangling/gone.yaml"))));
}

#[test]
fn a_kustomization_without_extension_is_walked() {
    assert!(crate::load::is_manifest_file(Path::new("overlays/x/Kustomization")));
    assert!(!crate::load::is_manifest_file(Path::new("overlays/x/README")));
}

#[test]
fn a_leaf_that_reads_a_remote_resource_is_not_rendered_and_says_where() {
    let dir = tree(&[("k/kustomization.yaml", "resources:\n  - https://github.com/example/repo//config?ref=v1\n")]);
    let plan = plan_of(dir.path());
    let leaf = normalize(&dir.path().join("k"));
    let failure = render(&leaf, &plan, &["false".into()], &RenderOptions::default()).unwrap_err();
    assert_eq!(failure.file, leaf.join("kustomization.yaml"));
    assert_eq!(failure.span.start, Pos { line: 2, col: 5 });
    assert!(
        failure.message.contains("remote resource `https://github.com/example/repo//config?ref=v1`"),
        "{}",
        failure.message
    );
}

#[test]
fn prod_maps_patched_fields_to_the_patches_and_the_rest_to_the_base() {
    let Some(command) = renderer() else { return };
    let root = Path::new(ENVS);
    let plan = plan_of(root);
    let prod = root.join("overlays/prod");
    let rendered = render(&prod, &plan, &command, &RenderOptions::default()).unwrap();
    assert!(!rendered.text.contains("config.kubernetes.io"), "bookkeeping left:\n{}", rendered.text);
    // The strategic-merge patch's `type: LoadBalancer`.
    assert_eq!(
        source_of(&rendered, "Service", "prod-web", &["spec", "type"]),
        at(&prod.join("service-public.yaml"), "type: LoadBalancer", "LoadBalancer")
    );
    // The JSON 6902 operation's value.
    assert_eq!(
        source_of(
            &rendered,
            "NetworkPolicy",
            "prod-allow-web",
            &["spec", "ingress", "0", "from", "0", "ipBlock", "cidr"]
        ),
        at(&prod.join("allow-from-anywhere.yaml"), "cidr:", "0.0.0.0/0")
    );
    assert_eq!(
        source_of(&rendered, "NetworkPolicy", "prod-allow-web", &["spec", "ingress", "0", "from", "0"]),
        at(&prod.join("allow-from-anywhere.yaml"), "ipBlock:", "ipBlock")
    );
    // The namespace from prod's `namespace:`, key and value.
    let namespace = at(&prod.join("kustomization.yaml"), "namespace: prod", "prod");
    assert_eq!(source_of(&rendered, "Deployment", "prod-web", &["metadata", "namespace"]), namespace);
    // Base fields, and the name at the source's name.
    let base = root.join("base/web.yaml");
    assert_eq!(
        source_of(&rendered, "Service", "prod-web", &["spec", "ports", "0", "port"]),
        at(&base, "port: 80", "80")
    );
    assert_eq!(
        source_of(&rendered, "Service", "prod-web", &["metadata", "name"]),
        at_after(&base, "kind: Service", "name: web", "web")
    );
    assert_eq!(
        source_of(&rendered, "NetworkPolicy", "prod-allow-web", &["spec", "ingress", "0", "ports", "0", "port"]),
        at(&root.join("base/policies.yaml"), "port: 8080", "8080")
    );
    // The whole object is its source document.
    let service = node(&rendered, "Service", "prod-web", &[]);
    let (file, span) = rendered.map.resolve(service.span).unwrap();
    assert_eq!((file, span.start.line), (base.as_path(), at(&base, "kind: Service", "kind").1.line - 1));
    assert!(rendered.map.files.iter().all(|f| f.starts_with(root)), "{:?}", rendered.map.files);
    assert!(rendered.read.contains(&prod.join("service-public.yaml")));
}

#[test]
fn dev_keeps_the_base_service_type() {
    let Some(command) = renderer() else { return };
    let root = Path::new(ENVS);
    let rendered = render(&root.join("overlays/dev"), &plan_of(root), &command, &RenderOptions::default()).unwrap();
    assert_eq!(
        source_of(&rendered, "Service", "dev-web", &["spec", "type"]),
        at(&root.join("base/web.yaml"), "type: ClusterIP", "ClusterIP")
    );
    assert_eq!(
        source_of(&rendered, "Service", "dev-web", &["metadata", "namespace"]),
        at(&root.join("overlays/dev/kustomization.yaml"), "namespace: dev", "dev")
    );
}

#[test]
fn a_broken_overlay_fails_at_its_entry_with_kustomizes_message_and_no_temporary_path() {
    let Some(command) = renderer() else { return };
    let root = Path::new(BROKEN);
    let plan = plan_of(root);
    let failure = render(&root.join("overlay"), &plan, &command, &RenderOptions::default()).unwrap_err();
    let file = root.join("overlay/kustomization.yaml");
    assert_eq!(
        (failure.file.as_path(), failure.span.start),
        (file.as_path(), at(&file, "missing-patch", "missing-patch").1)
    );
    assert!(failure.message.contains("missing-patch.yaml"), "{}", failure.message);
    assert!(!failure.message.contains("kubereach-kustomize"), "{}", failure.message);
    assert!(!failure.message.contains("command failed"), "{}", failure.message);
    assert!(!failure.message.contains("must resolve to a file"), "{}", failure.message);
    // kustomize's failure is remembered, in memory and on disk: the same inputs are not
    // rendered again.
    let overlay = normalize(&root.join("overlay"));
    assert!(matches!(memory().lock().unwrap().get(&overlay), Some((_, Err(f))) if *f == failure));
    let cache = tempfile::tempdir().unwrap();
    let options = RenderOptions { cache_dir: Some(cache.path().to_path_buf()), ..RenderOptions::default() };
    memory().lock().unwrap().remove(&overlay);
    assert_eq!(render(&root.join("overlay"), &plan, &command, &options).unwrap_err(), failure);
    memory().lock().unwrap().remove(&overlay);
    let key = cache_key(&command, &plan.reads[&overlay]);
    assert_eq!(cached(&overlay, key, &options), Some(Err(failure)));
}

#[test]
fn inline_patches_and_generated_objects_map_into_the_kustomization() {
    let Some(command) = renderer() else { return };
    let kustomization = "\
namespace: shop
commonLabels:
  team: checkout
resources:
  - svc.yaml
configMapGenerator:
  - name: settings
    literals:
      - MODE=fast
patches:
  - target:
      kind: Service
      name: api
    patch: |-
      - op: add
        path: /spec/ports/-
        value:
          name: metrics
          port: 9090
  - patch: |-
      apiVersion: v1
      kind: Service
      metadata:
        name: api
        namespace: other
      spec:
        type: NodePort
";
    let dir = tree(&[
        ("app/kustomization.yaml", kustomization),
        ("app/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: other\nspec:\n  ports:\n    - name: http\n      port: 80\n"),
    ]);
    let leaf = normalize(&dir.path().join("app"));
    let rendered = render(&leaf, &plan_of(dir.path()), &command, &RenderOptions::default()).unwrap();
    let file = leaf.join("kustomization.yaml");
    assert_eq!(source_of(&rendered, "Service", "api", &["spec", "type"]), at(&file, "type: NodePort", "NodePort"));
    assert_eq!(
        source_of(&rendered, "Service", "api", &["spec", "ports", "1", "port"]),
        at(&file, "port: 9090", "9090")
    );
    assert_eq!(
        source_of(&rendered, "Service", "api", &["spec", "ports", "0", "port"]),
        at(&leaf.join("svc.yaml"), "port: 80", "80")
    );
    // A selector term that `commonLabels` adds: its entry.
    assert_eq!(
        source_of(&rendered, "Service", "api", &["spec", "selector", "team"]),
        at(&file, "team: checkout", "team")
    );
    // The source says `other`, the kustomization `shop`: the kustomization's line.
    assert_eq!(
        source_of(&rendered, "Service", "api", &["metadata", "namespace"]),
        at(&file, "namespace: shop", "shop")
    );
    let name = rendered
        .stream
        .documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .find_map(|r| meta_name(r).filter(|n| n.starts_with("settings-")))
        .unwrap()
        .to_string();
    // (`data` is not built for analysis; the whole object is the generator entry.)
    assert_eq!(source_of(&rendered, "ConfigMap", &name, &[]), at(&file, "- name: settings", "name"));
    assert_eq!(
        source_of(&rendered, "ConfigMap", &name, &["metadata", "name"]),
        at(&file, "name: settings", "settings")
    );
}

#[test]
fn a_rendering_is_cached_in_memory_and_on_disk_by_the_content_it_reads() {
    let Some(command) = renderer() else { return };
    let dir = tree(&[
        ("app/kustomization.yaml", "resources: [svc.yaml]\n"),
        ("app/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  type: ClusterIP\n"),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let options =
        RenderOptions { enabled: true, cache_dir: Some(cache.path().to_path_buf()), ..RenderOptions::default() };
    let leaf = normalize(&dir.path().join("app"));
    let plan = plan_of(dir.path());
    let first = render(&leaf, &plan, &command, &options).unwrap();
    let stored: Vec<_> = std::fs::read_dir(cache.path().join("kustomize")).unwrap().collect();
    assert_eq!(stored.len(), 1);
    // A command that cannot run proves the next two renderings come from the caches.
    let broken = vec!["/nonexistent/kustomize".to_string()];
    let key = cache_key(&command, &plan.reads[&leaf]);
    assert_ne!(cache_key(&broken, &plan.reads[&leaf]), key);
    memory().lock().unwrap().remove(&leaf);
    let from_disk = cached(&leaf, key, &options).unwrap().unwrap();
    assert_eq!(from_disk, first_text(&command, &leaf, &plan));
    let again = render(&leaf, &plan, &command, &options).unwrap();
    assert_eq!(again.text, first.text);
    assert_eq!(again.map, first.map);
    // A changed input is a new key.
    std::fs::write(
        dir.path().join("app/svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  type: NodePort\n",
    )
    .unwrap();
    assert_ne!(cache_key(&command, &plan.reads[&leaf]), key);
    let changed = render(&leaf, &plan, &command, &options).unwrap();
    assert!(changed.text.contains("NodePort"));
}

/// What the memory cache holds for `leaf`.
fn first_text(command: &[String], leaf: &Path, plan: &Plan) -> String {
    let key = cache_key(command, &plan.reads[leaf]);
    memory().lock().unwrap().get(leaf).filter(|(k, _)| *k == key).map(|(_, t)| t.clone().unwrap()).unwrap()
}

#[test]
fn kubectls_log_prefix_and_the_wrappers_layers_are_removed_from_messages() {
    let stderr = "E1203 03:44:53.415949   15340 run.go:72] \"command failed\" err=\"accumulating resources: accumulation err='accumulating resources from '../../repo/o': '/r/o' must resolve to a file': couldn't make target for path '/r/o': invalid Kustomization: json: unknown field \\\"foo\\\"\"\n";
    let message = clean_message(stderr, "../../repo/o", Path::new("/temporary/w"), Path::new("/r/o"));
    assert_eq!(message, "invalid Kustomization: json: unknown field \"foo\"");
    let block = "E1203 run.go:72] \"command failed\" err=<\n\ttrouble configuring builtin PatchTransformer with config: `\n\tpath: nope.yaml\n\t`: failed\n >\n";
    assert_eq!(clean_message(block, "x", Path::new("/temporary/w"), Path::new("/r/o")), "PatchTransformer: failed");
    assert_eq!(clean_message("Error: boom\n", "x", Path::new("/temporary/w"), Path::new("/r/o")), "boom");
}

/// A stand-in renderer (a shell script) that never finishes.
#[cfg(unix)]
#[test]
fn a_renderer_that_does_not_finish_is_stopped_at_the_time_limit() {
    let dir = tree(&[("k/kustomization.yaml", "resources: []\n"), ("bin/stuck", "#!/bin/sh\nexec sleep 30\n")]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path().join("bin/stuck"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let plan = plan_of(dir.path());
    let leaf = normalize(&dir.path().join("k"));
    let program = dir.path().join("bin/stuck").to_string_lossy().to_string();
    let started = std::time::Instant::now();
    let outcome = run(&leaf, &program, &[], &plan, &plan.reads[&leaf], Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(10));
    match outcome {
        Err(Failed::Run(failure)) => {
            assert!(failure.message.contains("did not finish within 0.3 seconds"), "{}", failure.message);
            assert_eq!(failure.file, leaf.join("kustomization.yaml"));
        }
        _ => panic!("not stopped"),
    }
}

#[test]
fn leaves_render_the_same_from_several_threads() {
    let Some(command) = renderer() else { return };
    use rayon::prelude::*;
    let root = Path::new(ENVS);
    let plan = plan_of(root);
    let serial: Vec<String> =
        plan.leaves.iter().map(|l| render(l, &plan, &command, &RenderOptions::default()).unwrap().text).collect();
    for leaf in &plan.leaves {
        memory().lock().unwrap().remove(leaf);
    }
    let parallel: Vec<String> =
        plan.leaves.par_iter().map(|l| render(l, &plan, &command, &RenderOptions::default()).unwrap().text).collect();
    assert_eq!(serial, parallel);
}

#[test]
fn go_addresses_in_a_message_are_written_the_same_every_run() {
    let once = "merging from generator &{0xc0017b72b0 0xc001808f80}: id does not exist; mode 0x1ff";
    let again = "merging from generator &{0xc0006c3d40 0xc001214c00}: id does not exist; mode 0x1ff";
    assert_eq!(without_addresses(once), without_addresses(again));
    assert_eq!(without_addresses(once), "merging from generator &{0x… 0x…}: id does not exist; mode 0x1ff");
}
