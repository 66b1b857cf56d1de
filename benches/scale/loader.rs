//! The loader against the YAML parser alone (issue 13): on the same texts, in process, on one
//! thread, (a) granit-parser's event stream with the loader's options, consumed and dropped
//! (`kubereach::load::yaml::parser_events`) and (b) the loader: text to located `Node` trees and
//! documents as analysis builds them (`parse_stream_with(.., Detail::Analysis)`), repeated keys,
//! anchors and budgets included. Both in MB/s, and the loader's time over the parser's.
//!
//! The texts: the 10,000-object synthetic repository and the cluster-shape repository, read from
//! the disk once before timing, and one generated set per style real repositories use (block,
//! flow, single-quoted, double-quoted, long files of thousands of documents, JSON), made in memory
//! from one seeded set of objects so that the styles differ only in how they are written.
//! Walking, reading and the model stage are not in those figures; a second table gives, for the
//! two repositories, the whole load stage the `--stats` figure times (walk, read, parse, model),
//! in process on one thread, to set against them.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Instant;

use kubereach::load::yaml::{parse_stream_with, parser_events, Detail};

use crate::measure::median;
use crate::report::{table, thousands};
use crate::Result;

/// The loader within this factor of the parser alone (issue 13).
const GOAL: f64 = 1.5;
/// Objects of each generated style set (a Deployment, a Service and a NetworkPolicy per app).
const APPS: usize = 1_000;
/// Documents in each file of the long-file set.
const LONG_FILE_DOCUMENTS: usize = 1_500;
const SEED: u64 = 0x6c6f_6164_6572_2121;

/// One set of files, as texts.
pub(crate) struct FileSet {
    pub(crate) name: String,
    pub(crate) texts: Vec<String>,
}

impl FileSet {
    fn bytes(&self) -> usize {
        self.texts.iter().map(String::len).sum()
    }
}

/// The whole load stage on a repository, in process on one thread: median ms.
struct StageResult {
    name: String,
    bytes: usize,
    objects: usize,
    ms: f64,
}

/// CPU time of the whole process (every thread), in ms, from `/proc/self/stat` (Linux; ticks of
/// 10 ms, `USER_HZ` being 100 on every Linux); `None` elsewhere.
fn process_cpu_ms() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<u64> =
        stat.rsplit_once(')')?.1.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    Some((fields.first()? + fields.get(1)?) as f64 * 10.0)
}

fn measure_stage(dir: &Path, name: &str, bytes: usize, runs: usize) -> Result<StageResult> {
    use kubereach::model::build::{load, LoadOptions};
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| e.to_string())?;
    let paths = vec![dir.to_path_buf()];
    let options = LoadOptions::default();
    let mut times = Vec::with_capacity(runs);
    let mut objects = 0;
    for run in 0..=runs {
        let (cpu, started) = (process_cpu_ms(), Instant::now());
        let loaded = pool.install(|| load(&paths, &options)).map_err(|e| e.to_string())?;
        let ms = match (cpu, process_cpu_ms()) {
            (Some(a), Some(b)) => b - a,
            _ => started.elapsed().as_secs_f64() * 1000.0,
        };
        objects = loaded.objects;
        drop(loaded);
        if run > 0 {
            times.push(ms);
        }
    }
    Ok(StageResult { name: name.to_string(), bytes, objects, ms: median(times) })
}

/// The measured figures of one set.
pub(crate) struct SetResult {
    name: String,
    files: usize,
    bytes: usize,
    documents: usize,
    events: usize,
    parser_ms: f64,
    loader_ms: f64,
}

/// The `.yaml`, `.yml` and `.json` files under `dir`, in path order, as texts.
fn read_tree(dir: &Path, name: &str) -> Result<FileSet> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let texts = paths
        .iter()
        .map(|p| fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    Ok(FileSet { name: name.to_string(), texts })
}

/// The time the calling thread has spent on a CPU (Linux: `/proc/thread-self/schedstat`, in ns):
/// unlike the wall clock, it does not count the time other processes had the CPU, which on a
/// shared machine is most of the noise. `None` where the kernel does not say.
struct ThreadClock(Option<fs::File>);

impl ThreadClock {
    fn new() -> ThreadClock {
        ThreadClock(fs::File::open("/proc/thread-self/schedstat").ok())
    }

    fn ms(&mut self) -> Option<f64> {
        use std::io::{Read as _, Seek as _};
        let file = self.0.as_mut()?;
        let mut text = String::new();
        file.seek(std::io::SeekFrom::Start(0)).ok()?;
        file.read_to_string(&mut text).ok()?;
        let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
        Some(ns as f64 / 1e6)
    }
}

/// One timed pass of `f`: CPU time of this thread when known, else wall time (ms).
fn timed<T>(clock: &mut ThreadClock, f: impl FnOnce() -> T) -> (T, f64) {
    let (cpu, wall) = (clock.ms(), Instant::now());
    let out = f();
    let ms = match (cpu, clock.ms()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed().as_secs_f64() * 1000.0,
    };
    (out, ms)
}

/// Times a pass of the parser and a pass of the loader over every text of `set`, alternately,
/// `runs` times after one untimed pass of each (caches, allocator).
fn measure_set(set: &FileSet, runs: usize) -> Result<SetResult> {
    let mut clock = ThreadClock::new();
    let mut parser = Vec::with_capacity(runs);
    let mut loader = Vec::with_capacity(runs);
    let (mut documents, mut events) = (0, 0);
    for run in 0..=runs {
        let (counted, parsed) =
            timed(&mut clock, || set.texts.iter().map(|text| parser_events(text)).sum::<Option<usize>>());
        events = counted.ok_or_else(|| format!("{}: a text does not parse", set.name))?;
        let (read, loaded) = timed(&mut clock, || {
            let mut documents = 0;
            for text in &set.texts {
                // Dropped inside the timing: freeing the trees is the loader's cost too.
                let stream = std::hint::black_box(parse_stream_with(text, Detail::Analysis));
                if let Some(error) = stream.errors.first() {
                    return Err(error.to_string());
                }
                documents += stream.documents.len();
            }
            Ok(documents)
        });
        documents = read.map_err(|e| format!("{}: {e}", set.name))?;
        if run > 0 {
            parser.push(parsed);
            loader.push(loaded);
        }
    }
    Ok(SetResult {
        name: set.name.clone(),
        files: set.texts.len(),
        bytes: set.bytes(),
        documents,
        events,
        parser_ms: median(parser),
        loader_ms: median(loader),
    })
}

/// Measures every set; the report section. `repos` holds the generated repositories; the ones
/// that are absent (sizes not asked for) are left out of the table.
pub(crate) fn measure_loader(repos: &Path, runs: usize) -> Result<String> {
    let mut sets = Vec::new();
    let mut repositories = Vec::new();
    for (dir, name) in [("10000", "synthetic 10,000 objects"), (crate::cluster_shape::DIR, "cluster shape")] {
        let dir = repos.join(dir);
        if dir.join(crate::generate::MARKER).is_file() {
            sets.push(read_tree(&dir, name)?);
            repositories.push((dir, name));
        }
    }
    sets.extend(styles::sets());
    let mut results = Vec::new();
    for set in &sets {
        println!("  {}: {} files, {:.1} MB", set.name, set.texts.len(), set.bytes() as f64 / 1e6);
        results.push(measure_set(set, runs)?);
    }
    let mut stages = Vec::new();
    for ((dir, name), set) in repositories.iter().zip(&sets) {
        println!("  {name}: the whole load stage");
        stages.push(measure_stage(dir, name, set.bytes(), runs)?);
    }
    Ok(report(&results, &stages, runs))
}

fn report(results: &[SetResult], stages: &[StageResult], runs: usize) -> String {
    let mut out = String::from("\n## The loader against the YAML parser alone\n\n");
    let _ = writeln!(
        out,
        "In process, one thread, on texts already in memory; the CPU time of the measuring thread (Linux; elsewhere the wall time), so that other work on the machine weighs little; medians of {runs} passes over each set after one warm-up pass. Parser: granit-parser's events with the loader's options, dropped. Loader: the same texts to located `Node` trees and documents as analysis builds them (`load::yaml::parse_stream`). Goal of issue 13: the loader within {GOAL}× of the parser.\n"
    );
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let mb = r.bytes as f64 / 1e6;
            let ratio = r.loader_ms / r.parser_ms;
            vec![
                r.name.clone(),
                thousands(r.files as u64),
                format!("{mb:.1} MB"),
                thousands(r.documents as u64),
                thousands(r.events as u64),
                format!("{:.1}", r.parser_ms),
                format!("{:.1}", mb / (r.parser_ms / 1000.0)),
                format!("{:.1}", r.loader_ms),
                format!("{:.1}", mb / (r.loader_ms / 1000.0)),
                if ratio <= GOAL { format!("{ratio:.2}") } else { format!("**{ratio:.2}**") },
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "set",
            "files",
            "input",
            "documents",
            "events",
            "parser ms",
            "parser MB/s",
            "loader ms",
            "loader MB/s",
            "loader/parser",
        ],
        &rows,
    );
    if stages.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "The whole load stage (`model::build::load`: walk, read, parse, model), in process on one thread (the CPU time of the process, in ticks of 10 ms), medians of {runs}; the parser and loader columns repeat the table above.\n"
    );
    let rows: Vec<Vec<String>> = stages
        .iter()
        .map(|stage| {
            let mb = stage.bytes as f64 / 1e6;
            let loader = results.iter().find(|r| r.name == stage.name);
            let rate = |ms: f64| format!("{:.1}", mb / (ms / 1000.0));
            vec![
                stage.name.clone(),
                thousands(stage.objects as u64),
                format!("{:.1}", stage.ms),
                rate(stage.ms),
                loader.map_or_else(|| "-".to_string(), |r| rate(r.loader_ms)),
                loader.map_or_else(|| "-".to_string(), |r| rate(r.parser_ms)),
            ]
        })
        .collect();
    table(
        &mut out,
        &["repository", "objects", "load stage ms", "load stage MB/s", "loader MB/s", "parser MB/s"],
        &rows,
    );
    out
}

/// The generated style sets: one seeded set of objects, written in each style.
mod styles {
    use std::fmt::Write as _;

    use super::{FileSet, APPS, LONG_FILE_DOCUMENTS, SEED};

    /// A value of a generated object.
    enum V {
        Str(String),
        Int(u64),
        Map(Vec<(String, V)>),
        List(Vec<V>),
    }

    fn s(text: impl Into<String>) -> V {
        V::Str(text.into())
    }

    fn map(entries: Vec<(&str, V)>) -> V {
        V::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// splitmix64, as the other generators.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % n.max(1)
        }
    }

    /// A Deployment, its Service and its NetworkPolicy, as real repositories write them (labels,
    /// annotations, probes, environment, resources).
    fn app(i: usize, rng: &mut Rng) -> [V; 3] {
        let ns = format!("team-{:02}", i % 40);
        let name = format!("app-{i:04}");
        let tier = ["web", "api", "db", "cache"][i % 4];
        let labels = || {
            map(vec![("app.kubernetes.io/name", s(&name)), ("app.kubernetes.io/part-of", s(&ns)), ("tier", s(tier))])
        };
        let meta = |labels: V| map(vec![("name", s(&name)), ("namespace", s(&ns)), ("labels", labels)]);
        let mut probe = |path: &str| {
            map(vec![
                ("httpGet", map(vec![("path", s(path)), ("port", s("http"))])),
                ("initialDelaySeconds", V::Int(5 + rng.below(10))),
                ("periodSeconds", V::Int(10)),
            ])
        };
        let (readiness, liveness) = (probe("/ready"), probe("/healthz"));
        let env = (0..5)
            .map(|k| map(vec![("name", s(format!("SETTING_{k}"))), ("value", s(format!("value-{i}-{k}")))]))
            .collect();
        let deployment = map(vec![
            ("apiVersion", s("apps/v1")),
            ("kind", s("Deployment")),
            ("metadata", {
                let mut m = meta(labels());
                if let V::Map(entries) = &mut m {
                    entries.push((
                        "annotations".into(),
                        map(vec![
                            ("prometheus.io/scrape", s("true")),
                            ("description", s(format!("The {tier} service of {ns}, owned by its team"))),
                        ]),
                    ));
                }
                m
            }),
            (
                "spec",
                map(vec![
                    ("replicas", V::Int(1 + rng.below(3))),
                    ("selector", map(vec![("matchLabels", labels())])),
                    (
                        "template",
                        map(vec![
                            ("metadata", map(vec![("labels", labels())])),
                            (
                                "spec",
                                map(vec![(
                                    "containers",
                                    V::List(vec![map(vec![
                                        ("name", s("main")),
                                        (
                                            "image",
                                            s(format!(
                                                "registry.example.com/{ns}/{name}:1.{}.{}",
                                                rng.below(40),
                                                rng.below(10)
                                            )),
                                        ),
                                        (
                                            "ports",
                                            V::List(vec![
                                                map(vec![("name", s("http")), ("containerPort", V::Int(8080))]),
                                                map(vec![("name", s("metrics")), ("containerPort", V::Int(9102))]),
                                            ]),
                                        ),
                                        ("env", V::List(env)),
                                        (
                                            "resources",
                                            map(vec![
                                                ("requests", map(vec![("cpu", s("100m")), ("memory", s("128Mi"))])),
                                                ("limits", map(vec![("memory", s("256Mi"))])),
                                            ]),
                                        ),
                                        ("readinessProbe", readiness),
                                        ("livenessProbe", liveness),
                                    ])]),
                                )]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ]);
        let service = map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("Service")),
            ("metadata", meta(labels())),
            (
                "spec",
                map(vec![
                    ("selector", labels()),
                    (
                        "ports",
                        V::List(vec![map(vec![
                            ("name", s("http")),
                            ("port", V::Int(80)),
                            ("targetPort", s("http")),
                            ("protocol", s("TCP")),
                        ])]),
                    ),
                ]),
            ),
        ]);
        let caller = ["web", "api", "db", "cache"][(i + 3) % 4];
        let policy = map(vec![
            ("apiVersion", s("networking.k8s.io/v1")),
            ("kind", s("NetworkPolicy")),
            ("metadata", meta(labels())),
            (
                "spec",
                map(vec![
                    ("podSelector", map(vec![("matchLabels", labels())])),
                    ("policyTypes", V::List(vec![s("Ingress")])),
                    (
                        "ingress",
                        V::List(vec![map(vec![
                            (
                                "from",
                                V::List(vec![
                                    map(vec![(
                                        "podSelector",
                                        map(vec![("matchLabels", map(vec![("tier", s(caller))]))]),
                                    )]),
                                    map(vec![(
                                        "namespaceSelector",
                                        map(vec![(
                                            "matchLabels",
                                            map(vec![("kubernetes.io/metadata.name", s("monitoring"))]),
                                        )]),
                                    )]),
                                ]),
                            ),
                            (
                                "ports",
                                V::List(vec![
                                    map(vec![("port", s("http")), ("protocol", s("TCP"))]),
                                    map(vec![("port", V::Int(9102)), ("protocol", s("TCP"))]),
                                ]),
                            ),
                        ])]),
                    ),
                ]),
            ),
        ]);
        [deployment, service, policy]
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Quote {
        Plain,
        Single,
        Double,
    }

    fn scalar(out: &mut String, text: &str, quote: Quote) {
        match quote {
            Quote::Plain => out.push_str(text),
            Quote::Single => {
                let _ = write!(out, "'{}'", text.replace('\'', "''"));
            }
            Quote::Double => {
                let _ = write!(out, "\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
            }
        }
    }

    /// Block style, as `kubectl get -o yaml` and most hand-written files: string values written
    /// `quote`, keys plain. The first line of `v` goes where the text is; the next ones at `indent`.
    fn block(out: &mut String, v: &V, indent: usize, quote: Quote) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
        match v {
            V::Str(t) => {
                scalar(out, t, quote);
                out.push('\n');
            }
            V::Int(n) => {
                let _ = writeln!(out, "{n}");
            }
            V::Map(entries) => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        pad(out, indent);
                    }
                    out.push_str(k);
                    out.push(':');
                    if matches!(v, V::Map(c) if !c.is_empty()) || matches!(v, V::List(c) if !c.is_empty()) {
                        out.push('\n');
                        pad(out, indent + 2);
                    } else {
                        out.push(' ');
                    }
                    block(out, v, indent + 2, quote);
                }
                if entries.is_empty() {
                    out.push_str("{}\n");
                }
            }
            V::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        pad(out, indent);
                    }
                    out.push_str("- ");
                    block(out, item, indent + 2, quote);
                }
                if items.is_empty() {
                    out.push_str("[]\n");
                }
            }
        }
    }

    /// Flow style: `{key: value, list: [a, b]}`, a line per top-level entry.
    fn flow(out: &mut String, v: &V, top: bool, json: bool) {
        match v {
            V::Str(t) if json => scalar(out, t, Quote::Double),
            V::Str(t) => scalar(out, t, Quote::Plain),
            V::Int(n) => {
                let _ = write!(out, "{n}");
            }
            V::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(if top { ",\n " } else { ", " });
                    }
                    scalar(out, k, if json { Quote::Double } else { Quote::Plain });
                    out.push_str(": ");
                    flow(out, v, false, json);
                }
                out.push('}');
            }
            V::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    flow(out, item, false, json);
                }
                out.push(']');
            }
        }
    }

    /// JSON as `kubectl get -o json` writes it: one entry a line, indented by four.
    fn json(out: &mut String, v: &V, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
        match v {
            V::Str(t) => scalar(out, t, Quote::Double),
            V::Int(n) => {
                let _ = write!(out, "{n}");
            }
            V::Map(entries) => {
                out.push_str("{\n");
                for (i, (k, v)) in entries.iter().enumerate() {
                    pad(out, indent + 4);
                    let _ = write!(out, "\"{k}\": ");
                    json(out, v, indent + 4);
                    out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
            V::List(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, indent + 4);
                    json(out, item, indent + 4);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
        }
    }

    fn document(out: &mut String, v: &V, style: &str) {
        match style {
            "flow" => {
                flow(out, v, true, false);
                out.push('\n');
            }
            "single-quoted" => block(out, v, 0, Quote::Single),
            "double-quoted" => block(out, v, 0, Quote::Double),
            _ => block(out, v, 0, Quote::Plain),
        }
    }

    /// One set per style: an app's three objects per file (JSON: one object per file; long
    /// files: thousands of documents per file).
    pub(super) fn sets() -> Vec<FileSet> {
        let mut rng = Rng(SEED);
        let apps: Vec<[V; 3]> = (0..APPS).map(|i| app(i, &mut rng)).collect();
        let mut sets = Vec::new();
        for style in ["block", "flow", "single-quoted", "double-quoted"] {
            let texts = apps
                .iter()
                .map(|objects| {
                    let mut out = String::new();
                    for (k, v) in objects.iter().enumerate() {
                        if k > 0 {
                            out.push_str("---\n");
                        }
                        document(&mut out, v, style);
                    }
                    out
                })
                .collect();
            sets.push(FileSet { name: format!("{style} style"), texts });
        }
        let mut long = Vec::new();
        for chunk in apps.iter().flatten().collect::<Vec<_>>().chunks(LONG_FILE_DOCUMENTS) {
            let mut out = String::new();
            for v in chunk {
                out.push_str("---\n");
                block(&mut out, v, 0, Quote::Plain);
            }
            long.push(out);
        }
        sets.push(FileSet {
            name: format!("long files ({} documents each)", thousands_of(LONG_FILE_DOCUMENTS)),
            texts: long,
        });
        let texts = apps
            .iter()
            .flatten()
            .map(|v| {
                let mut out = String::new();
                json(&mut out, v, 0);
                out.push('\n');
                out
            })
            .collect();
        sets.push(FileSet { name: "JSON".to_string(), texts });
        sets
    }

    fn thousands_of(n: usize) -> String {
        crate::report::thousands(n as u64)
    }
}
