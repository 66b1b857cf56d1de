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
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::finding::Level;
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

#[derive(Clone, Debug, Default)]
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
}

/// What the configuration says about the cluster, over the profile's assumptions.
#[derive(Clone, Debug, Default)]
pub struct ClusterSettings {
    pub dataplane: Option<Dataplane>,
    pub windows_enforced: Option<bool>,
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
        let mut profile = Profile::built_in(name).ok_or_else(|| ConfigError {
            path: self.path.clone().unwrap_or_else(|| PathBuf::from("--profile")),
            at,
            message: format!("unknown profile `{name}`; expected {}", crate::profile::built_in_names()),
        })?;
        let c = &self.cluster;
        if let Some(d) = c.dataplane {
            profile.dataplane = d;
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
            _ => {
                return Err(err(
                    Some(key.span.start),
                    format!(
                        "unknown key `{name}`; expected rules, exclude, default-namespace, fail-on, profile, cluster, \
                         ingress-controllers, external-namespaces or tenants"
                    ),
                ))
            }
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
            "nodes-public" => cluster.nodes_public = Some(boolean(value, "cluster.nodes-public")?),
            "node-cidrs" => cluster.node_ranges = Some(cidrs(value, "cluster.node-cidrs")?),
            "application-gateway-cidrs" => {
                cluster.gateway_ranges = Some(cidrs(value, "cluster.application-gateway-cidrs")?);
            }
            other => {
                return Err((
                    key.span.start,
                    format!(
                        "unknown key `cluster.{other}`; expected dataplane, windows-enforced, nodes-public, node-cidrs \
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
                        return Err((id.span.start, format!("unknown rule `{id_text}` in `rules.levels`")));
                    }
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
        if id != "all" && crate::rules::find(id).is_none() {
            return Err((item.span.start, format!("unknown rule `{id}` in `{what}`")));
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
}
