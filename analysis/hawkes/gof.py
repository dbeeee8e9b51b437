"""Goodness of fit of a Hawkes fit: time rescaling (continuous model) and randomised
probability integral transforms of the daily counts (discrete model); see
:mod:`analysis.hawkes`.

References
----------
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. Journal of the American Statistical Association 83, 9-27.
Brown, E. N., Barbieri, R., Ventura, V., Kass, R. E. & Frank, L. M. (2002). The
time-rescaling theorem and its application to neural spike train data analysis. Neural
Computation 14, 325-346.
Smith, J. Q. (1985). Diagnostic checks of non-standard time series models. Journal of
Forecasting 4, 283-291.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.hawkes.likelihood import EventData, kernel_sums, unpack

__all__ = ["gof_table", "rescaled"]


def rescaled(data: EventData, theta: np.ndarray) -> list[np.ndarray]:
    """Compensator increments between consecutive events of each side (the first from the
    window start): Exp(1) and independent under the model (time rescaling)."""
    mu, alpha, beta = unpack(theta)
    before = np.cumsum(data.n, axis=1) - data.n  # events of each side strictly before u_r
    out = []
    for i in (0, 1):
        # Lambda_i(u_r) = mu_i u_r + sum_j alpha_ij sum_{t_l^j < u_r} (1 - exp(-beta_ij (u_r - t_l)))
        compensator = mu[i] * data.u
        for j in (0, 1):
            compensator = compensator + alpha[i, j] * (before[j] - data.sums(j, beta[i, j], 0)[0])
        at_events = np.repeat(compensator, data.n[i].astype(np.int64))
        out.append(np.diff(at_events, prepend=0.0))
    return out


def daily_means(data: EventData, theta: np.ndarray) -> np.ndarray:
    """Expected counts ``lambda_i(d)`` of the discrete model on every day of the window
    (``[2, days]``), zero-count days included."""
    mu, alpha, beta = unpack(theta)
    days = np.arange(round(data.horizon), dtype=float)
    counts = np.zeros((2, len(days)))
    np.add.at(counts, (data.marks, data.t.astype(np.int64)), 1.0)
    means = np.tile(mu[:, None], (1, len(days)))
    with np.errstate(divide="ignore"):
        for j in (0, 1):
            log_n = np.log(counts[j])
            for i in (0, 1):
                S = kernel_sums(days, log_n, beta[i, j], 0)[0]
                means[i] += alpha[i, j] * data.kappa(beta[i, j])[0] * S
    return means, counts


def gof_table(data: EventData, theta: np.ndarray, sides, seed: int) -> pd.DataFrame:
    """One row per side: ``side``, ``method``, ``n``, ``ks_statistic``, ``p_value``."""
    rows = []
    if data.discrete:
        means, counts = daily_means(data, theta)
        rng = np.random.default_rng(seed)
        for i, side in enumerate(sides):
            y, lam = counts[i], means[i]
            low = stats.poisson.cdf(y - 1, lam)
            high = stats.poisson.cdf(y, lam)
            pit = low + rng.uniform(size=len(y)) * (high - low)  # randomised PIT (Smith 1985)
            test = stats.kstest(pit, "uniform")
            rows.append((side, "randomised PIT of daily counts", len(y), test.statistic, test.pvalue))
    else:
        for side, increments in zip(sides, rescaled(data, theta)):
            test = stats.kstest(increments, "expon")
            rows.append((side, "time rescaling", len(increments), test.statistic, test.pvalue))
    frame = pd.DataFrame(rows, columns=["side", "method", "n", "ks_statistic", "p_value"])
    frame["side"] = frame["side"].astype("string")
    return frame
