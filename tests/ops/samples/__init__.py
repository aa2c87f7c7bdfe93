"""The per-primitive sample table: one module per family, no optional dependency (torch and the like stay out).

Adding a primitive means adding its Case to the family's module here; the op
tests, the vmap tests and the coverage checks all read this table.
"""

from tests.ops.samples import elementwise, indexing, linalg, nn, reduce, shape, special
from tests.ops.samples import decompositions

# the op families, in the order the vmap tests run them; nn's primitives are sampled in ``nn``
OP_FAMILIES = {"elementwise": elementwise, "reduce": reduce, "shape": shape, "indexing": indexing,
               "linalg": linalg, "special": special,
               "decompositions": decompositions}
OP_CASES = [case for module in OP_FAMILIES.values() for case in module.CASES]
CASES = OP_CASES + nn.CASES
