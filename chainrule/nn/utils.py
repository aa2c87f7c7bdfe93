"""``cr.nn.utils``: gradient clipping and flattening parameters to one vector (``torch.nn.utils``'s functions)."""

from __future__ import annotations

import math

import numpy as np

from ..core.tensor import Tensor
from ..core.writes import note_write
from ..ops.join import concatenate
from ..ops.shape import reshape

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _params(parameters, op):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors (or an iterable of them), got {type(p).__name__}")
    return params


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all ``.grad``s together so that their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d Tensor), as PyTorch does;
    the scale is ``max_norm / (total + 1e-6)``, applied only when below 1.
    ``foreach`` is accepted for PyTorch compatibility and has no effect.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.nn.utils import clip_grad_norm_
    >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()            # grad (6, 8), norm 10
    >>> clip_grad_norm_([w], max_norm=1.0).item(), np.round(w.grad.data, 4).tolist()
    (10.0, [0.6, 0.8])
    """
    grads = [p.grad.data for p in _params(parameters, "clip_grad_norm_") if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.array(0.0))
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        norms = [np.max(np.abs(g)) if g.size else np.zeros((), g.dtype) for g in grads]
        total = np.max(np.stack(norms).astype(dtype))
    else:
        norms = [np.sum(np.abs(g) ** norm_type) ** (1.0 / norm_type) for g in grads]
        total = np.sum(np.stack(norms).astype(dtype) ** norm_type) ** (1.0 / norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite "
                           f"({float(total)}); set error_if_nonfinite=False to clip anyway")
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for g in grads:
        g *= g.dtype.type(coef)  # in place, in the gradient's own dtype, as torch's mul_ with a clamped coefficient
        note_write(g)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clip every ``.grad`` entry into ``[-clip_value, clip_value]`` in place (``foreach`` has no effect).

    >>> import chainrule as cr
    >>> from chainrule.nn.utils import clip_grad_value_
    >>> w = cr.tensor([3.0, -0.1], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_value_([w], 1.0); w.grad.data.tolist()
    [1.0, -0.2]
    """
    c = float(clip_value)
    for p in _params(parameters, "clip_grad_value_"):
        if p.grad is not None:
            np.clip(p.grad.data, -c, c, out=p.grad.data)
            note_write(p.grad.data)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-d Tensor (differentiable, like ``torch.cat``).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    (8,)
    """
    params = _params(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return concatenate([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-d ``vec`` into each parameter's values, in place.

    >>> import numpy as np, chainrule as cr
    >>> from chainrule import nn
    >>> layer = nn.Linear(2, 1)
    >>> nn.utils.vector_to_parameters(cr.tensor(np.arange(3.0)), layer.parameters())
    >>> layer.weight.data.tolist(), layer.bias.data.tolist()
    ([[0.0, 1.0]], [2.0])
    """
    data = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    params = _params(parameters, "vector_to_parameters")
    if data.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected vec to be a 1-d Tensor, got shape {data.shape}")
    need = sum(p.data.size for p in params)
    if data.size != need:
        raise ValueError(f"vector_to_parameters: vec has {data.size} entries, the parameters have {need} in all")
    start = 0
    for p in params:
        n = p.data.size
        # in place, so optimisers and models that share the parameter's array see the new values
        p.data[...] = data[start:start + n].reshape(p.data.shape)
        note_write(p.data)
        start += n
