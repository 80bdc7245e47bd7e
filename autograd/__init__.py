"""A reverse-mode autograd engine for learning and checking backpropagation.

``Value`` is a scalar node (micrograd's surface); ``backward()`` applies the
chain rule through the recorded graph. ``gradcheck`` compares gradients with
finite differences and names the operation whose derivative is wrong.
"""

from .check import GradcheckError, gradcheck, local_mismatches, numerical_gradient, numerical_jacobian, tensor_gradcheck
from .draw import GraphvizNotFoundError, draw, frames
from .explain import explain
from .graph import DivisionByZeroError, DomainError, is_grad_enabled, no_grad, topological_order
from .tables import TableError, read_network, verify
from .tensor import TENSOR_OPS, GradientShapeError, Tensor, TensorIndexError, TensorOp, linear, mse_loss
from .value import SCALAR_OPS, ScalarOp, Value, dot
from .value import sum as sum  # noqa: A004 - explicit re-export
from .worksheet import Worksheet, worksheet

__all__ = [
    "Value", "dot", "no_grad", "is_grad_enabled", "topological_order",
    "gradcheck", "numerical_gradient", "local_mismatches", "GradcheckError",
    "DomainError", "DivisionByZeroError", "ScalarOp", "SCALAR_OPS",
]
# ``autograd.sum`` is public but left out of __all__ so ``from autograd import *``
# does not shadow the builtin.
__all__ += ["draw", "frames", "explain", "verify", "TableError", "read_network", "worksheet", "Worksheet",
            "GraphvizNotFoundError"]
__all__ += ["Tensor", "linear", "mse_loss", "TensorOp", "TENSOR_OPS", "GradientShapeError", "TensorIndexError",
            "tensor_gradcheck", "numerical_jacobian"]
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled  # noqa: E402 - issue 6

__all__ += ["detect_anomaly", "is_anomaly_enabled", "AnomalyError"]
from .check import GradcheckPrecisionWarning  # noqa: E402 - issue 6

__all__ += ["GradcheckPrecisionWarning"]
from .animate import Animation, animate  # noqa: E402 - issue 17

__all__ += ["animate", "Animation"]
from .graph import LeafChangedError  # noqa: E402 - issue 15

__all__ += ["LeafChangedError"]
from .higher import grad, hessian, hvp  # noqa: E402 - issue 12

__all__ += ["grad", "hessian", "hvp"]
from .check import gradgradcheck  # noqa: E402 - issue 12

__all__ += ["gradgradcheck"]
from .conv import conv2d, max_pool2d  # noqa: E402 - issue 14

__all__ += ["conv2d", "max_pool2d"]
