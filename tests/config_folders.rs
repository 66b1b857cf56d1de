//! Configuration per folder: every `.kubereach.yaml` governs the files of its folder and below,
//! the closest file wins and nothing is merged from a file further up; each PATH is governed by
//! the file found from it upwards; `--config` governs everything. The cases are chosen so that
//! each folder's findings depend on its own objects only (one namespace per folder), so a run from
//! the root, a run from the folder and a pre-commit run must agree on them.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{dangling_service, kubereach, repo_with, write, RunExt};
use kubereach::result::settings::{Requested, Settings};

/// A public LoadBalancer of namespace `team` whose selector matches nothing: `public-load-balancer`
/// at line 7 and `dangling-service` at line 9.
const TEAM_LB: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: edge
  namespace: team
spec:
  type: LoadBalancer
  selector:
    app: edge
  ports:
    - port: 443
      targetPort: 8443
";

/// A dangling Service of namespace `team` (`dangling-service`, a note by default, at line 8).
fn team_service() -> String {
    dangling_service("phantom").replace("namespace: shop", "namespace: team")
}

/// The root's file makes `dangling-service` an error; `team/`'s file turns
/// `public-load-balancer` off and makes `dangling-service` a warning.
fn nested() -> tempfile::TempDir {
    repo_with(&[
        (".kubereach.yaml", "rules:\n  levels:\n    dangling-service: error\n"),
        ("apps/svc.yaml", &dangling_service("ghost")),
        (
            "team/.kubereach.yaml",
            "rules:\n  ignore: [public-load-balancer]\n  levels:\n    dangling-service: warning\n",
        ),
        ("team/lb.yaml", TEAM_LB),
        ("team/svc.yaml", &team_service()),
    ])
}

/// `(file, line, rule, level)` of every finding of `check ARGS --format json`, run in `dir`.
fn findings(dir: &Path, args: &[&str]) -> Vec<(String, u64, String, String)> {
    let run = kubereach(["check", "--format", "json", "--fail-on", "never"]).args(args).current_dir(dir).run();
    assert!(run.success(), "{run}");
    let json = run.json();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn finding(file: &str, line: u64, rule: &str, level: &str) -> (String, u64, String, String) {
    (file.to_string(), line, rule.to_string(), level.to_string())
}

/// Only the findings of files under `prefix`, with the prefix taken off their paths.
fn under(all: &[(String, u64, String, String)], prefix: &str) -> Vec<(String, u64, String, String)> {
    all.iter()
        .filter_map(|(f, l, r, v)| f.strip_prefix(prefix).map(|rest| (rest.to_string(), *l, r.clone(), v.clone())))
        .collect()
}

#[test]
fn a_folder_file_governs_its_folder_and_the_root_file_the_rest() {
    let repo = nested();
    assert_eq!(
        findings(repo.path(), &["."]),
        vec![
            finding("apps/svc.yaml", 8, "dangling-service", "error"),
            finding("team/lb.yaml", 9, "dangling-service", "warning"),
            finding("team/svc.yaml", 8, "dangling-service", "warning"),
        ],
        "team/ turns public-load-balancer off and sets its own level; nothing of the root's file reaches it"
    );
}

#[test]
fn the_root_the_folder_and_only_files_agree_on_the_folder_files() {
    let repo = nested();
    let from_root = under(&findings(repo.path(), &["."]), "team/");
    assert!(!from_root.is_empty());
    let from_folder = under(&findings(repo.path(), &["team"]), "team/");
    assert_eq!(from_root, from_folder);
    let inside = findings(&repo.path().join("team"), &["."]);
    assert_eq!(from_root, inside, "run from inside the folder");
    let hook = findings(repo.path(), &["--only-files", "team/lb.yaml", "team/svc.yaml"]);
    assert_eq!(from_root, under(&hook, "team/"));
}

#[test]
fn the_closest_file_is_the_whole_configuration_nothing_is_merged() {
    // The root's file ignores `dangling-service`; `team/`'s file says nothing of it, so it runs
    // there with its default level.
    let repo = repo_with(&[
        (".kubereach.yaml", "rules:\n  ignore: [dangling-service, public-load-balancer]\n"),
        ("apps/svc.yaml", &dangling_service("ghost")),
        ("team/.kubereach.yaml", "fail-on: warning\n"),
        ("team/lb.yaml", TEAM_LB),
    ]);
    assert_eq!(
        findings(repo.path(), &["."]),
        vec![
            finding("team/lb.yaml", 7, "public-load-balancer", "warning"),
            finding("team/lb.yaml", 9, "dangling-service", "note")
        ]
    );
    // The command line still wins over every file.
    assert_eq!(
        findings(repo.path(), &[".", "--select", "dangling-service"]),
        vec![finding("team/lb.yaml", 9, "dangling-service", "note")],
        "--select replaces each file's selection, and each file's ignore list still applies"
    );
}

#[test]
fn each_path_uses_its_own_configuration() {
    let top = tempfile::tempdir().unwrap();
    write(top.path(), "a/.kubereach.yaml", "rules:\n  levels: {dangling-service: error}\n");
    write(top.path(), "a/svc.yaml", dangling_service("ghost"));
    write(top.path(), "b/.kubereach.yaml", "rules:\n  ignore: [public-load-balancer]\n");
    write(top.path(), "b/lb.yaml", TEAM_LB);
    write(top.path(), "c/svc.yaml", team_service());
    assert_eq!(
        findings(top.path(), &["a", "b", "c"]),
        vec![
            finding("a/svc.yaml", 8, "dangling-service", "error"),
            finding("b/lb.yaml", 9, "dangling-service", "note"),
            finding("c/svc.yaml", 8, "dangling-service", "note"),
        ],
        "c has no configuration: the defaults"
    );
    // Order does not matter.
    assert_eq!(findings(top.path(), &["c", "b", "a"]), findings(top.path(), &["a", "b", "c"]));
}

#[test]
fn an_explicit_config_governs_everything() {
    let repo = nested();
    write(repo.path(), "ci/kubereach.yaml", "rules:\n  ignore: [dangling-service]\n");
    assert_eq!(
        findings(repo.path(), &["--config", "ci/kubereach.yaml", "."]),
        vec![finding("team/lb.yaml", 7, "public-load-balancer", "warning")],
        "discovery is off: neither the root's file nor team/'s applies"
    );
}

#[test]
fn an_error_in_a_nested_file_is_located_in_that_file() {
    let repo = nested();
    write(repo.path(), "team/.kubereach.yaml", "rules:\n  ignore: [public-load-balancer]\nprofiles: aks\n");
    let run = kubereach(["check", "."]).current_dir(repo.path()).run();
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("configuration: team/.kubereach.yaml:3:1:"), "shown as users name it: {}", run.stderr);
    assert!(run.stderr.contains("unknown key `profiles`"), "{}", run.stderr);
}

#[test]
fn excludes_are_those_of_the_file_that_governs_each_path() {
    let repo = repo_with(&[
        (".kubereach.yaml", "exclude: ['*.generated.yaml', 'vendor/']\n"),
        ("apps/svc.generated.yaml", &dangling_service("ghost")),
        ("team/.kubereach.yaml", "exclude: [old/]\n"),
        // The root's pattern does not reach into team/, which has its own file.
        ("team/svc.generated.yaml", &team_service()),
        ("team/old/lb.yaml", TEAM_LB),
        // A folder the root's file excludes: its files and its own configuration are not read,
        // however broken that configuration is.
        ("vendor/.kubereach.yaml", "no-such-key: 1\n"),
        ("vendor/lb.yaml", TEAM_LB),
    ]);
    assert_eq!(findings(repo.path(), &["."]), vec![finding("team/svc.generated.yaml", 8, "dangling-service", "note")]);
    // `team/`'s own exclude also holds from inside.
    assert_eq!(
        findings(&repo.path().join("team"), &["."]),
        vec![finding("svc.generated.yaml", 8, "dangling-service", "note")]
    );
    // `sub/**` leaves out a folder with its own configuration as a whole, like `sub/`.
    write(repo.path(), ".kubereach.yaml", "exclude: ['vendor/**']\n");
    let all = findings(repo.path(), &["."]);
    assert!(all.iter().all(|f| !f.0.starts_with("vendor/")), "{all:?}");
}

#[test]
fn settings_expose_each_folder_and_its_new_keys() {
    let repo = repo_with(&[
        (
            ".kubereach.yaml",
            "profile: aks-azure-cni\n\
             default-namespace: shop\n\
             scopes:\n  - name: prod\n    paths: ['envs/prod/**']\n    profile: aks-cilium\n    default-namespace: prod\n\
             independent: ['labs/*']\n\
             render:\n  kustomize: kubectl kustomize\n  helm: [helm, --debug]\n  charts:\n    - path: charts/web\n      values: [charts/web/prod.yaml]\n      namespace: web\n",
        ),
        ("envs/prod/app.yaml", &dangling_service("a")),
        ("labs/12/app/web.yaml", &dangling_service("b")),
        ("team/.kubereach.yaml", "render:\n  enabled: false\n"),
        ("team/svc.yaml", &team_service()),
    ]);
    let root = std::fs::canonicalize(repo.path()).unwrap();
    let requested = Requested { paths: vec![repo.path().to_path_buf()], ..Requested::default() };
    let settings = Settings::resolve(&requested).unwrap();
    assert_eq!(settings.configuration_roots(), vec![root.as_path(), root.join("team").as_path()]);
    assert_eq!(settings.config_paths, vec![root.join(".kubereach.yaml"), root.join("team/.kubereach.yaml")]);

    let top = settings.for_path(&repo.path().join("envs/prod/app.yaml"));
    assert_eq!(top.root, root);
    assert_eq!(top.profile.name, "aks-azure-cni");
    assert_eq!(top.default_namespace, "shop");
    let prod = &top.scopes[0];
    assert_eq!((prod.name.as_str(), prod.default_namespace.as_deref()), ("prod", Some("prod")));
    assert_eq!(prod.profile.as_ref().map(|p| p.name.as_str()), Some("aks-cilium"));
    assert!(prod.paths.matches(&repo.path().join("envs/prod/app.yaml")));
    assert!(!prod.paths.matches(&repo.path().join("labs/12/app/web.yaml")));
    let labs = top.independent.as_ref().unwrap();
    assert_eq!(labs.matching_folder(&repo.path().join("labs/12/app/web.yaml")), Some(root.join("labs/12")));
    assert_eq!(labs.matching_folder(&repo.path().join("envs/prod/app.yaml")), None);
    assert!(top.render.enabled);
    assert_eq!(top.render.kustomize, Some(vec!["kubectl".to_string(), "kustomize".to_string()]));
    assert_eq!(top.render.helm, Some(vec!["helm".to_string(), "--debug".to_string()]));
    assert_eq!(top.render.charts[0].dir, root.join("charts/web"));
    assert_eq!(top.render.charts[0].values, vec![root.join("charts/web/prod.yaml")]);
    assert_eq!(top.render.charts[0].namespace.as_deref(), Some("web"));

    let team = settings.for_path(&repo.path().join("team/svc.yaml"));
    assert_eq!(team.root, root.join("team"));
    assert!(!team.render.enabled);
    assert_eq!(team.profile.name, "generic", "nothing is inherited from the file above");
    assert!(team.scopes.is_empty());
    // The folder itself and any spelling of a path below it.
    assert_eq!(settings.for_path(&repo.path().join("team/./x/../svc.yaml")).root, root.join("team"));

    // The command line wins over every file, scopes included; --no-render turns rendering off.
    let requested = Requested {
        paths: vec![repo.path().to_path_buf()],
        profile: Some("aks-calico".into()),
        default_namespace: Some("ops".into()),
        no_render: true,
        scope: Some("prod".into()),
        ..Requested::default()
    };
    let settings = Settings::resolve(&requested).unwrap();
    let top = settings.for_path(repo.path());
    assert_eq!((top.profile.name.as_str(), top.default_namespace.as_str()), ("aks-calico", "ops"));
    assert!(top.scopes[0].profile.is_none() && top.scopes[0].default_namespace.is_none());
    assert!(!top.render.enabled);
    assert_eq!(settings.scope.as_deref(), Some("prod"));
}

#[test]
fn fail_on_comes_from_the_paths_configurations_the_strictest_of_them() {
    let top = tempfile::tempdir().unwrap();
    write(top.path(), "a/.kubereach.yaml", "fail-on: never\n");
    write(top.path(), "a/svc.yaml", dangling_service("ghost"));
    write(top.path(), "b/.kubereach.yaml", "fail-on: error\n");
    write(top.path(), "b/sub/.kubereach.yaml", "fail-on: note\n");
    write(top.path(), "b/sub/svc.yaml", team_service());
    let code = |args: &[&str]| kubereach(["check"]).args(args).current_dir(top.path()).run().code;
    assert_eq!(code(&["a"]), Some(0));
    assert_eq!(code(&["b"]), Some(0), "b's own file: only errors fail; b/sub's fail-on does not count");
    assert_eq!(code(&["b/sub"]), Some(1));
    assert_eq!(code(&["a", "b/sub"]), Some(1), "the strictest of the PATHs' files");
}

#[test]
fn a_suppression_of_a_rule_its_folder_turns_off_is_not_unused() {
    // The same annotation in both folders: only team/ turns `public-load-balancer` off, so only
    // the root's copy, which suppresses its finding, is used; team/'s could not have been.
    let annotated = TEAM_LB.replace(
        "  namespace: team\n",
        "  namespace: team\n  annotations:\n    kubereach.io/ignore: public-load-balancer\n",
    );
    let repo = repo_with(&[
        ("team/.kubereach.yaml", "rules:\n  ignore: [public-load-balancer, dangling-service]\n"),
        ("team/lb.yaml", &annotated),
        ("apps/lb.yaml", &annotated.replace("namespace: team", "namespace: apps")),
        (
            "apps/stale.yaml",
            &annotated
                .replace("namespace: team", "namespace: apps")
                .replace("type: LoadBalancer", "type: ClusterIP")
                .replace("name: edge", "name: inner"),
        ),
    ]);
    let all = findings(repo.path(), &[".", "--select", "public-load-balancer,unused-suppression"]);
    assert_eq!(all, vec![finding("apps/stale.yaml", 7, "unused-suppression", "warning")]);
}

#[test]
fn scope_and_no_render_are_common_options() {
    for command in ["check", "graph", "explain"] {
        let help = kubereach([command, "--help"]).run().ok();
        assert!(help.contains("--scope <NAME>") && help.contains("--no-render"), "{command}: {help}");
    }
}

/// A Deployment `web` (label `app: web`) with no namespace of its own.
const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
";

/// A Service `web` selecting `app: web`, with no namespace of its own.
const WEB_SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
";

#[test]
fn a_folder_configuration_is_its_own_cluster_with_its_own_default_namespace() {
    // team/'s objects name no namespace: its file puts them in `team`, where the root's Service
    // finds no workload; the root's Service, in `default`, finds the root's workload.
    let repo = repo_with(&[
        ("web.yaml", WEB),
        ("svc.yaml", WEB_SERVICE),
        ("team/.kubereach.yaml", "default-namespace: team\n"),
        ("team/svc.yaml", WEB_SERVICE),
    ]);
    let all = findings(repo.path(), &[".", "--select", "dangling-service"]);
    assert_eq!(all, vec![finding("team/svc.yaml", 6, "dangling-service", "note")]);
    let from_folder = findings(repo.path(), &["team", "--select", "dangling-service"]);
    assert_eq!(under(&all, "team/"), under(&from_folder, "team/"), "the same from the folder");
}

#[test]
fn declared_and_independent_scopes_are_clusters_of_their_own() {
    // One Service and its workload, split across two folders: analysed together they match;
    // as two scopes (declared, or independent folders) the Service selects nothing in its own.
    let files = [("a/svc.yaml", WEB_SERVICE), ("b/web.yaml", WEB)];
    let together = repo_with(&files);
    assert!(findings(together.path(), &[".", "--select", "dangling-service"]).is_empty());
    for config in ["scopes:\n  - {name: a, paths: [a/]}\n  - {name: b, paths: ['b/**']}\n", "independent: ['*/']\n"] {
        let repo = repo_with(&files);
        write(repo.path(), ".kubereach.yaml", config);
        assert_eq!(
            findings(repo.path(), &[".", "--select", "dangling-service"]),
            vec![finding("a/svc.yaml", 6, "dangling-service", "note")],
            "{config}"
        );
    }
}
