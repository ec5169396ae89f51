"""The oracle: what recurrent layers must compute, in pure numpy (never imports torch).

``cells`` holds the equations, written once, and a ``Variant`` record for each (torch's and
ONNX's; a variant of your own is a ``Variant`` written with the primitives exported here);
``operations`` the recurrence operations over a matrix state per head (an ``Operation`` record each, the
built-in ones in ``recurrences``: linear attention to Mamba), on the primitives of ``matrix``; ``arithmetic`` the numbers they run on (values; values with error bounds; recorded for
backpropagation); ``layers`` the time loop and the public entry points; ``names`` torch's
parameter names."""
from .activations import Monotone, activation, logsigmoid, softplus
from .arithmetic import (Affine, Condition, Precision, absolute, divide, equal, exp, greater, lerp, less, linear, log,
                         maximum, minimum, monotone, pairwise, power, relu, sigmoid, split, sqrt, sum_over, tanh, where)
from .cells import (TORCH_MODES, VARIANTS, StepWeights, Variant, gru_cell, lstm_cell, onnx_gru, onnx_lstm, onnx_rnn,
                    rnn_relu_cell, rnn_tanh_cell, torch_parameters, variant)
from .layers import MODES, layer_sizes, rnn, rnn_backward, rnn_backward_with_bound, rnn_with_bound
from .matrix import apply, column, contract, dot, l2_normalize, outer, per_head, repeat_heads, row
from .operations import (Input, Operation, operation, operation_backward, operation_backward_with_bound,
                         operation_with_bound)
from .recurrences import OPERATIONS, operation_record
from .models import bilstm_classifier, bilstm_classifier_backward, stacked_regressor, stacked_regressor_backward
from .step import cell, cell_backward, cell_backward_with_bound, cell_with_bound

__all__ = ["MODES", "TORCH_MODES", "VARIANTS", "StepWeights", "Variant", "onnx_gru", "onnx_lstm", "onnx_rnn",
           "torch_parameters", "variant", "activation", "relu", "tanh", "linear", "lerp", "split", "monotone",
           "Monotone", "exp", "log", "sqrt", "absolute", "divide", "maximum", "minimum", "power", "softplus",
           "logsigmoid", "sum_over", "pairwise", "Condition", "equal", "less", "greater", "where",
           "Affine", "Precision", "bilstm_classifier", "cell", "cell_backward", "cell_backward_with_bound",
           "cell_with_bound", "gru_cell", "layer_sizes", "lstm_cell", "rnn",
           "rnn_backward", "rnn_backward_with_bound", "rnn_relu_cell", "rnn_tanh_cell", "rnn_with_bound",
           "sigmoid", "stacked_regressor", "bilstm_classifier_backward", "stacked_regressor_backward",
           "apply", "column", "contract", "dot", "l2_normalize", "outer", "per_head", "repeat_heads", "row",
           "Input", "Operation", "OPERATIONS", "operation_record", "operation", "operation_backward", "operation_backward_with_bound",
           "operation_with_bound"]
