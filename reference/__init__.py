"""The oracle: what recurrent layers must compute, in pure numpy (never imports torch)."""
from .bounds import Precision
from .cells import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell, sigmoid
from .layers import MODES, layer_sizes, rnn, rnn_with_bound

__all__ = ["MODES", "Precision", "gru_cell", "layer_sizes", "lstm_cell", "rnn", "rnn_relu_cell",
           "rnn_tanh_cell", "rnn_with_bound", "sigmoid"]
from .models import bilstm_classifier, stacked_regressor

__all__ += ["bilstm_classifier", "stacked_regressor"]
from .backward import rnn_backward
from .backward_bounds import rnn_backward_with_bound

__all__ += ["rnn_backward", "rnn_backward_with_bound"]
