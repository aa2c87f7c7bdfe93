"""A primitive's declaration holds everything about it: no rule or display text is found elsewhere by name."""

import ast
import pathlib

import numpy as np

import chainrule as cr
from chainrule.core import batching
from chainrule.core.batching_rules import elementwise as broadcasting, fallback_primitives
from chainrule.core.primitive import NONDIFFERENTIABLE, REGISTRY, Primitive
from chainrule.extend import binary, elementwise, linear, nondifferentiable
from chainrule.transforms import vmap

try:
    import chainrule.nn  # noqa: F401  (registers the network primitives too)
except ImportError:
    pass

PACKAGE = pathlib.Path(cr.__file__).parent

# Every registered primitive that had a batching rule when the rules sat in a table keyed by name
# (core/batching_rules.py, commit 12d41a0; fallback_primitives() was [] then): each must still have one.
HAD_A_RULE = """
_clip_mask _maximum_weight _minimum_weight _pad_fold _positive_mask _prod_others _reduce_tie_weights
_sum_repeats _zeros_like abs add all any arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin
astype astype_discrete binary_cross_entropy bitwise_and bitwise_or bitwise_xor broadcast_to cbrt ceil clip
col2im concatenate cos cosh count_nonzero crop cross_entropy cumsum det diagonal divide einsum equal exp exp2
expand_dims expm1 flip floor floor_divide getitem greater greater_equal hypot im2col index_update inv invert
isfinite isinf isnan less less_equal linear log log10 log1p log2 log_softmax logaddexp logical_and logical_not
logical_or logical_xor logsumexp matmul max max_pool2d max_pool2d_gather max_pool2d_scatter maximum mean min
minimum mod multiply negative nll_loss norm not_equal one_hot pad positive power prod reciprocal relu repeat
reshape rint round scatter_add sigmoid sign signbit sin sinh softmax solve sqrt square squeeze stack std
subtract sum sum_to tan tanh tensordot transpose trunc var where
""".split()


def test_every_primitive_that_had_a_batching_rule_declares_one():
    missing = [name for name in HAD_A_RULE if name not in REGISTRY or REGISTRY[name].batch is None]
    assert missing == []
    assert fallback_primitives() == []
    for prim in (batching.moveaxis_p, batching.take_p, batching.put_p, batching.stack_p):
        assert prim.batch is not None


def _string_keys(node):
    """The string keys of a dict display or ``dict(k=...)`` / ``dict.fromkeys((...))`` call."""
    if isinstance(node, ast.Dict):
        return [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [k.arg for k in node.keywords if k.arg]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fromkeys":
        return [c.value for c in ast.walk(node.args[0]) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return []


def _named_primitives(path):
    """Registered primitive names a module spells out in code: as dict keys or as any other string constant
    (a comparison ``name == "power"``, a tuple of names); docstrings and ``__all__`` aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    docstrings |= {id(c) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets) for c in ast.walk(n.value)}
    found = set()
    for node in ast.walk(tree):
        found.update(k for k in _string_keys(node) if k in REGISTRY)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in REGISTRY:
                found.add(node.value)
    return sorted(found)


def test_no_table_or_test_keyed_by_primitive_names():
    # batching rules and display text are on the declarations; the engine and the formulas read them there
    for module in ("core/batching.py", "core/batching_rules.py", "viz/formulas.py"):
        assert _named_primitives(PACKAGE / module) == [], module


def test_the_checker_sees_a_table_keyed_by_names(tmp_path):
    # the test above can fail: a table such as the old PARTIALS is found
    table = tmp_path / "table.py"
    table.write_text('PARTIALS = {"tanh": ("1 - tanh²({0})",)}\nif name == "power":\n    pass\n', encoding="utf-8")
    assert _named_primitives(table) == ["power", "tanh"]


def test_core_imports_nothing_above_it():
    # core is the bottom layer: no import of chainrule's other packages, not even inside a function
    for path in sorted((PACKAGE / "core").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1 and not (node.module or "").startswith("chainrule"), (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("chainrule") for a in node.names), path.name


def test_the_engine_runs_the_declared_rule():
    calls = []

    def rule(prim, vals, bat, kw, size):
        calls.append(size)
        return broadcasting(prim, vals, bat, kw, size)

    p = Primitive("twice_test", lambda x: 2 * x, vjp=(lambda g, ans, x: 2 * g,), jvp=(lambda t, ans, x: 2 * t,),
                  register=False, batch=rule, partials=("2",), convention="none needed")
    X = np.arange(6.0).reshape(3, 2)
    assert np.allclose(vmap(p)(X), 2 * X) and calls == [3]
    assert (p.partials, p.convention) == (("2",), "none needed")


def test_shorthands_derive_the_broadcasting_rule():
    sq = elementwise("sq_test", np.square, d=lambda ans, x: 2 * x)
    mul = binary("mul_test", np.multiply, lambda ans, x, y: y, lambda ans, x, y: x)
    neg = linear("neg_test", np.negative, lambda g, x: -g)
    sgn = nondifferentiable("sgn_test", np.sign)
    try:
        assert sq.batch is broadcasting and mul.batch is broadcasting
        assert neg.batch is None and sgn.batch is None  # no rule can be guessed: they loop
        X = np.arange(6.0).reshape(3, 2) - 2
        assert np.allclose(vmap(sq)(X), X ** 2) and np.allclose(vmap(neg)(X), -X)
        assert np.allclose(vmap(sgn)(X), np.sign(X))
    finally:
        for prim in (sq, mul, neg, sgn):  # declared for this test only: registered nowhere after it
            REGISTRY.pop(prim.name)
            NONDIFFERENTIABLE.pop(prim.name, None)


def test_conventions_are_declared():
    assert "tie" in REGISTRY["maximum"].convention and "tie" in REGISTRY["max"].convention
    assert REGISTRY["relu"].convention == "relu'(0) = 0"
