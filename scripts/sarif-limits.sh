#!/usr/bin/env bash
# sarif-limits.sh [UNITS] [ERRORS]
# Checks SARIF against code scanning's real limits, by hand: generates a repository under
# target/bench-repos/sarif-limits with UNITS NodePort Services without pods (a warning and a note
# each) and ERRORS unisolated workloads behind public load balancers (an error and a warning
# each), runs the release build's `check --format sarif` on it, and prints what was kept, the
# notifications, the sizes, and the verdict of a SARIF checker when one is given in
# $SARIF_CHECK (a command taking the file, e.g. the shared check-sarif.sh).
# Defaults: 13,000 and 200, which make 26,401 results: more than the 25,000 a run may hold.
set -euo pipefail
units=${1:-13000}
errors=${2:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/target/release/kubereach
[[ -x $bin ]] || { echo "build first: cargo build --release" >&2; exit 2; }
repo=$here/target/bench-repos/sarif-limits
rm -rf "$repo"
mkdir -p "$repo/deploy"
python3 - "$repo/deploy/all.yaml" "$units" "$errors" <<'PY'
import sys
path, units, errors = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
docs = []
for i in range(units):
    docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: np{i}, namespace: ns}}\nspec:\n"
                f"  type: NodePort\n  selector: {{app: none{i}}}\n  ports: [{{port: 80}}]\n")
for i in range(errors):
    docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web{i}, namespace: ns}}\nspec:\n"
                f"  selector: {{matchLabels: {{app: web{i}}}}}\n  template:\n    metadata: {{labels: {{app: web{i}}}}}\n"
                f"    spec:\n      containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]\n---\n"
                f"apiVersion: v1\nkind: Service\nmetadata: {{name: lb{i}, namespace: ns}}\nspec:\n"
                f"  type: LoadBalancer\n  selector: {{app: web{i}}}\n  ports: [{{port: 80}}]\n")
open(path, "w").write("---\n".join(docs))
PY
out=$repo/kubereach.sarif
set +e
( cd "$repo" && "$bin" check deploy --format json -o all.json; "$bin" check deploy -o "$out" )
set -e
python3 - "$out" "$repo/all.json" <<'PY'
import json, sys, collections
log = json.load(open(sys.argv[1])); every = json.load(open(sys.argv[2]))
run = log["runs"][0]
kept = collections.Counter(r["level"] for r in run["results"])
found = every["summary"]
print(f"found: {found['errors']} errors, {found['warnings']} warnings, {found['notes']} notes")
print(f"kept:  {kept['error']} errors, {kept['warning']} warnings, {kept['note']} notes ({len(run['results'])} results)")
for n in run["invocations"][0].get("toolExecutionNotifications", []):
    print("notification:", n["message"]["text"])
PY
echo "size: $(stat -c %s "$out") bytes, $(gzip -c "$out" | wc -c) gzipped"
if [[ -n ${SARIF_CHECK:-} ]]; then $SARIF_CHECK "$out"; fi
