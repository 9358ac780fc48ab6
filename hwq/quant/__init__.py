"""The quantization front end: specs, parameters, calibration, DoReFa, BN folding, DFQ."""

from . import dorefa
from .bn import fold_batchnorm
from .dfq import (
    analytic_bias_correction,
    bias_correction,
    equalize_cross_layer,
    relu_gaussian_mean,
    weight_qparams,
)
from .observers import (
    OBSERVERS,
    EMAObserver,
    EntropyObserver,
    MinMaxObserver,
    MSEObserver,
    Observer,
    PercentileObserver,
    make_observer,
)
from .qparams import QParams, dynamic_qparams, qparams_from_range, reduce_range
from .spec import QuantSpec, round_half_away, round_half_even

__all__ = [
    "QuantSpec", "QParams", "qparams_from_range", "dynamic_qparams", "reduce_range",
    "round_half_even", "round_half_away",
    "Observer", "MinMaxObserver", "EMAObserver", "PercentileObserver", "EntropyObserver",
    "MSEObserver", "OBSERVERS", "make_observer",
    "dorefa", "fold_batchnorm",
    "weight_qparams", "equalize_cross_layer", "relu_gaussian_mean", "bias_correction",
    "analytic_bias_correction",
]
