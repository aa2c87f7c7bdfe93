"""From a trace to a replay: fold constants, drop dead code, reuse buffers, and write it all as one Python function."""

from __future__ import annotations

import ast
import keyword
import threading

import numpy as np

from ..core.tensor import wrap
from .recorder import _SHAPE_ONLY, Ref

__all__ = ["Program"]

# Only these are written into the generated source as literals (their repr is plain digits or a keyword);
# every other object, strings and dictionary keys included, is reached by a name in the namespace, so no text
# that came from the user's program is ever part of the code that is compiled.
_LITERALS = (bool, int, type(None))


class Program:
    """One compiled trace: ``run(*leaves)`` replays it and returns the flat outputs.

    ``source`` is the generated replay (one line per kept instruction), for reading and debugging.
    """

    def __init__(self, rec, leaves_kind, outputs):
        self.lock = threading.Lock()
        self.nin = len(leaves_kind)
        self.stats = {}
        self.source, namespace = _generate(rec, leaves_kind, outputs, self.stats)
        self.guards = self.stats["guards"]  # how many conditions ``check`` tests (0: none, no call)
        # our own generated code, vetted first: it holds no text from the traced program (_vetted)
        exec(compile(_vetted(self.source), "<cr.jit replay>", "exec"), namespace)  # noqa: S102
        self.run = namespace["replay"]
        self.check = namespace["guards"]


# The syntax the generator writes, and nothing else. The replay is checked against it before it is compiled, so
# that not even a bug in the generator can make text from the traced program into code: no string constants
# (every string is a namespace name), no dunder names or attributes, no statements beyond these.
_NODES = frozenset({ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.Delete, ast.If,
                    ast.Expr, ast.Call, ast.keyword, ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.List,
                    ast.Dict, ast.Constant, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Load, ast.Store, ast.Del,
                    ast.Is, ast.IsNot, ast.Eq, ast.And, ast.USub})
_CONSTANTS = frozenset({bool, int, float, type(None)})


def _vetted(source):
    """The parsed ``source``, after checking that it is made only of what ``_generate`` writes.

    >>> _vetted("def replay(a0): return (a0,)").body[0].name
    'replay'
    """
    tree = ast.parse(source, "<cr.jit replay>")
    for node in ast.walk(tree):
        t = type(node)
        if t is ast.Name:
            bad = node.id.startswith("__")
        elif t is ast.Attribute:
            bad = node.attr.startswith("__")
        elif t is ast.Constant:
            bad = type(node.value) not in _CONSTANTS
        elif t is ast.arg or t is ast.FunctionDef:
            bad = (node.arg if t is ast.arg else node.name).startswith("__")
        else:
            bad = t not in _NODES
        if bad:
            raise RuntimeError(
                f"cr.jit: internal error: the generated replay holds a {type(node).__name__} the generator never "
                f"writes, so it is not run; please report this with the jitted function")
    return tree


class _Names:
    """Constants of the generated code: each object gets one name in its namespace."""

    def __init__(self, namespace):
        self.ns = namespace
        self.by_id = {}

    def __call__(self, obj, prefix="k"):
        name = self.by_id.get(id(obj))
        if name is None:
            name = f"{prefix}{len(self.by_id)}"
            self.by_id[id(obj)] = name
            self.ns[name] = obj
        return name


def _generate(rec, leaves_kind, outputs, stats):
    code = rec.code
    root = rec.root
    ns = {"_wrap": wrap, "_asarray": np.asarray}
    name = _Names(ns)
    args_of = {i: f"a{i}" for i in range(len(leaves_kind))}
    arg_index = rec.args

    def objname(obj):
        i = arg_index.get(id(obj))
        return args_of[i] if i is not None else name(obj, "o")

    # -- constants: values computed only from constants made inside the trace, never written in place
    const = set()
    for ins in code:
        if not ins.outs or ins.effect or not all(o in rec.const for o in ins.outs):
            continue
        if any(root[o] in rec.mutated for o in ins.outs):
            continue
        if ins.fn in _SHAPE_ONLY or all(r in const for r in ins.refs):
            const.update(ins.outs)
    # the trace's own arrays went to the caller (the first call's results, the .grad and .data it stored): the
    # program keeps copies of its constants, so that what the caller does to those never reaches a replay
    for s in const:
        rec.const[s] = rec.const[s].copy()
    # -- outputs and stores escape: they get fresh arrays on every call
    escapes = set(rec.escapes)
    out_slots = [o[1] for o in outputs if o[0] == "slot"]
    for s in out_slots:
        escapes.add(root[s])
    # -- dead code: keep effects and whatever they and the outputs need
    needed = set(out_slots)
    live = [False] * len(code)
    for i in range(len(code) - 1, -1, -1):
        ins = code[i]
        if ins.outs and all(o in const for o in ins.outs):
            continue
        if ins.effect or ins.kind == "input" or any(o in needed for o in ins.outs):
            live[i] = True
            needed.update(ins.refs)
    # views keep their root alive: a root's last use is its views' last use too
    last = {}
    for i, ins in enumerate(code):
        if live[i]:
            for r in ins.refs:
                if r not in const:
                    last[r] = i
                    last[root[r]] = max(last.get(root[r], -1), i)
    for s in out_slots:
        last[s] = last[root[s]] = len(code)
    for s, r in enumerate(root):
        if s in last and r != s:
            last[r] = max(last.get(r, -1), last[s])
    # -- buffers: a ufunc's result that stays inside the program reuses a dead value's buffer (out=)
    free = {}
    holder = {}  # root slot -> buffer name
    buffers = 0
    dying = {}
    for s, i in last.items():
        dying.setdefault(i, []).append(s)
    lines = []
    kept = 0
    for i, ins in enumerate(code):
        if not live[i]:
            continue
        kept += 1
        release = [s for s in dying.get(i, ()) if s in holder and root[s] == s]
        gufunc = ins.ufunc is not None and ins.ufunc.signature is not None
        if not gufunc:  # elementwise: an input dying here may be the output's buffer
            for s in release:
                free.setdefault(rec.meta[s][:2], []).append(holder[s])
        out_buffer = None
        if _poolable(ins, rec, escapes, const):
            k = ins.outs[0]
            pool = free.get(rec.meta[k][:2])
            if pool:
                out_buffer = pool.pop()
            else:
                shape, dtype, _ = rec.meta[k]
                out_buffer = name(np.empty(shape, dtype), "b")
                buffers += 1
            holder[k] = out_buffer
        if gufunc:
            for s in release:
                free.setdefault(rec.meta[s][:2], []).append(holder[s])
        lines.append(_line(ins, rec, const, name, objname, out_buffer, needed))
        gone = [f"v{s}" for s in dying.get(i, ()) if s not in const]
        if gone and i < len(code) - 1:
            lines.append("del " + ", ".join(gone))
    rets = []
    for kind, value, tensor in outputs:
        if kind == "slot":
            expr = _value(Ref(value), rec, const, name, fresh=True)
            if rec.meta[value][0] == ():
                expr = f"_asarray({expr})"
            rets.append(f"_wrap({expr})" if tensor else expr)
        else:
            rets.append(f"_wrap({name(value)})" if tensor else name(value))
    params = ", ".join(f"a{i}" for i in range(len(leaves_kind)))
    body = "\n    ".join(lines) if lines else "pass"
    source = f"def replay({params}):\n    {body}\n    return ({', '.join(rets)}{',' if rets else ''})\n"
    conds = [f"({objname(obj)}._grad is None) is {none}" for obj, none in rec.guards]
    # state rebound to another shape or dtype (parameters made float32, resized) is no input of this program: it
    # would compute in the old dtype (its buffers'), or fail inside NumPy; such a call traces again (what the
    # program itself wrote before reading it, a .grad read after opt.step(), is not there yet when it begins)
    for i, ins in enumerate(code):
        if live[i] and ins.kind in ("load", "loadgrad") and ins.outs[0] in rec.state_slots:
            shape, dtype, _ = rec.meta[ins.outs[0]]
            data = f"{objname(ins.obj)}{'._grad' if ins.kind == 'loadgrad' else ''}.data"
            conds.append(f"{data}.shape == {name(shape)} and {data}.dtype == {name(dtype)}")
    source += f"\ndef guards({params}):\n    return {' and '.join(conds) if conds else 'True'}\n"
    stats.update(traced=len(code), kept=kept, folded=len(const), buffers=buffers, guards=len(conds))
    return source, ns


def _outer(ins, rec):
    a, b = ins.args[:2] if len(ins.args) >= 2 else (None, None)
    if not (isinstance(a, Ref) and isinstance(b, Ref)) or ins.kw or len(ins.args) != 2:
        return False
    sa, sb = rec.meta[a.slot][0], rec.meta[b.slot][0]
    return (len(sa) == 2 and len(sb) == 2 and sa[1] == 1 and sb[0] == 1 and a.slot not in rec.dynamic
            and b.slot not in rec.dynamic)


def _diverged():
    raise RuntimeError(
        "cr.jit: a check inside chainrule (a value range, an ignore_index present) came out otherwise than when "
        "the function was traced, so the recorded program does not apply to these inputs; call the function "
        "without jit for them")


def _poolable(ins, rec, escapes, const):
    if ins.kind != "call" or ins.ufunc is None or ins.effect or len(ins.outs) != 1 or ins.multi:
        return False
    if ins.ufunc.nout != 1 or "where" in ins.kw or "out" in ins.kw:
        return False
    k = ins.outs[0]
    return rec.root[k] == k and rec.meta[k][2] and k not in rec.dynamic and k not in escapes and k not in const


def _value(t, rec, const, name, fresh=False):
    """The source text of an argument template."""
    if isinstance(t, Ref):
        if t.slot in const:
            text = name(rec.const[t.slot])
            return f"{text}.copy()" if fresh else text
        return f"v{t.slot}"
    tt = type(t)
    if tt is tuple:
        inner = ", ".join(_value(v, rec, const, name) for v in t)
        return f"({inner},)" if t else "()"
    if tt is list:
        return "[" + ", ".join(_value(v, rec, const, name) for v in t) + "]"
    if tt is dict:
        return "{" + ", ".join(f"{name(k)}: {_value(v, rec, const, name)}" for k, v in t.items()) + "}"
    if tt in _LITERALS or (tt is float and np.isfinite(t)):
        return repr(t)
    if fresh and isinstance(t, np.ndarray):
        return f"{name(t)}.copy()"
    return name(t)


def _keyword(k, text, name):
    """``k=text``, or ``**{kN: text}`` when ``k`` is not a plain identifier (the key then stays out of the source)."""
    if type(k) is str and k.isidentifier() and not keyword.iskeyword(k):
        return f"{k}={text}"
    return f"**{{{name(k)}: {text}}}"


def _call_args(ins, rec, const, name, skip=0, out_buffer=None):
    parts = [_value(a, rec, const, name) for a in ins.args[skip:]]
    parts += [_keyword(k, _value(v, rec, const, name), name) for k, v in ins.kw.items()]
    if out_buffer is not None:
        parts.append(f"out={out_buffer}")
    return ", ".join(parts)


def _line(ins, rec, const, name, objname, out_buffer, needed):
    kind = ins.kind
    if ins.outs:
        if ins.multi:
            lhs = ", ".join(f"v{o}" if o in needed else "_" for o in ins.outs) + ", = "
        else:
            lhs = f"v{ins.outs[0]} = " if ins.outs[0] in needed or kind == "input" else ""
    else:
        lhs = ""
    if kind == "input":
        return f"{lhs}a{ins.fn}" + (".data" if ins.obj else "")
    if kind == "load":
        return f"{lhs}{objname(ins.obj)}.data"
    if kind == "loadgrad":
        return f"{lhs}{objname(ins.obj)}._grad.data"
    if kind == "store":
        ((how, tv),) = ins.args
        value = _value(tv, rec, const, name, fresh=True)
        return f"{objname(ins.obj)}.{ins.fn} = " + (f"_wrap({value})" if how == "tensor" else value)
    if kind == "check":
        ns = name.ns
        ns["_diverged"] = _diverged
        return f"if bool({_value(ins.args[0], rec, const, name)}) is not {ins.fn}: _diverged()"
    if kind == "host":
        parts = [name(a) for a in ins.args] + [_keyword(k, name(v), name) for k, v in ins.kw.items()]
        call = f"{name(ins.fn)}({', '.join(parts)})"
        return f"{lhs}{call}" + (".data" if ins.outs and ins.obj == "tensor" else "")
    if kind == "draw":
        ns = name.ns
        if "_random" not in ns:
            from .. import random as _random

            ns["_random"] = _random
        return f"{lhs}_random._rng.{ins.fn}({_call_args(ins, rec, const, name)})"
    if kind == "call" and ins.fn is np.matmul and _outer(ins, rec):
        # an inner dimension of 1 (a batch-1 weight gradient xᵀ g): BLAS takes a slow path for it, and the
        # product is one multiplication per entry, so broadcasting gives the same numbers much faster
        return f"{lhs}{name(np.multiply, 'f')}({_call_args(ins, rec, const, name, out_buffer=out_buffer)})"
    if kind == "call":
        fn = ins.fn
        fn = getattr(fn, "_implementation", fn) if ins.ufunc is None else fn
        return f"{lhs}{name(fn, 'f')}({_call_args(ins, rec, const, name, out_buffer=out_buffer)})"
    this = _value(ins.args[0], rec, const, name)
    if kind == "method":
        return f"{lhs}{this}.{ins.fn}({_call_args(ins, rec, const, name, skip=1)})"
    if kind == "attr":
        return f"{lhs}{this}.{ins.fn}"
    index = _value(ins.args[1], rec, const, name)
    if kind == "getitem":
        return f"{lhs}{this}[{index}]"
    return f"{this}[{index}] = {_value(ins.args[2], rec, const, name)}"
