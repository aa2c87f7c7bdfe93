"""The per-primitive sample table: one module per family, no optional dependency (torch and the like stay out).

Adding a primitive means adding its Case to the family's module here; the op
tests, the vmap tests and the coverage checks all read this table.
"""

from tests.ops.samples import elementwise, fourier, indexing, linalg, nn, reduce, scipy_special, shape, special
from tests.ops.samples import rearrange
from tests.ops.samples import complex_numbers
from tests.ops.samples import rounding
from tests.ops.samples import decompositions
from tests.ops.samples import elementwise_extra, nan_reduce, signal, sorting

# the op families, in the order the vmap tests run them; nn's primitives are sampled in ``nn``
OP_FAMILIES = {"elementwise": elementwise, "reduce": reduce, "shape": shape, "indexing": indexing,
               "linalg": linalg, "special": special, "fourier": fourier, "scipy_special": scipy_special}
OP_FAMILIES["rearrange"] = rearrange
OP_FAMILIES["complex"] = complex_numbers
OP_FAMILIES.update(sorting=sorting, nan_reduce=nan_reduce, elementwise_extra=elementwise_extra, signal=signal)
OP_FAMILIES["rounding"] = rounding
OP_FAMILIES["decompositions"] = decompositions
OP_CASES = [case for module in OP_FAMILIES.values() for case in module.CASES]
CASES = OP_CASES + nn.CASES
