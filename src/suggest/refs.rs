//! Which Services a workload names: in the values of its containers' `env`, `args` and
//! `command`, and in the data of the ConfigMaps its pods mount or read as environment.
//!
//! A Service is named by its DNS name (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`,
//! a StatefulSet pod's `pod.svc.ns.svc…`), with or without a port, alone or in a URL, or by the
//! variables Kubernetes sets for the Services of the pod's namespace (`$(REDIS_SERVICE_HOST)`,
//! `$REDIS_SERVICE_PORT`). A bare name counts only where it stands as a host: the whole value, a
//! URL's host, or `name:port`, so that words of a command line are not taken for Services. A
//! URL's host outside the cluster is kept too: what a suggestion cuts off, for review.
//! Hand-written: the forms are few and exact, and no crate knows Kubernetes' DNS names.

use std::collections::{BTreeSet, HashMap};

use crate::model::{Model, Reference};
use crate::span::Location;

/// A Service a workload names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceRef {
    /// Index into [`Model::services`].
    pub(crate) service: usize,
    /// The port written with the name, when one is.
    pub(crate) port: Option<u16>,
    /// The text as written (`redis.shop-data:6379`), and where.
    pub(crate) written: String,
    pub(crate) field: String,
    pub(crate) at: Location,
}

/// A host the workload names that is no Service of the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OtherHost {
    pub(crate) host: String,
    /// Whether the name is of the cluster (`….svc`, `….svc.cluster.local`), else outside it.
    pub(crate) in_cluster: bool,
    pub(crate) field: String,
    pub(crate) at: Location,
}

#[derive(Default, Debug)]
pub(crate) struct Found {
    pub(crate) services: Vec<ServiceRef>,
    pub(crate) others: Vec<OtherHost>,
}

/// A ConfigMap data entry: key, value, where the value is.
type DataEntry = (String, String, Location);

/// The Services of a model by namespace and name, and the namespaces that hold objects.
pub(crate) struct Index {
    services: HashMap<(String, String), usize>,
    namespaces: BTreeSet<String>,
    /// ConfigMaps by namespace and name: their data entries with where each is.
    config_maps: HashMap<(String, String), Vec<DataEntry>>,
}

impl Index {
    pub(crate) fn new(model: &Model) -> Index {
        let mut services = HashMap::new();
        for (i, s) in model.services.iter().enumerate() {
            services.entry((s.meta.namespace.to_string(), s.meta.name.to_string())).or_insert(i);
        }
        let namespaces = model
            .namespaces
            .iter()
            .map(|n| n.meta.name.to_string())
            .chain(model.workloads.iter().map(|w| w.meta.namespace.to_string()))
            .chain(model.services.iter().map(|s| s.meta.namespace.to_string()))
            .collect();
        let mut config_maps = HashMap::new();
        for o in &model.others {
            if let Some(data) = &o.config_data {
                let entries =
                    data.iter().map(|(k, v, span)| (k.to_string(), v.to_string(), o.meta.at(*span))).collect();
                config_maps.entry((o.meta.namespace.to_string(), o.meta.name.to_string())).or_insert(entries);
            }
        }
        Index { services, namespaces, config_maps }
    }

    /// What the workload at `index` names.
    pub(crate) fn of_workload(&self, model: &Model, index: usize) -> Found {
        let mut found = Found::default();
        let Some(w) = model.workloads.get(index) else { return found };
        let Some(refs) = &w.references else { return found };
        let ns = &*w.meta.namespace;
        for Reference { field, text, span } in &refs.texts {
            self.scan(text, ns, field, w.meta.at(*span), &mut found);
        }
        let mut seen = BTreeSet::new();
        for (name, _) in &refs.config_maps {
            if !seen.insert(name.clone()) {
                continue;
            }
            let Some(entries) = self.config_maps.get(&(ns.to_string(), name.to_string())) else { continue };
            for (key, value, at) in entries {
                self.scan(value, ns, &format!("ConfigMap `{name}` key `{key}`"), *at, &mut found);
            }
        }
        found
    }

    fn scan(&self, text: &str, own_ns: &str, field: &str, at: Location, found: &mut Found) {
        let push = |service: usize, port: Option<u16>, written: &str, found: &mut Found| {
            let r = ServiceRef { service, port, written: written.to_string(), field: field.to_string(), at };
            if !found.services.iter().any(|x| x.service == r.service && x.port == r.port && x.field == r.field) {
                found.services.push(r);
            }
        };
        // `$(NAME_SERVICE_HOST)`, `${NAME_SERVICE_PORT}`, `$NAME_SERVICE_HOST`.
        for suffix in ["_SERVICE_HOST", "_SERVICE_PORT"] {
            for (i, _) in text.match_indices(suffix) {
                let before = &text[..i];
                let start = before
                    .rfind(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .map_or(0, |p| p + 1);
                let var = &before[start..];
                if var.is_empty() {
                    continue;
                }
                let name = var.to_ascii_lowercase().replace('_', "-");
                if let Some(&s) = self.services.get(&(own_ns.to_string(), name)) {
                    push(s, None, &format!("{var}{suffix}"), found);
                }
            }
        }
        let whole = text.trim();
        let bytes = text.as_bytes();
        let is_host_char = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
        let mut i = 0;
        while i < bytes.len() {
            if !is_host_char(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_host_char(bytes[i]) {
                i += 1;
            }
            let token = text[start..i].trim_matches(|c| c == '.' || c == '-');
            if token.is_empty() {
                continue;
            }
            let url_host = text[..start].ends_with("://") || text[..start].ends_with('@');
            let port = bytes.get(i).filter(|&&c| c == b':').and_then(|_| {
                let digits: String = text[i + 1..].chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u16>().ok().filter(|p| *p > 0)
            });
            let written = match port {
                Some(p) => format!("{token}:{p}"),
                None => token.to_string(),
            };
            let lower = token.to_ascii_lowercase();
            let labels: Vec<&str> = lower.split('.').collect();
            let target = match labels.as_slice() {
                [name] if url_host || port.is_some() || whole.eq_ignore_ascii_case(token) => {
                    Some((name.to_string(), own_ns.to_string(), false))
                }
                [_] => None,
                [name, ns] if self.namespaces.contains(*ns) => Some((name.to_string(), ns.to_string(), false)),
                [_, name, ns, "svc", ..] => Some((name.to_string(), ns.to_string(), true)),
                [name, ns, "svc", ..] => Some((name.to_string(), ns.to_string(), true)),
                _ => None,
            };
            match target {
                Some((name, ns, cluster_form)) => match self.services.get(&(ns.clone(), name)) {
                    Some(&s) => push(s, port, &written, found),
                    None if cluster_form => found.others.push(OtherHost {
                        host: lower.clone(),
                        in_cluster: true,
                        field: field.to_string(),
                        at,
                    }),
                    None => {}
                },
                None if (url_host || port.is_some())
                    && labels.len() >= 2
                    && labels.last().is_some_and(|t| t.chars().all(|c| c.is_ascii_alphabetic())) =>
                {
                    let other = OtherHost { host: lower.clone(), in_cluster: false, field: field.to_string(), at };
                    if !found.others.contains(&other) {
                        found.others.push(other);
                    }
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn index() -> Index {
        let services = [("shop", "redis"), ("shop", "redis-master"), ("data", "pg"), ("shop", "api")]
            .iter()
            .enumerate()
            .map(|(i, (ns, name))| ((ns.to_string(), name.to_string()), i))
            .collect();
        let namespaces = ["shop", "data"].iter().map(|s| s.to_string()).collect();
        Index { services, namespaces, config_maps: HashMap::new() }
    }

    type Seen = (Vec<(usize, Option<u16>)>, Vec<(String, bool)>);

    fn found(text: &str) -> Seen {
        let mut f = Found::default();
        index().scan(text, "shop", "env", Location { file: 0, span: Span::default() }, &mut f);
        (
            f.services.iter().map(|r| (r.service, r.port)).collect(),
            f.others.iter().map(|o| (o.host.clone(), o.in_cluster)).collect(),
        )
    }

    #[test]
    fn dns_names_in_every_form() {
        assert_eq!(found("redis").0, [(0, None)]);
        assert_eq!(found("redis:6379").0, [(0, Some(6379))]);
        assert_eq!(found("pg.data").0, [(2, None)]);
        assert_eq!(found("postgres://u:p@pg.data.svc:5432/db").0, [(2, Some(5432))]);
        assert_eq!(found("pg.data.svc.cluster.local:5432").0, [(2, Some(5432))]);
        assert_eq!(found("pg-0.pg.data.svc.cluster.local").0, [(2, None)]);
        assert_eq!(found("http://api/v1").0, [(3, None)]);
        assert_eq!(found("$(REDIS_MASTER_SERVICE_HOST):$(REDIS_MASTER_SERVICE_PORT)").0, [(1, None)]);
        assert_eq!(found("${REDIS_SERVICE_HOST}").0, [(0, None)]);
    }

    #[test]
    fn words_and_files_are_not_services() {
        // A bare name inside a command line is a word, not a host; `config.yaml` names no namespace.
        assert!(found("--mode=api --cache redis").0.is_empty());
        assert!(found("config.yaml").0.is_empty());
        assert!(found("--api-version=v1").0.is_empty());
    }

    #[test]
    fn other_hosts_are_kept_for_review() {
        assert_eq!(found("https://payments.example.com/x").1, [("payments.example.com".to_string(), false)]);
        assert_eq!(found("smtp.example.net:587").1, [("smtp.example.net".to_string(), false)]);
        assert_eq!(found("gone.data.svc.cluster.local").1, [("gone.data.svc.cluster.local".to_string(), true)]);
        assert!(found("image:1.2.3").1.is_empty());
    }
}
