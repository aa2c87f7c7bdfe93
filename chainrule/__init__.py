"""chainrule: automatic differentiation and deep learning on NumPy — backpropagation is the chain rule with caching.

>>> import chainrule as cr
>>> x = cr.tensor(2.0, requires_grad=True)
>>> y = x * x + cr.sin(x)
>>> y.backward()
>>> print(f"{x.grad.item():.6f}")   # 2x + cos x
3.583853
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m chainrule` is still starting: Ctrl-C during the imports below ends quietly
    from .cli import install_interrupt_handler

    install_interrupt_handler()
    del install_interrupt_handler

from . import autograd, data, distributed, fft, io, linalg, nn, numpy, ops, optim, random, testing, viz
from . import func
from .jit import RetraceWarning, jit
from .core.concrete import ConcretizationError, GraphDropWarning
from .core.function import Function
from .core.state import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .core.tensor import Tensor
from .creation import (arange, as_tensor, empty, eye, full, full_like, linspace, ones, ones_like, tensor, zeros,
                       zeros_like)
from .explain import explain
from .io import load, save
from .testing import GradcheckError, gradcheck
from .transforms import checkpoint, grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp, vmap

# The operations, each family's public functions (the __all__ of its module in ops/).
from .ops.elementwise import (add, subtract, negative, positive, multiply, divide, power, exp, expm1, exp2, log,
                              log1p, log2, log10, sqrt, cbrt, square, reciprocal, sin, cos, tan, arcsin, arccos,
                              arctan, sinh, cosh, tanh, arcsinh, arccosh, arctanh, arctan2, hypot, sigmoid, relu, abs,
                              logaddexp, maximum, minimum, clip, equal, not_equal, less, less_equal, greater,
                              greater_equal, logical_and, logical_or, logical_xor, logical_not, isfinite, isnan, isinf,
                              signbit, invert, bitwise_and, bitwise_or, bitwise_xor)
from .ops.rounding import sign, floor, ceil, round, trunc, rint, floor_divide, heaviside, mod, remainder, fmod, divmod
from .ops.reduce import sum, mean, prod, max, min, amax, amin, logsumexp, cumsum
from .ops.statistics import var, std
from .ops.reduce_discrete import argmax, argmin, any, all, count_nonzero
from .ops.shape import (reshape, ravel, flatten, transpose, swapaxes, moveaxis, expand_dims, squeeze, flip, repeat,
                        tile, broadcast_to, atleast_1d, atleast_2d, atleast_3d)
from .ops.join import concatenate, stack, hstack, vstack, dstack, column_stack, split, array_split, pad
from .ops.products import matmul, dot, inner, outer, vdot
from .ops.contractions import tensordot, einsum
from .ops.linalg import diagonal, trace, norm
from .ops.indexing import scatter_add
from .ops.gather import take, take_along_axis
from .ops.special import softmax, log_softmax
from .ops.complex_numbers import conj, conjugate, real, imag, angle
from .ops.sorting import sort, partition, median, quantile, percentile, nanmedian, nanquantile, nanpercentile
from .ops.nan_reduce import (nansum, nanmean, nanvar, nanstd, nanmax, nanmin, nanprod, nancumsum, nancumprod, cumprod,
                             average, ptp)
from .ops.elementwise_extra import fmax, fmin, logaddexp2, sinc, nan_to_num, radians, degrees, deg2rad, rad2deg
from .ops.signal import convolve, correlate, polyval, interp
from .ops import astype, where
from .ops.join import row_stack, hsplit, vsplit, dsplit
from .ops.products import kron, cross
from .ops.gather import put_along_axis
from .ops.rearrange import roll, rot90, fliplr, flipud, append, insert, delete, diff, select
from .ops.triangular import triu, tril, diag, diagflat

__version__ = "0.1.0"

__all__ = [
    # tensors, their creation and the tape
    "Tensor", "tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
    "arange", "linspace", "eye", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "Function",
    # transformations and checks
    "grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacfwd", "jacrev", "hessian", "hvp", "checkpoint", "vmap",
    "gradcheck", "GradcheckError", "explain", "save", "load",
    "ConcretizationError", "GraphDropWarning", "jit", "RetraceWarning",
    # subpackages
    "autograd", "data", "distributed", "fft", "io", "linalg", "nn", "numpy", "ops", "optim", "random", "testing",
    "viz",
    "func",
    # arithmetic, exponentials, trigonometry, activations, rounding, comparisons, logic, bits
    "add", "subtract", "negative", "positive", "multiply", "divide", "power", "exp", "expm1", "exp2", "log", "log1p",
    "log2", "log10", "sqrt", "cbrt", "square", "reciprocal", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot", "sigmoid", "relu", "abs",
    "logaddexp", "maximum", "minimum", "clip", "sign", "floor", "ceil", "round", "trunc", "rint", "floor_divide",
    "mod", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not", "isfinite", "isnan", "isinf", "signbit", "invert", "bitwise_and", "bitwise_or",
    "bitwise_xor", "where", "astype",
    "remainder", "fmod", "divmod", "heaviside",
    # reductions
    "sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "logsumexp", "cumsum", "argmax", "argmin",
    "any", "all", "count_nonzero",
    # shapes
    "reshape", "ravel", "flatten", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "flip", "repeat",
    "tile", "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d",
    # joining and splitting
    "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "split", "array_split", "pad",
    # products and contractions
    "matmul", "dot", "inner", "outer", "vdot",
    "tensordot", "einsum",
    # linear algebra (inv, det and solve are in cr.linalg, as in NumPy)
    "diagonal", "trace", "norm",
    # indexing
    "take", "take_along_axis", "scatter_add",
    # softmax
    "softmax", "log_softmax",
    # array manipulation (issue 11)
    "row_stack", "hsplit", "vsplit", "dsplit", "kron", "cross", "put_along_axis", "roll", "rot90", "fliplr", "flipud",
    "append", "insert", "delete", "diff", "select", "triu", "tril", "diag", "diagflat",
    "conj", "conjugate", "real", "imag", "angle",  # complex parts
    # sorting and order statistics
    "sort", "partition", "median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile",
    # NaN-ignoring reductions, weighted average, range, cumulative product
    "nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod", "nancumsum", "nancumprod", "cumprod",
    "average", "ptp",
    # more elementwise functions
    "fmax", "fmin", "logaddexp2", "sinc", "nan_to_num", "radians", "degrees", "deg2rad", "rad2deg",
    # signals
    "convolve", "correlate", "polyval", "interp",
]
