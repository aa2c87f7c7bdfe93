"""The text table of an explanation: the Wengert list, the adjoints (or tangents) with their numbers, the gradients.

>>> import chainrule as cr
>>> print(render(cr.explain(lambda x: x * x, 3.0), ascii=True).splitlines()[-1])
  df/dx = x_bar = v1_bar  = 6
"""

from __future__ import annotations

import re

import numpy as np

from .notation import bar, dot, format_value, pad, to_ascii, width

__all__ = ["render"]

_MIDDLE = 60  # longest "1 · 2 + 1 · 0.28" part shown; past that (big tensors) only the result is printed
# A column is padded to its widest cell up to _ALIGN terminal columns; a wider cell sticks out of its row
# alone, so one long sum (the input that feeds 1,000 branches) does not pad every other row to its width.
_ALIGN = 72
_TERMS = 6  # a sum of more terms shows the first and last few: "a + b + c + … + y + z (1000 terms)"


def _sum(parts, sep=" + "):
    """``parts`` joined by ``sep``; past :data:`_TERMS` parts, the first three, …, the last two and the count.

    >>> _sum([f"t{k}" for k in range(1, 101)])
    't1 + t2 + t3 + … + t99 + t100 (100 terms)'
    """
    parts = list(parts)
    if len(parts) <= _TERMS:
        return sep.join(parts)
    return sep.join(parts[:3] + ["…"] + parts[-2:]) + f" ({len(parts)} terms)"


def _grouped(formula):
    """A formula as a factor: bracketed unless it is one name, number or call (``cos(v2)``)."""
    depth = 0
    for c in formula:
        depth += (c == "(") - (c == ")")
        if depth == 0 and c in " +-·/^":
            return f"({formula})"
    return formula


def _factor(text):
    """A number inside a product, parenthesised when negative: 1 · (-4)."""
    return f"({text})" if text.startswith("-") else text


def _numbers(t, mode, fv):
    """The numbers of one term: ``1 · (-4)``, ``[..] ∘ [..]``, or just the product for a tensor rule."""
    up, local = fv(t.upstream), fv(t.local) if t.local is not None else None
    if t.kind == "scalar":
        if t.rule == "1" and mode == "forward":
            return up
        first, second = (up, local) if mode == "reverse" else (local, up)
        return f"{_factor(first)} · {_factor(second)}"
    if t.kind == "elementwise":
        return f"{up} ∘ {local}" if mode == "reverse" else f"{local} ∘ {up}"
    return fv(t.value)


def _tangent_symbol(t):
    if t.kind in ("scalar", "elementwise") and t.rule is not None:
        if t.rule == "1":
            return dot(t.source)
        if t.rule == "-1":
            return "-" + dot(t.source)
        return f"{_grouped(t.rule)} {t.symbol} {dot(t.source)}"
    return f"{t.partial} · {dot(t.source)}"


def _table(lines, rows, plain):
    """Rows of columns, each padded to its widest entry (up to :data:`_ALIGN`: a wider cell is not padded
    and pads no other); ``plain`` (ASCII) spells each cell out *before* measuring it, since v̄3 → v3_bar
    changes its width."""
    if not rows:
        return
    if plain:
        rows = [[to_ascii(c) for c in r] for r in rows]
    columns = range(max(map(len, rows)))
    widths = [max((w for r in rows if len(r) > k and (w := width(r[k])) <= _ALIGN), default=0) for k in columns]
    for r in rows:
        cells, aligned = [], True
        for k, c in enumerate(r):
            aligned = aligned and width(c) <= widths[k]  # after a cell that sticks out the row is not aligned
            cells.append(pad(c, widths[k]) if aligned and k < len(r) - 1 else c)
        lines.append(("  " + "  ".join(cells)).rstrip())


def _is_name(label):
    return re.fullmatch(r"[^\W\d]\w*", label) is not None


def _forward_rows(ex, fv):
    tags = {"data": "(data)", "parameter": "(parameter)"}
    # array constants are listed after the inputs, before the first operation
    blank = [""] if ex.mode == "forward" else []  # a constant has no tangent column
    pending = [[c.name, f"= {fv(c.value, True)}", *blank, "(constant)"] for c in ex.constants if c.text == c.name]
    rows = []
    for r in ex.forward:
        if r.kind == "operation" and pending:
            rows, pending = rows + pending, []
        row = [f"{r.name} = {r.expr}", f"= {fv(r.value, True)}"]
        if ex.mode == "forward":
            row.append(_tangent_cell(r, fv))
        row.append(f"← {ex.function}" if r.name == ex.output else tags.get(r.kind, ""))
        rows.append(row)
    return rows + pending


def _tangent_cell(r, fv):
    if r.kind != "operation":
        middle = f"{dot(r.label)} = " if _is_name(r.label) else ""
        return f"{dot(r.name)} = {middle}{fv(r.tangent, True)}"
    if not r.tangent_terms:
        return f"{dot(r.name)} = 0"
    ts = r.tangent_terms
    sym = _sum(_tangent_symbol(t) for t in ts).replace(" + -", " - ")
    nums = " + ".join(_numbers(t, "forward", fv) for t in ts)
    plain = len(ts) == 1 and (ts[0].kind == "jvp" or ts[0].rule in ("1", "-1") and nums == fv(r.tangent))
    plain = plain or width(nums) > _MIDDLE
    return f"{dot(r.name)} = {sym}" + ("" if plain else f" = {nums}") + f" = {fv(r.tangent, True)}"


def _backward_rows(ex, fv):
    rows = []
    for r in ex.backward:
        if not r.terms:
            rows.append([bar(r.name), f"= {fv(r.adjoint, True)}", ""])
            continue
        nums = " + ".join(_numbers(t, "reverse", fv) for t in r.terms)
        single = len(r.terms) == 1 and r.terms[0].kind == "vjp"
        middle = "" if single or width(nums) > _MIDDLE else f"{nums} = "
        notes = []
        for t in r.terms:
            if t.rule is not None and t.kind == "vjp":
                notes.append(f"{bar(t.source)} · {t.partial} = {t.rule}")
            elif t.rule is not None:
                notes.append(f"{t.partial} = {t.rule}")
        expr = _sum(f"{bar(t.source)} {t.symbol} {t.partial}" for t in r.terms)  # r.expr in full, abbreviated
        rows.append([f"{bar(r.name)} = {expr}", f"= {middle}{fv(r.adjoint, True)}", _sum(notes, "; ")])
    return rows


def _gradient_rows(ex, fv):
    reached = {r.name for r in ex.backward}
    rows = []
    for g in ex.gradients:
        unused = "" if g.name in reached else f"   (not used by {ex.function})"
        # x̄ for a name; a dotted parameter name (net.0.weight) is bracketed instead of overlined
        head = f"∂{ex.function}/∂{g.label} = {bar(g.label)}" if _is_name(g.label) else f"∂{ex.function}/∂({g.label})"
        rows.append([f"{head} = {bar(g.name)}", f"= {fv(g.value, True)}{unused}"])
    return rows


def render(ex, ascii=False):
    """The explanation ``ex`` as the table ``str(ex)`` prints; ``ascii=True`` for terminals without Unicode.

    >>> import chainrule as cr
    >>> print(render(cr.explain(lambda x: 2 * x, 3.0)).splitlines()[4])
      v2 = 2 · v1  = 6  ← f
    """

    def fv(v, shape=False):
        return format_value(v, ex.precision, shape=shape)

    def text(line):
        return to_ascii(line) if ascii else line

    args = [r for r in ex.forward if r.kind != "operation"][: len(ex.arguments)]
    params = [r for r in ex.forward if r.kind == "parameter" and r not in args]
    lines = [text(f"{ex.function}({', '.join(ex.arguments)}), {ex.mode} mode")]
    if params:
        lines.append(text(f"parameters: {', '.join(r.label for r in params)}"))
    lines.append("")
    v = ex.letter
    if ex.mode == "forward":
        direction = ", ".join(f"{dot(r.label)} = {fv(r.tangent)}" for r in args if r.kind != "data")
        lines.append(text(f"Forward mode: each value {v} with its tangent {dot(v)} (a dual number), for {direction}"))
    else:
        lines.append("Forward pass (Wengert list)")
    _table(lines, _forward_rows(ex, fv), ascii)
    if ex.mode == "forward":
        moved = [r for r in args if r.kind != "data" and np.any(r.tangent)]
        meaning = " + ".join(f"∂{ex.function}/∂{r.label} · {dot(r.label)}" for r in moved) or "0"
        if len(moved) == 1 and moved[0].tangent.size == 1 and moved[0].tangent.item() == 1:
            meaning = f"∂{ex.function}/∂{moved[0].label}"
        lines += ["", "Result", text(f"  {ex.function} = {ex.output} = {fv(ex.value, True)}")]
        lines.append(text(f"  {dot(ex.output)} = {fv(ex.tangent, True)} = {meaning}"))
        return "\n".join(lines)
    start = f"{bar(ex.output)} = 1" if np.all(ex.seed == 1) else f"{bar(ex.output)} = the given seed"
    lines += [
        "",
        text(f"Backward pass: adjoints {bar(v)} = ∂{ex.function}/∂{v}, from {start}; gradients add at branches"),
    ]
    _table(lines, _backward_rows(ex, fv), ascii)
    lines += ["", "Gradients"]
    _table(lines, _gradient_rows(ex, fv), ascii)
    return "\n".join(lines)
