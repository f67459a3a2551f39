"""Pure statistics of the surveys (numpy only, no Django): design-based estimates and their
intervals (design, intervals), weighting (weighting), index definitions (indices) and
comparisons (compare). The names below are the package's contract; each module documents its
own."""

from .compare import Change, difference, rank_ranges, wording
from .design import Calibration, Design, Estimate, estimate, estimate_by
from .indices import IndexRule, score
from .intervals import effective_n, logit, wilson
from .weighting import (
    RakeResult,
    WeightDiagnostics,
    WeightingError,
    diagnostics,
    poststratify,
    rake,
    trim,
)

__all__ = [
    "Calibration",
    "Change",
    "Design",
    "Estimate",
    "IndexRule",
    "RakeResult",
    "WeightDiagnostics",
    "WeightingError",
    "diagnostics",
    "difference",
    "effective_n",
    "estimate",
    "estimate_by",
    "logit",
    "poststratify",
    "rake",
    "rank_ranges",
    "score",
    "trim",
    "wilson",
    "wording",
]
