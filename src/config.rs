//! `.kubereach.yaml`: found in the scanned path or its parents (or named with `--config`), read
//! with kubereach's own YAML reader and validated into [`Config`] in one step. Unknown keys and
//! values of the wrong type are errors that point into the file.
//!
//! ```yaml
//! rules:
//!   select: [all]                  # rule ids, or `all` (default)
//!   ignore: [dangling-service]
//!   levels:                        # per-rule level: error, warning, note or off
//!     ingress-without-tls: error
//! exclude: ["charts/**"]
//! default-namespace: default
//! fail-on: warning                 # error, warning, note or never
//! profile: aks-azure-cni           # generic (default), aks-azure-cni, aks-kubenet, aks-calico, aks-cilium
//! cluster:                         # refines the profile
//!   dataplane: azure               # none, enforcing, azure, calico, cilium
//!   windows-enforced: false
//!   tiers-enforced: true           # AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
//!   nodes-public: false
//!   node-cidrs: [10.224.0.0/16]
//!   application-gateway-cidrs: [10.225.0.0/24]
//! ingress-controllers:
//!   - class: edge                  # ingress class name or IngressClass `spec.controller`
//!     namespace: edge-system
//!     pod-labels: {app: edge-proxy}
//!     public: true
//!   - class: partner-gateway       # a controller outside the cluster
//!     source-cidrs: [10.30.0.0/24]
//! external-namespaces: [monitoring]
//! tenants:
//!   label: tenant                  # namespaces with different values belong to different tenants
//! scopes:                          # plain manifests analysed together as one cluster
//!   - name: prod
//!     paths: ["envs/prod/**"]      # gitignore syntax, relative to this file's folder
//!     profile: aks-cilium
//!     default-namespace: shop
//! independent: ["labs/*"]          # each matching folder is a cluster of its own
//! expect:                          # reachability expectations (`expect` submodule)
//!   - name: tenants-apart
//!     deny: {from: {tenant: shop}, to: {tenant: billing}}
//! render:
//!   enabled: true                  # false: kustomizations and charts are read as plain files
//!   kustomize: kubectl kustomize   # a command line, or a list of arguments
//!   helm: [helm]
//!   charts:
//!     - path: charts/shop          # relative to this file's folder
//!       values: [charts/shop/values-prod.yaml]
//!       namespace: shop
//!       release: shop
//! ```
//!
//! One file is the whole configuration of the folder it lives in and of everything below it,
//! down to the next folder with its own file (the closest file wins, as in ruff; nothing is
//! merged from a file further up). Every path and glob in a file is relative to its folder.

mod expect;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::finding::Level;
use crate::load::render::{ChartOptions, RenderOptions};
use crate::load::yaml::{parse_stream, Node, Resolved};
use crate::model::net::{parse_cidr, IpRange};
use crate::model::selector::Labels;
use crate::profile::controllers::Controller;
use crate::profile::{ControllerSpec, Dataplane, Profile};
use crate::span::Pos;

pub const FILE_NAME: &str = ".kubereach.yaml";

/// The level a configuration gives a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    Level(Level),
    Off,
}

/// The lowest level that makes `check` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub fn fails(self, level: Level) -> bool {
        match self {
            FailOn::Error => level >= Level::Error,
            FailOn::Warning => level >= Level::Warning,
            FailOn::Note => true,
            FailOn::Never => false,
        }
    }

    fn parse(s: &str) -> Option<FailOn> {
        Some(match s {
            "error" => FailOn::Error,
            "warning" => FailOn::Warning,
            "note" => FailOn::Note,
            "never" => FailOn::Never,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Where it was read from, when it was.
    pub path: Option<PathBuf>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub levels: BTreeMap<String, RuleLevel>,
    pub exclude: Vec<String>,
    pub default_namespace: Option<String>,
    pub fail_on: Option<FailOn>,
    /// The profile named in the file, and where.
    pub profile: Option<(String, Pos)>,
    pub cluster: ClusterSettings,
    /// Declared scopes, in the file's order (the first whose globs match a file wins).
    pub scopes: Vec<ScopeConfig>,
    /// Folders that are each a scope of their own.
    pub independent: Option<PathGlobs>,
    /// How kustomizations and charts are rendered (`enabled` defaults to true).
    pub render: RenderOptions,
    /// Reachability expectations, in the file's order (their `file` is set where the file is
    /// registered with the load).
    pub expect: Vec<crate::graph::expect::Expectation>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            select: Vec::new(),
            ignore: Vec::new(),
            levels: BTreeMap::new(),
            exclude: Vec::new(),
            default_namespace: None,
            fail_on: None,
            profile: None,
            cluster: ClusterSettings::default(),
            scopes: Vec::new(),
            independent: None,
            // Rendering is what the cluster receives: on unless asked otherwise.
            render: RenderOptions { enabled: true, ..RenderOptions::default() },
            expect: Vec::new(),
        }
    }
}

/// `path` absolute with links resolved; a path under the base as given when it already is one
/// (the load resolves its files' folders once each, and resolving again costs system calls).
fn resolved(path: &Path) -> PathBuf {
    match path.is_absolute() && !path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        true => path.to_path_buf(),
        false => crate::load::canonical_path(path),
    }
}

/// A scope as the file declares it; its profile is resolved with the rest of the settings.
#[derive(Clone, Debug)]
pub struct ScopeConfig {
    pub name: String,
    pub paths: PathGlobs,
    /// The profile named for this scope, and where.
    pub profile: Option<(String, Pos)>,
    pub default_namespace: Option<String>,
}

/// Globs in gitignore syntax, relative to a configuration file's folder. A path matches when it,
/// or one of its folders, matches: `envs/prod`, `envs/prod/` and `envs/prod/**` all take in
/// every file below `envs/prod`. Paths outside the folder match nothing.
#[derive(Clone, Debug)]
pub struct PathGlobs {
    /// The folder the globs are relative to.
    base: PathBuf,
    patterns: Vec<String>,
    matcher: ignore::gitignore::Gitignore,
}

impl PathGlobs {
    /// Compiles `patterns` (with the node of each, to locate an error) relative to `base`.
    fn new(base: &Path, patterns: &[(String, Pos)]) -> Located<PathGlobs> {
        let mut builder = ignore::gitignore::GitignoreBuilder::new(base);
        for (pattern, at) in patterns {
            // A negation would make a scope of "everything but": refused rather than guessed at.
            if pattern.starts_with('!') || pattern.trim().is_empty() {
                return Err((*at, format!("`{pattern}` is not a path glob")));
            }
            builder.add_line(None, pattern).map_err(|e| (*at, format!("`{pattern}`: {e}")))?;
        }
        let matcher =
            builder.build().map_err(|e| (patterns.first().map_or(Pos { line: 1, col: 1 }, |p| p.1), e.to_string()))?;
        Ok(PathGlobs { base: base.to_path_buf(), patterns: patterns.iter().map(|p| p.0.clone()).collect(), matcher })
    }

    /// The folder the globs are relative to.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The globs as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `path` (a file or folder; a relative path is made absolute and resolved first) or
    /// one of its folders below the base matches.
    pub fn matches(&self, path: &Path) -> bool {
        let absolute = resolved(path);
        self.matches_resolved(&absolute, absolute.is_dir())
    }

    /// [`PathGlobs::matches`] for an absolute, resolved path whose kind is known.
    pub(crate) fn matches_resolved(&self, absolute: &Path, is_dir: bool) -> bool {
        absolute.starts_with(&self.base)
            && absolute != self.base
            && self.matcher.matched_path_or_any_parents(absolute, is_dir).is_ignore()
    }

    /// The outermost folder at or above `path`, below the base, that a glob matches: for
    /// `independent: ["labs/*"]` and `labs/12/app/web.yaml`, the folder `labs/12` (absolute).
    pub fn matching_folder(&self, path: &Path) -> Option<PathBuf> {
        let absolute = resolved(path);
        self.matching_folder_resolved(&absolute, absolute.is_dir())
    }

    /// [`PathGlobs::matching_folder`] for an absolute, resolved path whose kind is known.
    pub(crate) fn matching_folder_resolved(&self, absolute: &Path, is_dir: bool) -> Option<PathBuf> {
        let rest = absolute.strip_prefix(&self.base).ok()?;
        let mut folder = self.base.clone();
        let parts: Vec<_> = rest.components().collect();
        for (i, part) in parts.iter().enumerate() {
            folder.push(part);
            // The last component is the path itself: a folder only when it is one.
            if (i + 1 < parts.len() || is_dir) && self.matcher.matched(&folder, true).is_ignore() {
                return Some(folder);
            }
        }
        None
    }
}

/// What the configuration says about the cluster, over the profile's assumptions.
#[derive(Clone, Debug, Default)]
pub struct ClusterSettings {
    pub dataplane: Option<Dataplane>,
    pub windows_enforced: Option<bool>,
    pub tiers_enforced: Option<bool>,
    pub nodes_public: Option<bool>,
    pub node_ranges: Option<Vec<IpRange>>,
    pub gateway_ranges: Option<Vec<IpRange>>,
    pub controllers: Vec<ControllerSpec>,
    pub external_namespaces: Vec<String>,
    pub tenant_label: Option<String>,
}

impl Config {
    /// The profile that applies: `--profile` over the file's `profile:`, refined by the file's
    /// cluster settings. An unknown name is an error (located when it comes from the file).
    pub fn resolve_profile(&self, from_command_line: Option<&str>) -> Result<Profile, ConfigError> {
        let (name, at) = match (from_command_line, &self.profile) {
            (Some(name), _) => (name, None),
            (None, Some((name, at))) => (name.as_str(), Some(*at)),
            (None, None) => ("generic", None),
        };
        self.refined_profile(name, at)
    }

    /// The profile of a declared scope: its own `profile:`, refined by the file's cluster
    /// settings as the file's profile is; `None` when it names none or `--profile` was given (the
    /// command line wins over every file).
    pub fn resolve_scope_profile(
        &self,
        scope: &ScopeConfig,
        from_command_line: Option<&str>,
    ) -> Result<Option<Profile>, ConfigError> {
        match (&scope.profile, from_command_line) {
            (Some((name, at)), None) => self.refined_profile(name, Some(*at)).map(Some),
            _ => Ok(None),
        }
    }

    fn refined_profile(&self, name: &str, at: Option<Pos>) -> Result<Profile, ConfigError> {
        let mut profile = Profile::built_in(name).ok_or_else(|| ConfigError {
            path: self.path.clone().unwrap_or_else(|| PathBuf::from("--profile")),
            at,
            message: format!("unknown profile `{name}`; expected {}", crate::profile::built_in_names()),
        })?;
        let c = &self.cluster;
        if let Some(d) = c.dataplane {
            profile.dataplane = d;
            profile.tiers_enforced = d.enforces_tiers();
        }
        if let Some(t) = c.tiers_enforced {
            profile.tiers_enforced = t;
        }
        if let Some(w) = c.windows_enforced {
            profile.windows_enforced = w;
        }
        if let Some(p) = c.nodes_public {
            profile.nodes_public = p;
        }
        if let Some(r) = &c.node_ranges {
            profile.node_ranges = r.clone();
        }
        if let Some(r) = &c.gateway_ranges {
            profile.gateway_ranges = r.clone();
        }
        profile.controllers = c.controllers.clone();
        profile.external_namespaces = c.external_namespaces.clone();
        profile.tenant_label = c.tenant_label.clone();
        Ok(profile)
    }
}

/// A configuration error, located in its file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    pub at: Option<Pos>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "{}:{}:{}: {}", self.path.display(), at.line, at.col, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// What a namespace name is, for messages.
pub const NAMESPACE_NAME: &str = "a namespace name is lowercase letters, digits and `-`, at most 63";

/// Whether `name` can name a namespace: a DNS label (RFC 1123), as the API server requires.
pub fn is_namespace_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The configuration file that applies to `start`: `.kubereach.yaml` in it (or, for a file, in its
/// folder) or in the nearest parent that has one.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(start).ok()?;
    crate::load::nearest_folder(&absolute, |d| d.join(FILE_NAME).is_file()).map(|d| d.join(FILE_NAME))
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        at: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let err = |at: Option<Pos>, message: String| ConfigError { path: path.to_path_buf(), at, message };
    let stream = parse_stream(text);
    if let Some(e) = stream.errors.first() {
        return Err(err(Some(e.pos()), e.to_string()));
    }
    let mut config = Config { path: Some(path.to_path_buf()), ..Config::default() };
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let Some(root) = stream.documents.first().and_then(|d| d.root.as_ref()).filter(|r| !r.is_null()) else {
        return Ok(config);
    };
    let entries = root.as_map().ok_or_else(|| err(Some(root.span.start), "expected a mapping".to_string()))?;
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        match name {
            "rules" => read_rules(value, &mut config).map_err(|(at, m)| err(Some(at), m))?,
            "exclude" => config.exclude = strings(value, "exclude").map_err(|(at, m)| err(Some(at), m))?,
            "default-namespace" => {
                let v = string(value, "default-namespace").map_err(|(at, m)| err(Some(at), m))?;
                if !is_namespace_name(v) {
                    return Err(err(Some(value.span.start), format!("`default-namespace` is `{v}`; {NAMESPACE_NAME}")));
                }
                config.default_namespace = Some(v.to_string());
            }
            "fail-on" => {
                let v = string(value, "fail-on").map_err(|(at, m)| err(Some(at), m))?;
                config.fail_on = Some(FailOn::parse(v).ok_or_else(|| {
                    err(Some(value.span.start), format!("`fail-on` is `{v}`; expected error, warning, note or never"))
                })?);
            }
            "profile" => {
                let v = string(value, "profile").map_err(|(at, m)| err(Some(at), m))?;
                config.profile = Some((v.to_string(), value.span.start));
            }
            "cluster" => read_cluster(value, &mut config.cluster).map_err(|(at, m)| err(Some(at), m))?,
            "ingress-controllers" => {
                config.cluster.controllers = read_controllers(value).map_err(|(at, m)| err(Some(at), m))?;
            }
            "external-namespaces" => {
                config.cluster.external_namespaces =
                    strings(value, "external-namespaces").map_err(|(at, m)| err(Some(at), m))?;
            }
            "tenants" => {
                let entries =
                    value.as_map().ok_or_else(|| err(Some(value.span.start), "`tenants` must be a mapping".into()))?;
                for (k, v) in entries {
                    match k.as_str().unwrap_or_default() {
                        "label" => {
                            config.cluster.tenant_label =
                                Some(string(v, "tenants.label").map_err(|(at, m)| err(Some(at), m))?.to_string());
                        }
                        other => {
                            return Err(err(
                                Some(k.span.start),
                                format!("unknown key `tenants.{other}`; expected label"),
                            ))
                        }
                    }
                }
            }
            "scopes" => config.scopes = read_scopes(value, &base).map_err(|(at, m)| err(Some(at), m))?,
            "independent" => {
                let globs = located_strings(value, "independent").map_err(|(at, m)| err(Some(at), m))?;
                config.independent = Some(PathGlobs::new(&base, &globs).map_err(|(at, m)| err(Some(at), m))?);
            }
            "render" => read_render(value, &base, &mut config.render).map_err(|(at, m)| err(Some(at), m))?,
            "expect" => config.expect = expect::read(value).map_err(|(at, m)| err(Some(at), m))?,
            _ => {
                return Err(err(
                    Some(key.span.start),
                    format!(
                        "unknown key `{name}`; expected rules, exclude, default-namespace, fail-on, profile, cluster, \
                         ingress-controllers, external-namespaces, tenants, scopes, independent, render or expect"
                    ),
                ))
            }
        }
    }
    // A tenant peer needs the label that says what a tenant is, wherever the file sets it.
    if config.cluster.tenant_label.is_none() {
        if let Some(at) = expect::uses_tenants(&config.expect) {
            return Err(err(Some(at.start), "a `tenant` peer needs `tenants.label` in the configuration".to_string()));
        }
    }
    Ok(config)
}

type Located<T> = Result<T, (Pos, String)>;

fn string<'a>(node: &'a Node, what: &str) -> Located<&'a str> {
    node.as_str().ok_or_else(|| (node.span.start, format!("`{what}` must be a string, found {}", node.kind_name())))
}

fn strings(node: &Node, what: &str) -> Located<Vec<String>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{what}` must be a list of strings")))?;
    items.iter().map(|i| string(i, what).map(str::to_string)).collect()
}

/// A list of strings, each with where it is written.
fn located_strings(node: &Node, what: &str) -> Located<Vec<(String, Pos)>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{what}` must be a list of strings")))?;
    items.iter().map(|i| string(i, what).map(|s| (s.to_string(), i.span.start))).collect()
}

fn namespace(node: &Node, what: &str) -> Located<String> {
    let v = string(node, what)?;
    if !is_namespace_name(v) {
        return Err((node.span.start, format!("`{what}` is `{v}`; {NAMESPACE_NAME}")));
    }
    Ok(v.to_string())
}

fn read_scopes(node: &Node, base: &Path) -> Located<Vec<ScopeConfig>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, "`scopes` must be a list".to_string()))?;
    let mut out: Vec<ScopeConfig> = Vec::new();
    for item in items {
        let entries =
            item.as_map().ok_or_else(|| (item.span.start, "each of `scopes` must be a mapping".to_string()))?;
        let (mut name, mut paths, mut profile, mut default_namespace) = (None, None, None, None);
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "name" => {
                    let v = string(value, "scopes.name")?;
                    if v.is_empty() {
                        return Err((value.span.start, "a scope's `name` must not be empty".to_string()));
                    }
                    if out.iter().any(|s| s.name == v) {
                        return Err((
                            value.span.start,
                            format!("scope `{v}` is declared twice; scope names are unique"),
                        ));
                    }
                    name = Some(v.to_string());
                }
                "paths" => {
                    let globs = located_strings(value, "scopes.paths")?;
                    if globs.is_empty() {
                        return Err((value.span.start, "a scope's `paths` must name at least one glob".to_string()));
                    }
                    paths = Some(PathGlobs::new(base, &globs)?);
                }
                "profile" => profile = Some((string(value, "scopes.profile")?.to_string(), value.span.start)),
                "default-namespace" => default_namespace = Some(namespace(value, "scopes.default-namespace")?),
                other => {
                    return Err((
                        key.span.start,
                        format!("unknown key `scopes.{other}`; expected name, paths, profile or default-namespace"),
                    ))
                }
            }
        }
        let name = name.ok_or_else(|| (item.span.start, "each of `scopes` needs a `name`".to_string()))?;
        let paths = paths.ok_or_else(|| (item.span.start, format!("scope `{name}` needs `paths`")))?;
        out.push(ScopeConfig { name, paths, profile, default_namespace });
    }
    Ok(out)
}

/// A command: a command line split on whitespace, or a list of arguments.
fn command(node: &Node, what: &str) -> Located<Vec<String>> {
    let argv: Vec<String> = match node.as_str() {
        Some(line) => line.split_whitespace().map(str::to_string).collect(),
        None => strings(node, what)
            .map_err(|(at, _)| (at, format!("`{what}` must be a command line or a list of arguments")))?,
    };
    if argv.is_empty() {
        return Err((node.span.start, format!("`{what}` names no command")));
    }
    Ok(argv)
}

fn read_render(node: &Node, base: &Path, render: &mut RenderOptions) -> Located<()> {
    let entries = node.as_map().ok_or_else(|| (node.span.start, "`render` must be a mapping".to_string()))?;
    let relative = |p: &str| crate::load::normalize(&base.join(p));
    for (key, value) in entries {
        match key.as_str().unwrap_or_default() {
            "enabled" => render.enabled = boolean(value, "render.enabled")?,
            "kustomize" => render.kustomize = Some(command(value, "render.kustomize")?),
            "helm" => render.helm = Some(command(value, "render.helm")?),
            "charts" => {
                let items =
                    value.as_seq().ok_or_else(|| (value.span.start, "`render.charts` must be a list".to_string()))?;
                for item in items {
                    let fields = item
                        .as_map()
                        .ok_or_else(|| (item.span.start, "each of `render.charts` must be a mapping".to_string()))?;
                    let mut chart = ChartOptions::default();
                    let mut dir = None;
                    for (k, v) in fields {
                        match k.as_str().unwrap_or_default() {
                            "path" => dir = Some(relative(string(v, "render.charts.path")?)),
                            "values" => {
                                chart.values =
                                    strings(v, "render.charts.values")?.iter().map(|p| relative(p)).collect();
                            }
                            "namespace" => chart.namespace = Some(namespace(v, "render.charts.namespace")?),
                            "release" => chart.release = Some(string(v, "render.charts.release")?.to_string()),
                            other => {
                                return Err((
                                    k.span.start,
                                    format!(
                                    "unknown key `render.charts.{other}`; expected path, values, namespace or release"
                                ),
                                ))
                            }
                        }
                    }
                    chart.dir =
                        dir.ok_or_else(|| (item.span.start, "each of `render.charts` needs a `path`".to_string()))?;
                    render.charts.push(chart);
                }
            }
            other => {
                return Err((
                    key.span.start,
                    format!("unknown key `render.{other}`; expected enabled, kustomize, helm or charts"),
                ))
            }
        }
    }
    Ok(())
}

fn boolean(node: &Node, what: &str) -> Located<bool> {
    match node.as_scalar().map(|s| s.resolve()) {
        Some(Resolved::Bool(b)) => Ok(b),
        _ => Err((node.span.start, format!("`{what}` must be true or false"))),
    }
}

fn cidrs(node: &Node, what: &str) -> Located<Vec<IpRange>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{what}` must be a list of CIDRs")))?;
    items
        .iter()
        .map(|i| {
            let text = string(i, what)?;
            parse_cidr(text).map_err(|e| (i.span.start, format!("`{text}` in `{what}`: {e}")))
        })
        .collect()
}

fn read_cluster(node: &Node, cluster: &mut ClusterSettings) -> Located<()> {
    let entries = node.as_map().ok_or_else(|| (node.span.start, "`cluster` must be a mapping".to_string()))?;
    for (key, value) in entries {
        match key.as_str().unwrap_or_default() {
            "dataplane" => {
                let v = string(value, "cluster.dataplane")?;
                cluster.dataplane = Some(Dataplane::parse(v).ok_or_else(|| {
                    (
                        value.span.start,
                        format!("`cluster.dataplane` is `{v}`; expected none, enforcing, azure, calico or cilium"),
                    )
                })?);
            }
            "windows-enforced" => cluster.windows_enforced = Some(boolean(value, "cluster.windows-enforced")?),
            "tiers-enforced" => cluster.tiers_enforced = Some(boolean(value, "cluster.tiers-enforced")?),
            "nodes-public" => cluster.nodes_public = Some(boolean(value, "cluster.nodes-public")?),
            "node-cidrs" => cluster.node_ranges = Some(cidrs(value, "cluster.node-cidrs")?),
            "application-gateway-cidrs" => {
                cluster.gateway_ranges = Some(cidrs(value, "cluster.application-gateway-cidrs")?);
            }
            other => {
                return Err((
                    key.span.start,
                    format!(
                        "unknown key `cluster.{other}`; expected dataplane, windows-enforced, tiers-enforced, nodes-public, node-cidrs \
                         or application-gateway-cidrs"
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn read_controllers(node: &Node) -> Located<Vec<ControllerSpec>> {
    const WHAT: &str = "ingress-controllers";
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{WHAT}` must be a list")))?;
    let mut out = Vec::new();
    for item in items {
        let entries = item.as_map().ok_or_else(|| (item.span.start, format!("each of `{WHAT}` must be a mapping")))?;
        let (mut class, mut namespace, mut labels, mut sources, mut public) = (None, None, None, None, true);
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "class" => class = Some(string(value, "class")?.to_string()),
                "namespace" => namespace = Some(string(value, "namespace")?.to_string()),
                "pod-labels" => {
                    let pairs = value.as_map().ok_or_else(|| (value.span.start, "`pod-labels` must be a mapping".to_string()))?;
                    let mut l = Labels::default();
                    for (k, v) in pairs {
                        // Label values are strings: the raw text, whatever YAML 1.1 would make of it.
                        let v_text = v
                            .as_scalar()
                            .map(|s| &*s.text)
                            .ok_or_else(|| (v.span.start, "a `pod-labels` value must be a string".to_string()))?;
                        l = l.with(string(k, "pod-labels")?, v_text);
                    }
                    labels = Some(l);
                }
                "source-cidrs" => sources = Some(cidrs(value, "source-cidrs")?),
                "public" => public = boolean(value, "public")?,
                other => {
                    return Err((
                        key.span.start,
                        format!("unknown key `{other}` in `{WHAT}`; expected class, namespace, pod-labels, source-cidrs or public"),
                    ))
                }
            }
        }
        let class = class.ok_or_else(|| (item.span.start, format!("each of `{WHAT}` needs a `class`")))?;
        let identity = match (namespace, labels, sources) {
            (Some(namespace), Some(labels), None) if !labels.is_empty() => {
                Controller::Pods { namespace: namespace.into(), labels }
            }
            (None, None, Some(ranges)) => Controller::External(ranges),
            _ => {
                return Err((
                    item.span.start,
                    format!("controller `{class}` needs either `namespace` and `pod-labels`, or `source-cidrs`"),
                ))
            }
        };
        out.push(ControllerSpec { class, identity, public });
    }
    Ok(out)
}

fn read_rules(node: &Node, config: &mut Config) -> Located<()> {
    let entries = node.as_map().ok_or_else(|| (node.span.start, "`rules` must be a mapping".to_string()))?;
    for (key, value) in entries {
        match key.as_str().unwrap_or_default() {
            "select" => config.select = checked_ids(value, "rules.select")?,
            "ignore" => config.ignore = checked_ids(value, "rules.ignore")?,
            "levels" => {
                let levels =
                    value.as_map().ok_or_else(|| (value.span.start, "`rules.levels` must be a mapping".to_string()))?;
                for (id, level) in levels {
                    let id_text = string(id, "rules.levels")?;
                    if crate::rules::find(id_text).is_none() {
                        let hint = crate::rules::did_you_mean(id_text);
                        return Err((id.span.start, format!("unknown rule `{id_text}` in `rules.levels`{hint}")));
                    }
                    let id_text = crate::rules::canonical_id(id_text);
                    // Raw text: YAML 1.1 would read an unquoted `off` as a boolean.
                    let level_text = level.as_scalar().map(|s| &*s.text).unwrap_or_default();
                    let parsed = match (level_text, Level::parse(level_text)) {
                        ("off", _) => RuleLevel::Off,
                        (_, Some(level)) => RuleLevel::Level(level),
                        (other, None) => {
                            return Err((
                                level.span.start,
                                format!("level `{other}` for `{id_text}`; expected error, warning, note or off"),
                            ))
                        }
                    };
                    config.levels.insert(id_text.to_string(), parsed);
                }
            }
            other => {
                return Err((key.span.start, format!("unknown key `rules.{other}`; expected select, ignore or levels")))
            }
        }
    }
    Ok(())
}

fn checked_ids(node: &Node, what: &str) -> Located<Vec<String>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{what}` must be a list of rule ids")))?;
    let mut out = Vec::new();
    for item in items {
        let id = string(item, what)?;
        let id = crate::rules::canonical_id(id);
        if id != "all" && crate::rules::find(id).is_none() {
            let hint = crate::rules::did_you_mean(id);
            return Err((item.span.start, format!("unknown rule `{id}` in `{what}`{hint}")));
        }
        out.push(id.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_namespace_that_is_no_namespace_name_is_a_located_error() {
        let e = parse(Path::new("c.yaml"), "fail-on: note\ndefault-namespace: Team_A\n").unwrap_err();
        assert_eq!(e.at, Some(Pos { line: 2, col: 20 }));
        assert!(e.message.contains("`default-namespace` is `Team_A`"), "{e}");
        let ok = parse(Path::new("c.yaml"), "default-namespace: team-a\n").unwrap();
        assert_eq!(ok.default_namespace.as_deref(), Some("team-a"));
        for bad in ["", "-a", "a-", "a.b", &"x".repeat(64)] {
            assert!(!is_namespace_name(bad), "{bad:?}");
        }
        assert!(is_namespace_name(&"x".repeat(63)));
    }

    #[test]
    fn unknown_keys_are_located_errors() {
        let e = parse(Path::new("c.yaml"), "rules:\n  select: [all]\nprofiles: aks\n").unwrap_err();
        assert!(parse(Path::new("c.yaml"), "cluster:\n  nodes-public: maybe\n")
            .unwrap_err()
            .message
            .contains("true or false"));
        assert_eq!(e.at, Some(Pos { line: 3, col: 1 }));
        assert!(e.message.contains("unknown key `profiles`"), "{e}");
        let e = parse(Path::new("c.yaml"), "rules:\n  levels:\n    no-such-rule: error\n").unwrap_err();
        assert_eq!(e.at, Some(Pos { line: 3, col: 5 }));
    }

    #[test]
    fn a_full_configuration_reads() {
        let c = parse(
            Path::new("c.yaml"),
            "rules:\n  select: [all]\n  ignore: [dangling-service]\n  levels: {ingress-without-tls: error, policy-allows-all: off}\nexclude: ['charts/**']\nfail-on: error\n",
        )
        .unwrap();
        assert_eq!(c.ignore, vec!["dangling-service"]);
        assert_eq!(c.levels.get("ingress-without-tls"), Some(&RuleLevel::Level(Level::Error)));
        assert_eq!(c.levels.get("policy-allows-all"), Some(&RuleLevel::Off));
        assert_eq!(c.fail_on, Some(FailOn::Error));
        assert_eq!(c.exclude, vec!["charts/**"]);
    }

    #[test]
    fn cluster_settings_refine_the_profile() {
        let c = parse(
            Path::new("c.yaml"),
            "profile: aks-azure-cni\ncluster:\n  nodes-public: true\n  node-cidrs: [10.224.0.0/16]\n  application-gateway-cidrs: [10.225.0.0/24]\ningress-controllers:\n  - class: edge\n    namespace: edge-system\n    pod-labels: {app: edge}\n    public: false\nexternal-namespaces: [monitoring]\ntenants: {label: tenant}\n",
        )
        .unwrap();
        let p = c.resolve_profile(None).unwrap();
        assert_eq!(p.name, "aks-azure-cni");
        assert!(p.nodes_public && !p.windows_enforced);
        assert_eq!(p.node_ranges, vec![parse_cidr("10.224.0.0/16").unwrap()]);
        assert_eq!(p.gateway_ranges, vec![parse_cidr("10.225.0.0/24").unwrap()]);
        let edge = p.controller("edge").unwrap();
        assert!(!edge.public);
        assert_eq!(
            edge.identity,
            Controller::Pods { namespace: "edge-system".into(), labels: Labels::default().with("app", "edge") }
        );
        assert_eq!(p.external_namespaces, vec!["monitoring"]);
        assert_eq!(p.tenant_label.as_deref(), Some("tenant"));
        // The command line wins; unknown names are errors, located when they come from the file.
        assert_eq!(c.resolve_profile(Some("aks-kubenet")).unwrap().name, "aks-kubenet");
        let e = parse(Path::new("c.yaml"), "profile: eks\n").unwrap().resolve_profile(None).unwrap_err();
        assert_eq!(e.at, Some(Pos { line: 1, col: 10 }));
        assert!(e.message.contains("unknown profile `eks`"), "{e}");
    }

    #[test]
    fn scopes_independent_and_render_read_with_paths_relative_to_the_file() {
        let c = parse(
            Path::new("repo/.kubereach.yaml"),
            "scopes:\n  - {name: prod, paths: [envs/prod/], profile: aks-cilium, default-namespace: prod}\n  - {name: dev, paths: ['envs/dev/**']}\nindependent: ['labs/*']\nrender: {enabled: false, kustomize: [kustomize, --enable-helm], charts: [{path: ../charts/web, values: [v.yaml], release: web}]}\n",
        )
        .unwrap();
        assert_eq!(c.scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["prod", "dev"]);
        assert_eq!(c.scopes[0].paths.patterns(), ["envs/prod/"]);
        assert_eq!(c.scopes[0].paths.base(), Path::new("repo"));
        assert_eq!(c.scopes[0].default_namespace.as_deref(), Some("prod"));
        assert_eq!(c.resolve_scope_profile(&c.scopes[0], None).unwrap().map(|p| p.name), Some("aks-cilium".into()));
        assert!(c.resolve_scope_profile(&c.scopes[0], Some("generic")).unwrap().is_none(), "--profile wins");
        assert!(c.resolve_scope_profile(&c.scopes[1], None).unwrap().is_none());
        assert_eq!(c.independent.as_ref().map(PathGlobs::patterns), Some(&["labs/*".to_string()][..]));
        assert!(!c.render.enabled);
        assert_eq!(c.render.kustomize, Some(vec!["kustomize".into(), "--enable-helm".into()]));
        assert_eq!(c.render.helm, None);
        assert_eq!(c.render.charts[0].dir, PathBuf::from("charts/web"), "normalized: `repo/../charts/web`");
        assert_eq!(c.render.charts[0].values, vec![PathBuf::from("repo/v.yaml")]);
        assert_eq!(c.render.charts[0].release.as_deref(), Some("web"));
        // Rendering is on unless a file says otherwise.
        assert!(parse(Path::new("c.yaml"), "fail-on: note\n").unwrap().render.enabled);
        assert!(Config::default().render.enabled);
    }

    #[test]
    fn errors_of_the_new_keys_are_located() {
        let at = |text: &str| {
            let e = parse(Path::new("c.yaml"), text).unwrap_err();
            (e.at.map(|p| (p.line, p.col)), e.message)
        };
        let (pos, m) = at("scopes:\n  - {name: a, paths: [x]}\n  - {name: a, paths: [y]}\n");
        assert_eq!(pos, Some((3, 12)));
        assert!(m.contains("scope `a` is declared twice"), "{m}");
        let (pos, m) = at("scopes:\n  - name: a\n    path: [x]\n");
        assert_eq!(pos, Some((3, 5)));
        assert!(m.contains("unknown key `scopes.path`"), "{m}");
        assert!(at("scopes:\n  - name: a\n").1.contains("scope `a` needs `paths`"));
        assert!(at("scopes:\n  - paths: [x]\n").1.contains("needs a `name`"));
        assert!(at("scopes:\n  - {name: a, paths: [x], default-namespace: A_B}\n").1.contains("namespace name"));
        let (pos, m) = at("independent: ['!labs']\n");
        assert_eq!(pos, Some((1, 15)));
        assert!(m.contains("not a path glob"), "{m}");
        assert!(at("independent: labs\n").1.contains("list of strings"));
        let (pos, m) = at("render:\n  kustomize: ''\n");
        assert_eq!(pos, Some((2, 14)));
        assert!(m.contains("names no command"), "{m}");
        assert!(at("render:\n  helm: {x: 1}\n").1.contains("command line or a list of arguments"));
        assert!(at("render:\n  enabled: sometimes\n").1.contains("true or false"));
        assert!(at("render:\n  charts: [{values: [a.yaml]}]\n").1.contains("needs a `path`"));
        let (pos, m) = at("render:\n  chart: []\n");
        assert_eq!(pos, Some((2, 3)));
        assert!(m.contains("unknown key `render.chart`"), "{m}");
        assert!(at("render:\n  charts: [{path: a, valuez: []}]\n").1.contains("unknown key `render.charts.valuez`"));
    }

    #[test]
    fn a_glob_matches_a_path_or_its_folders_below_the_base_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = crate::load::canonical_path(dir.path());
        for folder in ["labs/12/app", "envs/prod", "other"] {
            std::fs::create_dir_all(base.join(folder)).unwrap();
        }
        let globs = |p: &[&str]| {
            PathGlobs::new(&base, &p.iter().map(|s| (s.to_string(), Pos { line: 1, col: 1 })).collect::<Vec<_>>())
                .unwrap()
        };
        for pattern in ["envs/prod", "envs/prod/", "envs/prod/**"] {
            assert!(globs(&[pattern]).matches(&base.join("envs/prod/a.yaml")), "{pattern}");
            assert!(!globs(&[pattern]).matches(&base.join("other/a.yaml")), "{pattern}");
        }
        assert!(!globs(&["**"]).matches(&base), "the base itself is no path below it");
        assert!(!globs(&["*"]).matches(Path::new("/elsewhere/a.yaml")), "outside the base: no match, no panic");
        let labs = globs(&["labs/*"]);
        assert_eq!(labs.matching_folder(&base.join("labs/12/app/web.yaml")), Some(base.join("labs/12")));
        assert_eq!(labs.matching_folder(&base.join("labs/12")), Some(base.join("labs/12")));
        assert_eq!(labs.matching_folder(&base.join("labs")), None);
        assert_eq!(labs.matching_folder(&base.join("labs/top.yaml")), None, "a file is no folder");
    }
}
