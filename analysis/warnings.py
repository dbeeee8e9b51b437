"""The package's named warnings: estimates that ran but should not be trusted as they are.

Every class derives from :class:`AnalysisWarning`, so one filter silences or escalates them all::

    import warnings
    from analysis.warnings import AnalysisWarning
    warnings.simplefilter("error", AnalysisWarning)   # a dubious estimate stops the run

The modules that issue them (:mod:`analysis.survival`, :mod:`analysis.reaction`,
:mod:`analysis.hawkes`, :mod:`analysis.permutation`, :mod:`analysis.severity`,
:mod:`analysis.deterrence`, :mod:`analysis.plots`) re-export them under their old names. Each message says which group,
side or model is concerned and why.
"""

from __future__ import annotations

__all__ = [
    "AnalysisWarning",
    "DegenerateTestWarning",
    "DroppedRowsWarning",
    "ExplosiveFitWarning",
    "FewEventsWarning",
    "FigureWarning",
    "FitFailedWarning",
    "HawkesConvergenceWarning",
    "LagOrderWarning",
    "NonStationaryWarning",
    "PlaceboWarning",
    "ResponseCurveWarning",
    "ShortFollowUpWarning",
    "SparseSegmentWarning",
    "SurvivalWarning",
    "UntestableWarning",
]


class AnalysisWarning(UserWarning):
    """Base class of the package's warnings about dubious estimates."""


class FewEventsWarning(AnalysisWarning):
    """Too few events for an estimate to be trusted.

    Where each module draws the line (its docstrings give the reasons): a Kaplan-Meier group
    with few responses, a Cox model or a reaction function with fewer than ten events per
    estimated coefficient (Peduzzi et al. 1996, *J. Clin. Epidemiol.* 49:1373; for a logit the
    rarer outcome counts), a side of a Hawkes process with fewer events than its parameters
    need (:data:`analysis.hawkes.MIN_EVENTS`).
    """


# ---- survival (Kaplan-Meier, Cox)


class SurvivalWarning(AnalysisWarning):
    """Base class of the warnings of :mod:`analysis.survival` (other than :class:`FewEventsWarning`)."""


class DroppedRowsWarning(SurvivalWarning):
    """Rows were left out of an estimate because a value it needs is missing."""


class FitFailedWarning(SurvivalWarning):
    """A model that did not converge to finite estimates; its table holds missing values."""


class UntestableWarning(SurvivalWarning):
    """A test that the data cannot support (e.g. proportional hazards when all responses tie)."""


class ShortFollowUpWarning(SurvivalWarning):
    """A group is followed for less than the RMST horizon and its curve is unknown beyond."""


# ---- reaction functions and VAR


class NonStationaryWarning(AnalysisWarning):
    """An augmented Dickey-Fuller test does not reject a unit root (p > 0.05): Granger F-tests
    and impulse-response bands of a VAR in levels are then unreliable."""


class LagOrderWarning(AnalysisWarning):
    """The information criterion chose zero lags; the VAR is fitted with one so that Granger
    tests and impulse responses exist."""


# ---- Hawkes process


class HawkesConvergenceWarning(AnalysisWarning):
    """The optimiser stopped before meeting its convergence criterion."""


class ExplosiveFitWarning(AnalysisWarning):
    """The fitted branching ratio is 1 or more: the fitted process is not stationary."""


# ---- the response rule's tests


class DegenerateTestWarning(AnalysisWarning):
    """A test whose null answers (nearly) every event: it cannot tell answers from background."""


# ---- escalation and deterrence


class ResponseCurveWarning(AnalysisWarning):
    """A response curve that cannot be estimated as asked (too few triggers or levels)."""


class SparseSegmentWarning(AnalysisWarning):
    """An interrupted time series with a segment too sparse for its estimates."""


class PlaceboWarning(AnalysisWarning):
    """Too few placebo dates for an empirical p-value."""


# ---- figures


class FigureWarning(AnalysisWarning):
    """A figure that does not explain itself well: a legend over the data, text over text."""
