//! `--baseline FILE`: the logical keys of the findings of an earlier run, read from kubereach's
//! JSON report or its SARIF, so that only new findings are reported. Keys do not depend on files
//! or lines, so moving code or renaming a file does not bring a finding back.

use std::collections::BTreeSet;

/// The partial fingerprint under which SARIF results carry their logical key.
pub const SARIF_KEY: &str = "kubereach/logicalKey/v1";

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline is not JSON: {0}")]
    NotJson(String),
    #[error("baseline is neither a kubereach JSON report (`findings`) nor SARIF (`runs`)")]
    UnknownShape,
}

pub fn parse(text: &str) -> Result<BTreeSet<String>, BaselineError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| BaselineError::NotJson(e.to_string()))?;
    let mut keys = BTreeSet::new();
    if let Some(findings) = value.get("findings").and_then(|f| f.as_array()) {
        keys.extend(findings.iter().filter_map(|f| f.get("key")?.as_str().map(str::to_string)));
        return Ok(keys);
    }
    if let Some(runs) = value.get("runs").and_then(|r| r.as_array()) {
        for run in runs {
            for result in run.get("results").and_then(|r| r.as_array()).into_iter().flatten() {
                if let Some(key) =
                    result.get("partialFingerprints").and_then(|p| p.get(SARIF_KEY)).and_then(|k| k.as_str())
                {
                    keys.insert(key.to_string());
                }
            }
        }
        return Ok(keys);
    }
    Err(BaselineError::UnknownShape)
}
