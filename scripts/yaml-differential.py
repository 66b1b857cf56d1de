#!/usr/bin/env python3
"""Differential test of kubereach's YAML reader against libyaml, the reader kubectl's go-yaml ports.

For every YAML file of the given folders (by default `fixtures/`, `examples/` and `../shared/corpus`)
and of an edge-case set generated at run time, kubereach must read the file if and only if libyaml
does, and when both read it they must see the same documents.

What is compared: libyaml's events (PyYAML's C reader, `yaml.parse(..., Loader=yaml.CLoader)`) are
composed here the way kubereach composes granit-parser's events, so that the comparison tests the
parser and the composition together:
- a scalar is its text and whether it was written plain (unquoted, not tagged `str`): the two
  things kubereach's YAML 1.1 typing (`on`, `1.0`, ...) is a function of, so equal pairs type
  equally;
- lists and mappings by content, mapping entries in order, collection tags ignored (kubectl's JSON
  step drops them);
- aliases written out in full; an alias to an anchor not yet complete (a collection that would
  contain itself) is an error, as in go-yaml; a later anchor of the same name replaces the earlier;
- merge keys (a plain `<<`) applied as go-yaml v2 applies them (in order, later keys replacing
  earlier values in place; the maps of a merge list from the last to the first).
A file is "read" when its whole stream is: a file that libyaml rejects anywhere must be rejected by
kubereach (which then keeps the documents before the error, as kubectl applies them).

Usage: yaml-differential.py --dump target/release/examples/yaml-dump [FOLDER...]
Prints the figures (files, documents, disagreements) and exits 1 on any disagreement that is not in
ALLOWED below.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

# Known divergences of granit-parser from libyaml, on synthetic input only: generated base cases
# (all their variants: CRLF, byte-order marks, UTF-16), with why each is left. None of these
# shapes occurs in the corpus (zero disagreements there); each is a case to report upstream.
# A case that starts to agree must be removed from here (the script says so).
ALLOWED = {
    # granit rejects what libyaml reads:
    "comment-after-quote": "`'b'# c`: granit wants a blank before `#` after a closing quote",
    "comment-after-flow": "`[b]# c`: granit wants a blank before `#` after a closing bracket",
    "tab-in-flow": "a tab indenting a line inside a flow collection: granit applies block rules",
    "flow-dash": "`[-]`: granit refuses a plain `-` before `]`",
    # granit reads what libyaml rejects:
    "empty-key": "`: 1`: granit reads an empty implicit key",
    "empty-key-in-seq": "`- : 3`: the same, in a list item",
    "empty-key-typo": "`data:\n:  key: v`: the same, a typo'd line",
    "key-continued": "a plain key continued on the next line before its `:`",
    "flow-key-newline": "`{a\n: b}`: a flow key continued on the next line",
    "flow-colon-plain": "`[:a]`: a plain scalar starting with `:` in a flow list",
    "lone-doc-end": "a lone `...`",
    "content-after-doc-end": "content after `...` with no `---`",
    "block-scalar-doc": "`--- |` then a scalar at column 0 and another document",
    "tab-after-dash": "`-\ta`: a tab as the separator after a list dash",
    "tab-before-nested-key": "a tab in the indentation of a nested key",
    "tab-only-line": "a line holding only a tab inside a plain scalar's continuation",
    "comment-after-tag": "`!!map# c`: a tag run into a comment",
    "directive-future": "`%YAML 1.3`: libyaml refuses versions it does not know",
    "directive-unknown": "an unknown `%FOO` directive",
}

VARIANTS = re.compile(r"(-crlf|-bom8|-utf16le|-utf16be)?\.yaml$")

STR_TAG = re.compile(r"[!:]str$")


class Refused(Exception):
    pass


def merge_into(out, index, key, value):
    k = key_of(key)
    if k is not None and k in index:
        out[index[k]][1] = value
        return
    if k is not None:
        index[k] = len(out)
    out.append([key, value])


def is_scalar(node):
    """A scalar is `[style, text]`; a list holds nodes, never bare strings."""
    return isinstance(node, list) and len(node) == 2 and isinstance(node[0], str)


def key_of(node):
    """Scalar keys compare by text, as kubereach's merge does."""
    return node[1] if is_scalar(node) else None


def apply_merges(entries):
    out, index = [], {}
    for key, value in entries:
        if key != ["=", "<<"]:
            merge_into(out, index, key, value)
            continue
        if isinstance(value, dict):
            sources = [value]
        elif isinstance(value, list) and not is_scalar(value):
            sources = list(reversed(value))
            if not all(isinstance(s, dict) for s in sources):
                raise Refused("merge list holds something other than mappings")
        else:
            raise Refused("merge key needs a mapping")
        for source in sources:
            for k, v in source["M"]:
                merge_into(out, index, k, v)
    return out


def libyaml_documents(data):
    """The documents libyaml reads from `data` (bytes), composed as kubereach composes."""
    docs, stack, anchors, root = [], [], {}, None
    for event in yaml.parse(data, Loader=yaml.CLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            anchors, root = {}, None
        elif isinstance(event, yaml.DocumentEndEvent):
            docs.append(root)
            root = None
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            if isinstance(event, yaml.ScalarEvent):
                tagged_str = event.tag is not None and STR_TAG.search(event.tag) is not None
                plain = event.style in (None, "") and not tagged_str
                node = ["=" if plain else "'", event.value]
                anchor = event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise Refused(f"alias *{event.anchor} to no complete anchor")
                node, anchor = anchors[event.anchor], None
            else:
                kind, anchor, items = stack.pop()
                if kind == "Q":
                    node = items
                else:
                    entries = [[items[i], items[i + 1]] for i in range(0, len(items), 2)]
                    if any(k == ["=", "<<"] for k, _ in entries):
                        entries = apply_merges(entries)
                    node = {"M": entries}
            if anchor is not None:
                anchors[anchor] = node
            if stack:
                stack[-1][2].append(node)
            else:
                root = node
        elif isinstance(event, yaml.SequenceStartEvent):
            anchors.pop(event.anchor, None)
            stack.append(("Q", event.anchor, []))
        elif isinstance(event, yaml.MappingStartEvent):
            anchors.pop(event.anchor, None)
            stack.append(("M", event.anchor, []))
    return docs


def libyaml_read(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return {"ok": True, "docs": libyaml_documents(data)}
    except (yaml.YAMLError, Refused) as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return {"ok": False, "line": line, "message": str(e).splitlines()[0] if str(e) else type(e).__name__}


def yaml_files(folder):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            if name.lower().endswith((".yaml", ".yml")):
                yield os.path.join(dirpath, name)


def edge_cases():
    """Small files at the edges of YAML's syntax, by name: the shapes real manifests were seen to
    take (quoted scalars continued at column 0, flow collections closed left of their key), and
    scalars, collections, comments and markers at odd places, with CRLF, tabs and byte-order
    marks. Each base case is also written with CRLF line breaks, behind a UTF-8 byte-order mark,
    and in UTF-16 LE and BE with one."""
    base = {
        "single-quoted-col0": "a: 'one\ntwo'\n",
        "double-quoted-col0": 'a: "one\ntwo"\n',
        "quoted-loose-continuation": "a:\n  b: 'one\n two'\n",
        "quoted-json-in-value": "spec:\n  template:\n    args: '[\n  {\"a\": 1}\n  ]'\n",
        "flow-close-at-key": "spec:\n  args: [\n    a,\n    b\n  ]\n",
        "flow-close-left-of-key": "spec:\n  args: [\n    a\n]\n",
        "flow-close-in-seq-item": "- args: [\n    a\n]\n",
        "flow-map-multiline": "a: {b: 1,\n  c: 2}\n",
        "flow-map-close-col0": "a:\n  b: {c: 1,\n d: 2\n}\n",
        "flow-nested": "a: [[1, 2], {b: [c, d]}, []]\n",
        "flow-trailing-comma": "a: [1, 2,]\nb: {c: 1,}\n",
        "flow-empty-value": "a: {b: , c: }\n",
        "flow-plain-multiline": "a: [one\n  two, three]\n",
        "block-literal": "a: |\n  line one\n  line two\nb: 1\n",
        "block-literal-keep": "a: |+\n  x\n\nb: 1\n",
        "block-literal-strip": "a: |-\n  x\n\n",
        "block-folded": "a: >\n  one\n  two\n\n  three\n",
        "block-indent-indicator": "a: |2\n   x\n  y\n",
        "block-at-eof-no-newline": "a: |\n  x",
        "block-folded-more-indented": "a: >\n  one\n    two\n  three\n",
        "block-empty": "a: |\nb: 1\n",
        "plain-multiline": "a: one\n  two\n  three\nb: 1\n",
        "plain-with-colon": "a: http://x:80/y\nb: c:d\n",
        "plain-with-hash": "a: b#c\nd: e #f\n",
        "seq-indentless": "a:\n- 1\n- 2\nb: 3\n",
        "seq-of-maps": "- a: 1\n  b: 2\n- c: 3\n",
        "seq-nested-inline": "- - a\n  - b\n- - c\n",
        "map-odd-indent": "a:\n     b: 1\n     c:\n       d: 2\n",
        "map-bad-indent": "a:\n  b: 1\n c: 2\n",
        "map-over-indent": "a: 1\n  b: 2\n",
        "empty-values": "a:\nb: ~\nc: null\nd: ''\n",
        "typing": "a: on\nb: 1.0\nc: 010\nd: 0x1F\ne: 'on'\nf: !!str on\ng: yes\nh: 1e3\n",
        "tab-after-value": "a: b\t\nc:\td\n",
        "tab-indent": "a:\n\tb: 1\n",
        "tab-in-quoted": "a: \"x\ty\"\nb: 'x\ty'\n",
        "comment-after-key": "a: # c\n  b: 1\n",
        "comment-between-items": "- 1\n# c\n  # d\n- 2\n",
        "comment-in-flow": "a: [1, # c\n  2]\n",
        "comment-in-block-scalar": "a: |\n  # not a comment\n  x\n",
        "comment-only": "# nothing\n",
        "comment-at-col0-in-map": "a:\n  b: 1\n# c\n  d: 2\n",
        "doc-markers": "---\na: 1\n...\n---\nb: 2\n",
        "doc-start-inline": "--- a: 1\n",
        "doc-start-scalar": "--- text\n",
        "doc-empty": "---\n---\na: 1\n",
        "doc-end-then-doc": "a: 1\n...\n---\nb: 2\n...\n",
        "doc-marker-in-scalar": "a: |\n  ---\n  x\n",
        "doc-directive": "%YAML 1.1\n---\na: 1\n",
        "doc-tag-directive": "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
        "anchors-aliases": "base: &b {app: web}\nother: *b\nlist: [&x 1, *x]\n",
        "anchor-redefined": "a: &x 1\nb: &x 2\nc: *x\n",
        "anchor-on-seq": "a: &l\n  - 1\n  - 2\nb: *l\n",
        "alias-undefined": "a: *nope\n",
        "alias-recursive": "a: &r [1, *r]\n",
        "alias-across-documents": "a: &x 1\n---\nb: *x\n",
        "merge-key": "base: &b\n  type: ClusterIP\n  port: 80\nsvc:\n  <<: *b\n  type: LoadBalancer\n",
        "merge-key-list": "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n",
        "merge-key-before-explicit": "a: &a {x: 1}\nc:\n  x: 0\n  <<: *a\n",
        "merge-key-inline-map": "c:\n  <<: {x: 1}\n  y: 2\n",
        "merge-key-quoted": "a: &a {x: 1}\nc:\n  '<<': *a\n",
        "merge-key-scalar": "a: &a 1\nc:\n  <<: *a\n",
        "duplicate-keys": "a: 1\na: 2\n",
        "complex-key": "? [a, b]\n: c\n",
        "explicit-key": "? a\n: b\n",
        "tags": "a: !!int 1\nb: !custom x\nc: !!map {d: 1}\n",
        "quoted-escapes": 'a: "\\u00e9\\n\\t\\x41"\nb: \'it\'\'s\'\n',
        "quoted-multiline-folding": 'a: "one\n\n  two\n   three"\n',
        "unicode-content": "a: héllo\nb: 日本\n",
        "long-key": "a" * 1100 + ": 1\n",
        "crlf-mixed": "a: 1\r\nb: 2\nc: 3\r\n",
        "bom-in-later-document": "a: 1\n---\n\ufeffb: 2\n",
        "unclosed-flow": "a: [1, 2\nb: 3\n",
        "unclosed-quote": "a: 'x\nb: 3\n",
        "bad-block-indent": "a: |\n  x\n y\n",
        "colon-no-space": "a:b\nc: d\n",
        "key-with-spaces": "a b: c\n",
        "seq-in-map-same-line": "a: - b\n",
        "reserved-indicator": "a: @b\n",
        "backtick": "a: `b\n",
        "percent-in-plain": "a: 50%\n",
        "tab-in-flow": "a: [\n\tb\n]\n",
        "tab-after-dash": "-\ta\n",
        "tab-before-nested-key": "a:\n \tb: c\n",
        "tab-only-line": "a: 1\n\t\nb: 2\n",
        "comment-after-quote": "a: 'b'# c\n",
        "comment-after-flow": "a: [b]# c\n",
        "comment-after-tag": "a: !!map# c\n",
        "flow-dash": "[-]\n",
        "flow-colon-plain": "[:a]\n",
        "flow-key-newline": "{a\n: b}\n",
        "alias-name-colon": "a: &a 1\nb: *a: 2\n",
        "empty-key": ": 1\n",
        "empty-key-in-seq": "- : 3\n",
        "empty-key-typo": "data:\n:  key: v\n",
        "key-continued": "spec:\n  ports\n:\n  - port: 1\n",
        "lone-doc-end": "...\n",
        "content-after-doc-end": "a: b\n...\nc: d\n",
        "block-scalar-doc": "--- |\nx\n---\ny\n",
        "directive-future": "%YAML 1.3\n---\na: 1\n",
        "directive-unknown": "%FOO bar\n---\na: 1\n",
        "json-style": '{"apiVersion": "v1", "kind": "List", "items": []}\n',
        "kubernetes-object": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n",
    }
    cases = {}
    for name, text in base.items():
        cases[name + ".yaml"] = text.encode("utf-8")
        cases[name + "-crlf.yaml"] = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        cases[name + "-bom8.yaml"] = b"\xef\xbb\xbf" + text.encode("utf-8")
        cases[name + "-utf16le.yaml"] = b"\xff\xfe" + text.encode("utf-16-le")
        cases[name + "-utf16be.yaml"] = b"\xfe\xff" + text.encode("utf-16-be")
    # Not text: both must refuse these.
    cases["nul-byte.yaml"] = b"a: 1\n\x00b: 2\n"
    cases["not-utf8.yaml"] = b"a: 1\nb: \xff\xfe x\n"
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", required=True, help="the yaml-dump example binary")
    parser.add_argument("folders", nargs="*", help="folders of YAML files (default: fixtures examples ../shared/corpus)")
    parser.add_argument("--list", action="store_true", help="list every disagreement, not only the first ones")
    args = parser.parse_args()
    if not yaml.__with_libyaml__:
        sys.exit("error: PyYAML was built without libyaml; install it with libyaml (the C reader is the reference)")
    folders = args.folders or [f for f in ("fixtures", "examples", "../shared/corpus") if os.path.isdir(f)]

    with tempfile.TemporaryDirectory(prefix="kubereach-yaml-edge-") as edge_dir:
        paths = [p for folder in folders for p in yaml_files(folder)]
        edge_paths = []
        for name, data in sorted(edge_cases().items()):
            path = os.path.join(edge_dir, name)
            with open(path, "wb") as f:
                f.write(data)
            edge_paths.append(path)
        every = paths + edge_paths
        dump = subprocess.run([args.dump], input="\n".join(every) + "\n", capture_output=True, text=True, check=True)
        ours = [json.loads(line) for line in dump.stdout.splitlines()]
        assert len(ours) == len(every), "the dump skipped files"

        figures = {"corpus": [0, 0, 0, 0], "edge": [0, 0, 0, 0]}  # files, read, documents, disagreements
        disagreements = []
        allowed_seen = set()
        for path, mine in zip(every, ours):
            group = "edge" if path.startswith(edge_dir) else "corpus"
            theirs = libyaml_read(path)
            shown = os.path.basename(path) if group == "edge" else path
            figures[group][0] += 1
            if theirs["ok"]:
                figures[group][1] += 1
                figures[group][2] += len(theirs["docs"])
            problem = None
            if theirs["ok"] and not mine["ok"]:
                problem = f"libyaml reads it, kubereach does not: {mine['error']}"
            elif mine["ok"] and not theirs["ok"]:
                problem = f"kubereach reads it, libyaml does not: line {theirs['line']}: {theirs['message']}"
            elif theirs["ok"] and mine["docs"] != theirs["docs"]:
                problem = "both read it, the documents differ"
            if problem is None:
                continue
            if group == "edge" and VARIANTS.sub("", shown) in ALLOWED:
                allowed_seen.add(VARIANTS.sub("", shown))
                continue
            figures[group][3] += 1
            disagreements.append((shown, problem))

    for stale in sorted(set(ALLOWED) - allowed_seen):
        disagreements.append((stale, "allowed as a divergence, but agrees now: remove it from ALLOWED"))
    for group, (files, read, docs, bad) in figures.items():
        print(f"{group}: {files} files, {read} read by libyaml, {docs} documents, {bad} disagreements")
    print(f"allowed divergences (synthetic, listed in ALLOWED): {len(allowed_seen)} base cases")
    for shown, problem in disagreements[: None if args.list else 20]:
        print(f"  {shown}: {problem}")
    if disagreements:
        sys.exit(1)


if __name__ == "__main__":
    main()
