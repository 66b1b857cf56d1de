//! SARIF output: schema validity (the OASIS schema and the copy GitHub's upload action bundles,
//! from `../shared/sarif/`: skipped without it outside CI, failed with CI set), what GitHub code scanning reads, the line hashes recomputed
//! independently from the files on disk, determinism, and a snapshot of `examples/shop`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use kubereach::finding::{Finding, Level, Related};
use kubereach::load::{Files, SourceFile};
use kubereach::report::sarif::{write, SarifOptions};
use kubereach::result::Outcome;
use kubereach::span::Location;
use kubereach::span::{Pos, Span};
use serde_json::Value;

mod common;
use common::{kubereach_in_crate, schema_errors, shared_sarif_schema, RunExt as _};

/// `kubereach check examples/shop --format sarif [extra…]`, run from the crate's folder.
fn shop_sarif_text(extra: &[&str]) -> String {
    let run = kubereach_in_crate(["check", "examples/shop", "--format", "sarif"]).args(extra).run();
    // 1: findings at or above the failure level; anything else is a failure of the run.
    assert!(matches!(run.code, Some(0 | 1)), "kubereach failed: {}", run.stderr);
    run.stdout
}

fn shop_sarif(extra: &[&str]) -> Value {
    serde_json::from_str(&shop_sarif_text(extra)).expect("SARIF is JSON")
}

fn run(log: &Value) -> &Value {
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "one run");
    &runs[0]
}

fn results(log: &Value) -> &Vec<Value> {
    run(log)["results"].as_array().expect("results array")
}

#[test]
fn shop_is_valid_against_the_oasis_schema() {
    let Some(schema) = shared_sarif_schema("sarif-schema-2.1.0.json") else { return };
    for log in [shop_sarif(&[]), shop_sarif(&["--category", "kubereach/shop"])] {
        let errors = schema_errors(&schema, &log);
        assert!(errors.is_empty(), "OASIS schema errors:\n{}", errors.join("\n"));
    }
    // The validator does bite: a line 0 and tags that are not an array are refused.
    let mut broken = shop_sarif(&[]);
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = Value::from(0);
    broken["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = Value::from("security");
    assert_eq!(schema_errors(&schema, &broken).len(), 2, "{:?}", schema_errors(&schema, &broken));
}

#[test]
fn shop_is_valid_against_the_upload_action_schema() {
    let Some(mut schema) = shared_sarif_schema("codeql-action-sarif-schema-2.1.0.json") else { return };
    // That copy declares draft 2020-12 but has the region's `anyOf` (start line, char offset or
    // byte offset) misplaced inside `properties`, where it is not a schema: the validator refuses
    // to compile it. The action's own validator ignores it; so do we (the OASIS test checks it).
    if let Some(props) = schema.pointer_mut("/definitions/region/properties").and_then(Value::as_object_mut) {
        if props.get("anyOf").is_some_and(Value::is_array) {
            props.remove("anyOf");
        }
    }
    let errors = schema_errors(&schema, &shop_sarif(&[]));
    assert!(errors.is_empty(), "upload action schema errors:\n{}", errors.join("\n"));
}

#[test]
fn log_header_and_run_properties() {
    let log = shop_sarif(&[]);
    assert_eq!(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    assert_eq!(log["version"], "2.1.0");
    let run = run(&log);
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().expect("%SRCROOT% base");
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
    assert!(run.get("automationDetails").is_none(), "no category, no automationDetails");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kubereach");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().is_some_and(|u| u.starts_with("https://")));
}

#[test]
fn category_becomes_the_automation_id() {
    let id = |category: &str| run(&shop_sarif(&["--category", category]))["automationDetails"]["id"].clone();
    assert_eq!(id("kubereach/shop"), "kubereach/shop/");
    assert_eq!(id("manifests/"), "manifests/");
}

#[test]
fn driver_lists_every_rule_with_its_metadata() {
    let log = shop_sarif(&[]);
    let rules = run(&log)["tool"]["driver"]["rules"].as_array().expect("rules");
    let metas = kubereach::rules::all();
    assert!(rules.len() >= metas.len());
    for (meta, rule) in metas.iter().zip(rules) {
        assert_eq!(rule["id"], meta.id);
        assert_eq!(rule["name"], meta.name.as_str());
        for field in ["/shortDescription/text", "/fullDescription/text", "/help/text", "/help/markdown"] {
            let text = rule.pointer(field).and_then(Value::as_str).unwrap_or_default();
            assert!(!text.trim().is_empty(), "{}: {field} is empty", meta.id);
        }
        assert_eq!(rule["shortDescription"]["text"], meta.summary.as_str());
        assert_eq!(rule["defaultConfiguration"]["level"], meta.level.as_str());
        let props = &rule["properties"];
        assert_eq!(props["precision"], meta.precision.as_str());
        let severity = props["security-severity"].as_str().expect("security-severity is a string");
        let severity: f64 = severity.parse().expect("security-severity is a number");
        assert!((0.0..=10.0).contains(&severity), "{}: {severity}", meta.id);
        let tags: Vec<&str> = props["tags"].as_array().expect("tags").iter().filter_map(Value::as_str).collect();
        assert_eq!(tags.contains(&"security"), meta.is_security(), "{}: tags {tags:?}", meta.id);
        assert!(tags.len() <= 10);
    }
}

#[test]
fn results_point_into_the_repository() {
    let log = shop_sarif(&[]);
    let run = run(&log);
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = results(&log);
    assert!(!results.is_empty(), "examples/shop has findings");
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert!(matches!(r["level"].as_str(), Some("error" | "warning" | "note")));
        let message = r["message"]["text"].as_str().expect("message");
        assert!(message.ends_with('.'), "{message}");
        let physical = &r["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(uri.starts_with("examples/shop/") && !uri.contains(':'), "{uri}");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let region = &physical["region"];
        let get = |k: &str| region[k].as_u64().unwrap_or_else(|| panic!("region.{k} in {region}"));
        let (sl, sc, el, ec) = (get("startLine"), get("startColumn"), get("endLine"), get("endColumn"));
        assert!(sl >= 1 && sc >= 1 && el >= sl && ec >= 1, "{region}");
        assert!(el > sl || ec >= sc, "{region}");
        let fingerprints = &r["partialFingerprints"];
        assert!(fingerprints["primaryLocationLineHash"].is_string(), "{fingerprints}");
        assert!(fingerprints[kubereach::result::baseline::SARIF_KEY]
            .as_str()
            // A lowered finding's rule is `<rule-id>/<level>`; its key keeps the rule's own id.
            .is_some_and(|k| k.starts_with(&format!("{}|", r["ruleId"].as_str().unwrap().split('/').next().unwrap()))));
    }
    assert!(
        results.iter().any(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] != 1),
        "not every finding on line 1"
    );
}

#[test]
fn output_is_deterministic_and_pretty() {
    let a = shop_sarif_text(&[]);
    let b = shop_sarif_text(&[]);
    assert_eq!(a, b);
    assert!(a.ends_with("}\n") && a.contains("\n  \"runs\""), "pretty-printed with a final newline");
}

/// GitHub's line hash, written again in its plainest form (no rolling): the 100 normalised UTF-16
/// units from each line's start, then 0xFFFF and zeros, as a polynomial in 37 modulo 2^64.
fn independent_line_hashes(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut units: Vec<u16> = Vec::new();
    let mut starts = vec![0usize];
    let mut after_cr = false;
    for u in text.encode_utf16() {
        if u == u16::from(b' ') || u == u16::from(b'\t') {
            after_cr = false;
            continue;
        }
        if u == u16::from(b'\n') && after_cr {
            after_cr = false;
            continue;
        }
        after_cr = u == u16::from(b'\r');
        units.push(if after_cr { u16::from(b'\n') } else { u });
        if units.last() == Some(&u16::from(b'\n')) {
            starts.push(units.len());
        }
    }
    units.push(0xFFFF);
    let mut seen: HashMap<String, usize> = HashMap::new();
    starts
        .iter()
        .map(|&s| {
            let mut h: u64 = 0;
            for i in 0..100 {
                h = h.wrapping_mul(37).wrapping_add(u64::from(units.get(s + i).copied().unwrap_or(0)));
            }
            let hex = format!("{h:x}");
            let n = seen.entry(hex.clone()).or_default();
            *n += 1;
            format!("{hex}:{n}")
        })
        .collect()
}

fn percent_decode(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            if let Ok(b) = u8::from_str_radix(&uri[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8 path")
}

/// The file a result's primary location names, resolved as the upload action does: relative to
/// the checkout (here `%SRCROOT%`), or a `file://` path.
fn resolve(log: &Value, physical: &Value) -> PathBuf {
    let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
    if let Some(path) = uri.strip_prefix("file://") {
        return PathBuf::from(percent_decode(path));
    }
    let base = run(log)["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().expect("base");
    PathBuf::from(percent_decode(base.strip_prefix("file://").expect("file URI"))).join(percent_decode(uri))
}

fn assert_line_hashes_match(log: &Value) {
    let results = results(log);
    assert!(!results.is_empty());
    for r in results {
        let physical = &r["locations"][0]["physicalLocation"];
        let bytes = std::fs::read(resolve(log, physical)).expect("read the artifact");
        let line = physical["region"]["startLine"].as_u64().expect("startLine") as usize;
        let expected = independent_line_hashes(&bytes);
        assert_eq!(
            r["partialFingerprints"]["primaryLocationLineHash"].as_str(),
            expected.get(line - 1).map(String::as_str),
            "line {line} of {}",
            physical["artifactLocation"]["uri"]
        );
    }
}

#[test]
fn line_hashes_match_an_independent_computation() {
    assert_line_hashes_match(&shop_sarif(&[]));
}

#[test]
fn independent_hash_agrees_with_upstream_vectors() {
    // Sanity of the test's own implementation (codeql-action's `fingerprints.test.ts`).
    assert_eq!(independent_line_hashes(b""), ["c129715d7a2bc9a3:1"]);
    let crlf = b" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n";
    assert_eq!(independent_line_hashes(crlf)[0], "e9496ae3ebfced30:1");
    let lorem = "Lorem ipsum dolor sit amet.\n".repeat(10);
    assert_eq!(independent_line_hashes(lorem.as_bytes())[5], "a7f2ff13bc495cf2:6");
}

fn pos(line: u32, col: u32) -> Pos {
    Pos { line, col }
}

fn at(file: u32, start: Pos, end: Pos) -> Location {
    Location { file, span: Span { start, end } }
}

/// A repository in a temporary folder: files with a space in a name, CRLF, a BOM, non-ASCII, and
/// one file outside the root; findings with related locations and a path.
#[test]
fn synthetic_findings_cover_every_location_kind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("my app")).unwrap();
    let outside = dir.path().join("elsewhere.yaml");
    let texts: [(PathBuf, &[u8]); 4] = [
        (root.join("my app/web.yaml"), "kind: Pod\r\nmetadata:\r\n  name: café😀web\r\n".as_bytes()),
        (root.join("bom.yaml"), b"\xEF\xBB\xBFkind: Pod\n"),
        (outside.clone(), b"kind: Service\nmetadata:\n  name: s\n"),
        (root.join("binary.yaml"), b"\x00\x01\xFF"),
    ];
    let mut files = Files::default();
    for (path, bytes) in &texts {
        std::fs::write(path, bytes).unwrap();
        // As the loader keeps it: no BOM, and no text for a file that is not UTF-8.
        let text = String::from_utf8(bytes.to_vec()).unwrap_or_default();
        let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
        files.entries.push(SourceFile::with_text(path.clone(), path.display().to_string(), text));
    }
    // `web` starts after `café😀`: scalar column 15, UTF-16 column 16.
    let mut exposed = Finding::new("workload-not-isolated", Level::Error, at(0, pos(3, 15), pos(3, 18)), "exposed")
        .with_key("Pod/default/café😀web", "metadata.name", "")
        .with_related(at(2, pos(3, 9), pos(4, 1)), "the Service that admits it");
    exposed.path = vec![
        Related { location: at(2, pos(1, 1), pos(1, 14)), message: "entry".into() },
        Related { location: at(0, pos(3, 15), pos(3, 15)), message: "the workload".into() },
    ];
    let bom = Finding::new("policy-selects-nothing", Level::Note, at(1, pos(1, 1), pos(1, 1)), "at the start")
        .with_key("Pod/default/p", "spec", "");
    let binary = Finding::new("invalid-manifest", Level::Error, at(3, pos(1, 1), pos(1, 1)), "binary file");
    let outcome = Outcome { findings: vec![exposed, bom, binary], ..Outcome::default() };
    let options = SarifOptions { category: Some("k8s".into()), root: root.clone(), ..SarifOptions::default() };
    let mut out = Vec::new();
    write(&outcome, &files, &options, &mut out).unwrap();
    let log: Value = serde_json::from_slice(&out).unwrap();
    if let Some(schema) = shared_sarif_schema("sarif-schema-2.1.0.json") {
        let errors = schema_errors(&schema, &log);
        assert!(errors.is_empty(), "OASIS schema errors:\n{}", errors.join("\n"));
    }
    assert_eq!(run(&log)["automationDetails"]["id"], "k8s/");
    let results = results(&log);

    let first = &results[0];
    assert_eq!(first["ruleId"], "workload-not-isolated");
    assert_eq!(first["message"]["text"], "exposed.");
    let physical = &first["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "my%20app/web.yaml");
    assert_eq!(physical["region"]["startColumn"], 16);
    assert_eq!(physical["region"]["endColumn"], 19);
    let related = &first["relatedLocations"][0];
    assert_eq!(related["id"], 1);
    assert_eq!(related["message"]["text"], "the Service that admits it.");
    let elsewhere = &related["physicalLocation"];
    assert!(elsewhere["artifactLocation"]["uri"].as_str().unwrap().starts_with("file:///"));
    assert!(elsewhere["artifactLocation"].get("uriBaseId").is_none());
    // An exclusive end at the start of line 4 ends line 3.
    assert_eq!(elsewhere["region"]["endLine"], 3);
    assert_eq!(elsewhere["region"]["endColumn"], 10);
    let steps = first["codeFlows"][0]["threadFlows"][0]["locations"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["location"]["message"]["text"], "entry.");
    assert_eq!(steps[1]["location"]["physicalLocation"]["region"]["startColumn"], 16);
    assert_eq!(steps[1]["location"]["physicalLocation"]["region"]["endColumn"], 16);
    assert_eq!(
        first["partialFingerprints"][kubereach::result::baseline::SARIF_KEY],
        "workload-not-isolated|Pod/default/café😀web|metadata.name|"
    );

    let second = &results[1];
    assert_eq!(second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "bom.yaml");
    // The upload action hashes the BOM too (derived vector in notes/fingerprint.md).
    assert_eq!(second["partialFingerprints"]["primaryLocationLineHash"], "fc4b6fb989bfac87:1");

    // No text, no line hash: the upload action computes it from the bytes.
    let third = &results[2];
    assert_eq!(third["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert!(third["partialFingerprints"].get("primaryLocationLineHash").is_none());
    assert!(third["partialFingerprints"][kubereach::result::baseline::SARIF_KEY].is_string());

    let hashed = Value::from(results[..2].to_vec());
    let mut with_hashes = log.clone();
    with_hashes["runs"][0]["results"] = hashed;
    assert_line_hashes_match(&with_hashes);
}

/// Replaces what depends on the machine (the checkout's absolute path) and the release (the
/// version) with placeholders.
fn normalised(mut log: Value) -> Value {
    let run = &mut log["runs"][0];
    run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = Value::from("file:///ROOT/");
    let driver = &mut run["tool"]["driver"];
    driver["version"] = Value::from("VERSION");
    driver["semanticVersion"] = Value::from("VERSION");
    log
}

#[test]
fn shop_snapshot() {
    insta::assert_json_snapshot!("shop_sarif", normalised(shop_sarif(&["--category", "kubereach"])));
}

/// A file name that is not UTF-8 is percent-encoded byte for byte, so that the URI maps back to
/// the file (a lossy name would carry U+FFFD, `%EF%BF%BD`, and name no file).
#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_percent_encoded_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"svc-\xe9.yaml");
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\n\
                   spec: {type: NodePort, selector: {app: x}, ports: [{port: 80}]}\n";
    std::fs::write(dir.path().join(name), service).unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    let run = kubereach_in_crate(["check", path.as_str(), "--format", "sarif"]).run();
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let uris: Vec<&str> = results(&log)
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(!uris.is_empty(), "{}", run.stdout);
    assert!(uris.iter().all(|uri| uri.ends_with("svc-%E9.yaml")), "{uris:?}");
}
