"""A tiny DOT reader for the tests: enough grammar to check that what to_dot writes parses and names everything."""

import re

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<id>[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?)|(?P<sym>[{}\[\];=,]))'
)


def tokens(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"DOT: unexpected character {text[pos]!r} at {pos}")
        pos = m.end()
        if m.group("str"):
            out.append(
                ("id", re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group("str")[1:-1]))
            )
        elif m.group("arrow"):
            out.append(("->", "->"))
        elif m.group("id"):
            out.append(("id", m.group("id")))
        else:
            out.append((m.group("sym"), m.group("sym")))
    return out


def parse(text):
    """``(graph_attrs, {node: attrs}, [(src, dst, attrs)])``; raises ValueError on anything malformed."""
    toks = tokens(text)
    k = 0

    def take(kind):
        nonlocal k
        if k >= len(toks) or toks[k][0] != kind:
            raise ValueError(f"DOT: expected {kind!r} at token {k}: {toks[k : k + 3]}")
        k += 1
        return toks[k - 1][1]

    def attrs():
        nonlocal k
        found = {}
        if k < len(toks) and toks[k][0] == "[":
            take("[")
            while toks[k][0] != "]":
                key = take("id")
                take("=")
                found[key] = take("id")
                if toks[k][0] in ",;":
                    k += 1
            take("]")
        return found

    if take("id") != "digraph":
        raise ValueError("DOT: not a digraph")
    if toks[k][0] == "id":
        take("id")
    take("{")
    graph, nodes, edges = {}, {}, []
    while toks[k][0] != "}":
        first = take("id")
        if first in ("graph", "node", "edge") and toks[k][0] == "[":
            found = attrs()
            if first == "graph":
                graph.update(found)
        elif toks[k][0] == "=":
            take("=")
            graph[first] = take("id")
        elif toks[k][0] == "->":
            take("->")
            second = take("id")
            edges.append((first, second, attrs()))
        else:
            if first in nodes:
                raise ValueError(f"DOT: node {first!r} declared twice")
            nodes[first] = attrs()
        take(";")
    take("}")
    if k != len(toks):
        raise ValueError("DOT: text after the closing brace")
    return graph, nodes, edges
