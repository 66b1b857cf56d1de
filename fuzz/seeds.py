#!/usr/bin/env python3
"""Writes the seed inputs of the `load` fuzz target into corpus/load: small shapes of every kind, and
the large inputs of the bounded-reading tests scaled to a few megabytes (150,000 keys, anchors
then aliases, anchors nested over a long list, a long flow list of one-letter scalars, an alias
bomb, deep nesting), so that the mutator works from inputs of that size class."""
import os

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "load")
os.makedirs(out, exist_ok=True)


def seed(name, text):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"
svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n"
seed("service.yaml", svc)
seed("service-utf16.yaml", b"\xff\xfe" + svc.encode("utf-16-le"))
seed("service-utf32.yaml", b"\x00\x00\xfe\xff" + svc.encode("utf-32-be"))
seed("merge.yaml", "a: &a {type: LoadBalancer}\nb:\n  <<: [*a, {x: 1}]\n  y: 2\n")
seed("quoted.yaml", "a: 'one\ntwo'\nb: \"x\\ty\n  z\"\nc: |\n  x\nd: >-\n  y")
seed("flow.yaml", "spec:\n  args: [\n    a,\n    {b: c}\n]\n")
seed("docs.yaml", "---\na: 1\n...\n---\n\ufeffb: 2\n")
seed("keys.yaml", head + "  labels:\n" + "".join(f"    k{i}: v\n" for i in range(150_000)))
seed("anchors.yaml", head + "  labels:\n" + "".join(f"    a{i}: &x{i} v\n" for i in range(50_000))
     + "  annotations:\n" + "".join(f"    b{i}: *x{i}\n" for i in range(50_000)))
nested = "[" + ", ".join(["x"] * 100_000) + "]"
for depth in range(250):
    nested = f"&n{depth} [{nested}]"
seed("nested.yaml", head + f"spec:\n  items: {nested}\n  again: [*n249, *n249, *n249]\n")
seed("flow-list.yaml", head + "items: [" + "a, " * 1_500_000 + "a]\n")
bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
for prev, name in zip("abcdefgh", "bcdefghi"):
    bomb += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
seed("bomb.yaml", bomb)
seed("deep.yaml", "x: " + "[" * 10_000)
seed("not-utf8.yaml", b"a: 1\nb: caf\xe9\n")
