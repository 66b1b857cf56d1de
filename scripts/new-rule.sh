#!/bin/sh
# Scaffolds a new rule: scripts/new-rule.sh <rule-id>   (run from anywhere in the checkout)
#
# Creates, for `rule-id` (lowercase words joined by `-`, naming the problem, not the fix):
#   src/rules/<rule_id>.rs          a check that reports nothing yet
#   one registry line               in src/rules/mod.rs, in id order
#   rules/<rule-id>.md              front matter and the fixed sections, to be written
#   fixtures/<rule-id>/fire/        a manifest that must fire the rule
#   fixtures/<rule-id>/quiet/       a near miss that must not
#   fixtures/<rule-id>/expected.txt the findings expected on fire/
# Nothing else needs to change to add a rule. The rule's tests (tests/rules.rs) fail until the
# check, the documentation and the fixtures agree, which is the point: write them, then the code.
set -eu

id=${1:-}
if ! printf '%s\n' "$id" | grep -Eq '^[a-z][a-z0-9]*(-[a-z0-9]+)+$'; then
    echo "usage: $0 <rule-id>   (lowercase words joined by '-', such as dangling-service)" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
snake=$(printf '%s' "$id" | tr '-' '_')
# dangling-service -> DanglingService, as build.rs spells the rule's type.
pascal=$(printf '%s' "$id" | awk -F- '{ for (i = 1; i <= NF; i++) printf "%s%s", toupper(substr($i, 1, 1)), substr($i, 2) }')

for path in "src/rules/$snake.rs" "rules/$id.md" "fixtures/$id"; do
    if [ -e "$path" ]; then
        echo "$0: $path already exists" >&2
        exit 1
    fi
done
registry=src/rules/mod.rs
if ! grep -q '^registry! {$' "$registry"; then
    echo "$0: no \`registry! {\` block in $registry" >&2
    exit 1
fi

# The registry line, before the first line whose id sorts after the new one. A line is
# `    module => Type,` or `    Type,` (a rule another stage reports); ids compare in kebab case.
awk -v id="$id" -v line="    $snake => $pascal," '
    function kebab(s,    out, c, i) {
        out = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c ~ /[A-Z]/) { out = out (i > 1 ? "-" : "") tolower(c) } else { out = out c }
        }
        return out
    }
    /^registry! \{$/ { inside = 1; print; next }
    inside && /^\}$/ { if (!done) print line; done = 1; inside = 0; print; next }
    inside && !done {
        entry = $0; sub(/^ +/, "", entry); sub(/,$/, "", entry)
        if (entry ~ / => /) { sub(/ => .*/, "", entry); gsub(/_/, "-", entry) } else { entry = kebab(entry) }
        if (entry > id) { print line; done = 1 }
    }
    { print }
' "$registry" > "$registry.new"
mv "$registry.new" "$registry"

cat > "src/rules/$snake.rs" <<RUST
//! \`$id\`: (one line: what the rule finds, and at which level when it has several).

use super::Context;
use crate::finding::Finding;

pub fn check(_cx: &Context, _out: &mut Vec<Finding>) {
    // For each object that has the problem: \`out.push($pascal::finding(location, message)\`
    // \`.with_key(object, field, peer))\` (with \`use super::ids::$pascal;\` and \`use super::Rule;\`),
    // the level coming from rules/$id.md; state another level only where it differs.
}
RUST

cat > "rules/$id.md" <<MD
---
id: $id
name: $pascal
level: warning
security-severity: 0.0
precision: medium
tags: [manifest]
summary: (one line in lowercase saying what the rule finds)
---
## What it finds
(What the rule reports, where the finding points, and when its level differs from the default.)

## Why it matters
(What goes wrong in the cluster if nothing is done.)

## How to fix
- (The fix; how to suppress a finding that is intended, with \`kubereach.io/ignore: "$id"\`.)

## Example
A manifest that fires:
\`\`\`yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - port: 80
\`\`\`
Fixed:
\`\`\`yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - port: 80
\`\`\`
MD

mkdir -p "fixtures/$id/fire" "fixtures/$id/quiet"
cat > "fixtures/$id/fire/objects.yaml" <<YAML
# Objects that must fire $id: one per way the rule fires.
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - port: 80
YAML
cat > "fixtures/$id/quiet/objects.yaml" <<YAML
# Near misses that must not fire $id.
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - port: 80
YAML
# Every finding expected on fire/, as \`fire/<file>:<line>:<column> <level>\`, sorted.
printf 'fire/objects.yaml:5:9 warning\n' > "fixtures/$id/expected.txt"

cat <<DONE
Scaffolded \`$id\`:
  src/rules/$snake.rs, its line in $registry,
  rules/$id.md, fixtures/$id/{fire,quiet,expected.txt}.
Next: write the documentation and the fixtures (the Example must fire and its fixed version
must not), then the check, until \`cargo test --test rules\` passes; review the new snapshot
with \`cargo insta review\`.
DONE
