"""Synthetic dyads with known ground truth, for testing the pairing and the models.

``tit_for_tat``
    Each side starts events at random (a Poisson number per day), and every event (started or
    itself a response) draws a response from the other side with a known probability, after a
    known delay. The truth is kept: ``parent_id`` names the event a response answers.
``dense_dyad``
    A dense dyad in space and time: side A strikes a few times a day and side B many times a
    day at random places in a square box; with a known probability B answers an A event near it
    (within ``answer_km``) a few days later (within ``answer_days``). The truth is kept
    (``parent_id``, ``planted``). Timing alone cannot see the answers (B acts every day
    anyway); distance can.
``hawkes``
    A bivariate Hawkes process with exponential kernels, simulated by Ogata's thinning:
    ``lambda_i(t) = mu_i + sum_j sum_{t_k of j < t} alpha_ij * beta * exp(-beta (t - t_k))``, so
    ``alpha_ij`` is the expected number of side-i events one side-j event triggers.
``hawkes_times``
    The same process as arrays of times and sides, simulated through its cluster (branching)
    representation, with one decay per kernel if wanted, or its daily (discrete) version.
``graded_exchanges``
    Exchanges whose answers come more often, and at higher severity levels, after severe events.

All but ``hawkes_times`` return canonical event tables (``event_id``, ``date``, ``side``,
``kind``...); all are seeded: the same arguments give the same result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.schema import conform_events

__all__ = ["dense_dyad", "hawkes", "hawkes_expected_counts", "hawkes_times", "tit_for_tat"]


def _table(days: np.ndarray, sides: np.ndarray, start: str, *, extra: dict | None = None, prefix: str = "sim") -> pd.DataFrame:
    order = np.lexsort((np.arange(len(days)), days))
    date = pd.Timestamp(start).normalize() + pd.to_timedelta(np.floor(days[order]).astype(np.int64), unit="D")
    frame = pd.DataFrame(
        {
            "event_id": [f"{prefix}-{i:07d}" for i in range(len(days))],
            "date": date,
            "date_precision": "day",
            "side": sides[order],
            "kind": "other",
            "source": "simulated",
        }
    )
    for name, values in (extra or {}).items():
        frame[name] = values[order] if isinstance(values, np.ndarray) else values
    return frame, order


def tit_for_tat(
    *,
    days: int,
    sides: Sequence[str] = ("A", "B"),
    base_rate: Sequence[float] = (0.05, 0.05),
    p_respond: Sequence[float] = (0.5, 0.5),
    delay_mean: Sequence[float] = (3.0, 3.0),
    max_generations: int = 50,
    start: str = "2020-01-01",
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate tit-for-tat exchanges with known response probabilities and delays.

    Parameters
    ----------
    days : int
        Length of the period; events after it are dropped (responses included).
    sides : two str
    base_rate : two floats
        Spontaneous events per day of each side (Poisson).
    p_respond : two floats
        ``p_respond[i]``: probability that an event of side ``i`` draws a response from the
        other side.
    delay_mean : two floats
        ``delay_mean[i]``: mean delay in days of the response to side ``i``'s events; delays are
        geometric on 1, 2, ... days (so responses always fall on a later day).
    max_generations : int
        Cap on response-to-response depth (the process is finite anyway when p < 1).
    seed : int

    Returns
    -------
    DataFrame
        Canonical events plus ``parent_id`` (the event this one answers, missing for
        spontaneous events) and ``generation`` (0 for spontaneous).
    """
    rng = np.random.default_rng(seed)
    all_days, all_sides, parents, gens = [], [], [], []
    for i, rate in enumerate(base_rate):
        n = rng.poisson(rate * days)
        all_days.append(rng.uniform(0, days, size=n).astype(int).astype(float))
        all_sides.append(np.full(n, i))
        parents.append(np.full(n, -1))
        gens.append(np.zeros(n, dtype=int))
    t = np.concatenate(all_days)
    s = np.concatenate(all_sides)
    par = np.concatenate(parents)
    gen = np.concatenate(gens)
    frontier = np.arange(len(t))
    for g in range(1, max_generations + 1):
        if len(frontier) == 0:
            break
        src_side = s[frontier]
        responds = rng.random(len(frontier)) < np.asarray(p_respond)[src_side]
        src = frontier[responds]
        mean = np.asarray(delay_mean, dtype=float)[s[src]]
        delay = rng.geometric(1.0 / mean)  # on 1, 2, ...
        new_t = t[src] + delay
        keep = new_t < days
        src, new_t = src[keep], new_t[keep]
        first_new = len(t)
        t = np.concatenate([t, new_t])
        s = np.concatenate([s, 1 - s[src]])
        par = np.concatenate([par, src])
        gen = np.concatenate([gen, np.full(len(src), g)])
        frontier = np.arange(first_new, len(t))
    names = np.asarray(list(sides), dtype=object)
    frame, order = _table(t, names[s], start, extra={"generation": gen})
    new_pos = np.empty(len(order), dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    parent_sorted = par[order]
    frame["parent_id"] = pd.array(
        [frame["event_id"].iat[new_pos[p]] if p >= 0 else pd.NA for p in parent_sorted], dtype="string"
    )
    return conform_events(frame)


def hawkes_expected_counts(mu: Sequence[float], alpha: np.ndarray, horizon: float) -> np.ndarray:
    """Expected number of events of each side in a stationary Hawkes process over ``horizon``:
    ``horizon * (I - alpha)^-1 mu`` (needs the spectral radius of ``alpha`` below 1)."""
    alpha = np.asarray(alpha, dtype=float)
    return horizon * np.linalg.solve(np.eye(len(mu)) - alpha, np.asarray(mu, dtype=float))


def hawkes(
    *,
    mu: Sequence[float],
    alpha: np.ndarray,
    beta: float,
    horizon: float,
    sides: Sequence[str] = ("A", "B"),
    start: str = "2020-01-01",
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a bivariate Hawkes process with exponential kernels (Ogata's thinning).

    Parameters
    ----------
    mu : two floats
        Background rates per day.
    alpha : 2 x 2 array
        ``alpha[i, j]``: expected number of side-i events triggered by one side-j event (the
        branching matrix). Its spectral radius must be below 1.
    beta : float
        Decay rate per day (mean delay ``1 / beta``).
    horizon : float
        Days simulated.
    seed : int

    Returns
    -------
    DataFrame
        Canonical events, with ``t`` (event time in days since ``start``) and ``time_utc``
        (``start`` + ``t``, missing past 2262, where pandas timestamps end).
    """
    alpha = np.asarray(alpha, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if np.max(np.abs(np.linalg.eigvals(alpha))) >= 1:
        raise ValueError("the branching matrix alpha must have spectral radius below 1 (else the process explodes)")
    rng = np.random.default_rng(seed)
    state = np.zeros((2, 2))  # state[i, j] = alpha_ij * beta * sum_k exp(-beta (t - t_k^j))
    t = 0.0
    times, marks = [], []
    while True:
        bound = mu.sum() + state.sum()  # intensities only decay until the next event
        t_next = t + rng.exponential(1.0 / bound)
        if t_next >= horizon:
            break
        state *= np.exp(-beta * (t_next - t))
        t = t_next
        rates = mu + state.sum(axis=1)
        u = rng.uniform(0, bound)
        if u < rates.sum():
            side = 0 if u < rates[0] else 1
            times.append(t)
            marks.append(side)
            state[:, side] += alpha[:, side] * beta
    times = np.asarray(times)
    names = np.asarray(list(sides), dtype=object)
    frame, _order = _table(times, names[np.asarray(marks, dtype=int)] if len(marks) else np.array([], dtype=object), start,
                          extra={"t": times})
    # a time of day only where pandas can hold the timestamp (before 2262); ``t`` always has it
    representable = frame["t"] < (pd.Timestamp.max - pd.Timestamp(start).normalize()).days
    frame["time_utc"] = (pd.Timestamp(start).normalize() + pd.to_timedelta(frame["t"].where(representable), unit="D"))
    return conform_events(frame)


def hawkes_times(
    *,
    mu: Sequence[float],
    alpha: np.ndarray,
    beta,
    horizon: float,
    seed=0,
    daily: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a bivariate exponential Hawkes process through its cluster representation.

    Hawkes & Oakes (1974): background events of side ``i`` arrive as a Poisson process of rate
    ``mu_i``; every event of side ``j`` has a Poisson(``alpha_ij``) number of side-``i``
    children after independent Exp(``beta_ij``) delays, and so on for the children's children
    while they fall before ``horizon``. Started empty at 0 (no history), this is the process
    :func:`hawkes` simulates by thinning, with the intensity ``mu_i + sum_j sum_k alpha_ij
    beta_ij exp(-beta_ij (t - t_k^j))``; it is vectorised by generation (fast for large
    ``horizon``) and allows one decay per kernel.

    Parameters
    ----------
    mu : two floats
        Background rates per day.
    alpha : 2 x 2 array
        Branching matrix (``alpha[i, j]``: side-i children of one side-j event); spectral
        radius below 1.
    beta : float or 2 x 2 array
        Decay rate per day, shared or one per kernel (``beta[i, j]`` for side-j -> side-i).
    horizon : float
        Days simulated (a whole number of days when ``daily``).
    seed : int or numpy.random.Generator
    daily : bool
        Simulate the discrete (daily counts) model of :func:`analysis.hawkes.fit_hawkes`
        instead: background events on uniform days, children ``1 + floor(Exp(beta))`` days
        after their parent (so a day's count is Poisson with mean ``mu_i + sum_j alpha_ij
        (1 - exp(-beta_ij)) sum_{d' < d} y_j(d') exp(-beta_ij (d - d' - 1))``).

    Returns
    -------
    t : ndarray
        Event times in days (whole days when ``daily``), sorted.
    sides : ndarray of int
        0 or 1: the side of each event (index into ``mu``).

    References
    ----------
    Hawkes, A. G. & Oakes, D. (1974). A cluster process representation of a self-exciting
    process. Journal of Applied Probability 11, 493-503.
    """
    mu = np.asarray(mu, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    beta = np.broadcast_to(np.asarray(beta, dtype=float), (2, 2))
    if np.max(np.abs(np.linalg.eigvals(alpha))) >= 1:
        raise ValueError("the branching matrix alpha must have spectral radius below 1 (else the process explodes)")
    if not (beta > 0).all():
        raise ValueError(f"the decays beta must be positive, got {beta.tolist()}")
    rng = np.random.default_rng(seed)
    counts = rng.poisson(mu * (round(horizon) if daily else horizon))
    if daily:
        t = np.concatenate([rng.integers(0, round(horizon), n).astype(float) for n in counts])
    else:
        t = np.concatenate([rng.uniform(0.0, horizon, n) for n in counts])
    marks = np.repeat(np.array([0, 1], dtype=np.int64), counts)
    times, sides = [], []
    while len(t):
        times.append(t)
        sides.append(marks)
        next_t, next_marks = [], []
        for i in (0, 1):
            parents = np.repeat(np.arange(len(t)), rng.poisson(alpha[i, marks]))
            delay = rng.exponential(1.0, len(parents)) / beta[i, marks[parents]]
            child = t[parents] + (1.0 + np.floor(delay) if daily else delay)
            child = child[child < horizon]
            next_t.append(child)
            next_marks.append(np.full(len(child), i, dtype=np.int64))
        t, marks = np.concatenate(next_t), np.concatenate(next_marks)
    t, marks = np.concatenate(times), np.concatenate(sides)
    order = np.argsort(t, kind="stable")
    return t[order], marks[order]



def _destination(lat: np.ndarray, lon: np.ndarray, bearing: np.ndarray, distance_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The point ``distance_km`` from (lat, lon) along ``bearing`` (radians from north), on the
    sphere of the mean Earth radius (the direct problem on a sphere)."""
    from analysis.geo import EARTH_RADIUS_KM

    p1, l1, d = np.radians(lat), np.radians(lon), np.asarray(distance_km) / EARTH_RADIUS_KM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    l2 = l1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540) % 360 - 180


def dense_dyad(
    *,
    days: int = 520,
    rate: Sequence[float] = (8.0, 130.0),
    box_km: float = 400.0,
    p_answer: float = 0.5,
    answer_km: float = 10.0,
    answer_days: int = 3,
    centre: tuple[float, float] = (33.0, 44.0),
    sides: Sequence[str] = ("A", "B"),
    kinds: Sequence[str] = ("rocket", "airstrike"),
    start: str = "2020-01-01",
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a dense dyad whose answers are local: side B answers side A near the trigger.

    Parameters
    ----------
    days : int
        Length of the period; answers falling after it are dropped.
    rate : two floats
        Background events per day of A and of B (Poisson), each at a uniformly random day and
        place in the box.
    box_km : float
        Side of the square box (km) centred on ``centre``.
    p_answer : float
        Probability that an A event draws an answer from B (0: no answering at all).
    answer_km : float
        An answer lies uniformly within this great-circle distance of its trigger.
    answer_days : int
        An answer comes 1..``answer_days`` days after its trigger (uniform).
    centre : (lat, lon)
    sides, kinds : two str each
        Side names, and the kind of each side's events.
    start : date
    seed : int

    Returns
    -------
    DataFrame
        Canonical events (day precision, no times) with ``latitude``, ``longitude``,
        ``planted`` (True for B's answers) and ``parent_id`` (the A event answered).
    """
    rng = np.random.default_rng(seed)
    n_a, n_b = rng.poisson(rate[0] * days), rng.poisson(rate[1] * days)
    lat0, lon0 = centre
    km_per_degree = np.radians(1.0) * 6371.0088

    def uniform_box(n: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = rng.uniform(-box_km / 2, box_km / 2, (2, n))
        return lat0 + y / km_per_degree, lon0 + x / (km_per_degree * np.cos(np.radians(lat0)))

    a_lat, a_lon = uniform_box(n_a)
    b_lat, b_lon = uniform_box(n_b)
    a_day = rng.integers(0, days, n_a).astype(float)
    b_day = rng.integers(0, days, n_b).astype(float)
    answered = np.flatnonzero(rng.random(n_a) < p_answer)
    lag = rng.integers(1, answer_days + 1, len(answered))
    # uniform in the disc: radius with density proportional to r
    r_lat, r_lon = _destination(a_lat[answered], a_lon[answered], rng.uniform(0, 2 * np.pi, len(answered)),
                                answer_km * np.sqrt(rng.random(len(answered))))
    keep = a_day[answered] + lag < days
    answered, lag, r_lat, r_lon = answered[keep], lag[keep], r_lat[keep], r_lon[keep]

    day = np.concatenate([a_day, b_day, a_day[answered] + lag])
    side = np.asarray(list(sides), dtype=object)[np.concatenate([np.zeros(n_a, int), np.ones(n_b + len(answered), int)])]
    planted = np.concatenate([np.zeros(n_a + n_b, bool), np.ones(len(answered), bool)])
    parent = np.concatenate([np.full(n_a + n_b, -1), answered])
    frame, order = _table(day, side, start, extra={
        "latitude": np.concatenate([a_lat, b_lat, r_lat]), "longitude": np.concatenate([a_lon, b_lon, r_lon]),
        "planted": planted, "kind": np.where(side == sides[0], kinds[0], kinds[1]),
    })
    # ids of the A events answered, in the sorted table
    new_pos = np.empty(len(order), dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    ids = frame["event_id"].to_numpy()
    parent_sorted = parent[order]
    frame["parent_id"] = pd.array(np.where(parent_sorted >= 0, ids[new_pos[np.maximum(parent_sorted, 0)]], None), dtype="string")
    return conform_events(frame)



# --- graded exchanges: answers whose probability and level grow with the trigger's level ------
# (issue 15; ground truth for analysis.severity's response curves)

__all__ += ["graded_answer_truth", "graded_exchanges"]


def graded_answer_truth(level: np.ndarray | float, *, answer_logit: Sequence[float], level_shift: Sequence[float],
                        n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """True answer probability and expected answer level of :func:`graded_exchanges`, per trigger level.

    Returns
    -------
    (p_answer, expected_level)
        ``p_answer = 1 / (1 + exp(-(a + b * level)))`` with ``(a, b) = answer_logit``; the
        expected level of the answer ``E[clip(level + shift, 0, n_levels - 1)]`` with ``shift``
        equal to -1, 0, +1 with probabilities ``level_shift``.
    """
    level = np.asarray(level, dtype=float)
    a, b = answer_logit
    p = 1.0 / (1.0 + np.exp(-(a + b * level)))
    expected = sum(w * np.clip(level + s, 0, n_levels - 1) for s, w in zip((-1, 0, 1), level_shift))
    return p, expected


def graded_exchanges(
    *,
    days: int,
    sides: Sequence[str] = ("A", "B"),
    base_rate: Sequence[float] = (0.02, 0.02),
    n_levels: int = 5,
    answer_logit: Sequence[float] = (-2.0, 0.8),
    level_shift: Sequence[float] = (0.2, 0.5, 0.3),
    delay_days: int = 1,
    max_generations: int = 50,
    start: str = "2020-01-01",
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a dyad whose answers come more often, and at higher levels, after severe events.

    Each side starts events at random (a Poisson number per day), each at a level drawn
    uniformly from ``0 .. n_levels - 1``. Every event (started or itself an answer) is answered
    by the other side with probability ``1 / (1 + exp(-(a + b * level)))``, ``delay_days``
    later, at the level ``clip(level + shift, 0, n_levels - 1)``, ``shift`` being -1, 0 or +1
    with probabilities ``level_shift``. :func:`graded_answer_truth` gives both curves.

    Parameters
    ----------
    days : int
        Length of the period; events after it are dropped.
    sides : two str
    base_rate : two floats
        Spontaneous events per day of each side.
    n_levels : int
    answer_logit : (a, b)
        Intercept and slope (per level) of the log-odds of an answer.
    level_shift : three floats
        Probabilities of an answer one level lower, at the same level, one level higher.
    delay_days : int
        Days from an event to its answer (>= 1: answers fall on a later day).
    max_generations : int
        Cap on answer-to-answer depth.
    seed : int

    Returns
    -------
    DataFrame
        Canonical events plus ``level`` (int), ``parent_id`` (the event answered, missing for
        spontaneous events) and ``generation``.
    """
    if delay_days < 1:
        raise ValueError(f"delay_days must be >= 1 (an answer falls on a later day), got {delay_days}")
    shift_p = np.asarray(level_shift, dtype=float)
    if shift_p.shape != (3,) or np.any(shift_p < 0) or not np.isclose(shift_p.sum(), 1.0):
        raise ValueError(f"level_shift must be three probabilities summing to 1, got {list(level_shift)}")
    rng = np.random.default_rng(seed)
    t_parts, s_parts = [], []
    for i, rate in enumerate(base_rate):
        n = rng.poisson(rate * days)
        t_parts.append(rng.integers(0, days, size=n).astype(float))
        s_parts.append(np.full(n, i))
    t = np.concatenate(t_parts)
    s = np.concatenate(s_parts)
    lvl = rng.integers(0, n_levels, size=len(t))
    par = np.full(len(t), -1)
    gen = np.zeros(len(t), dtype=int)
    frontier = np.arange(len(t))
    for g in range(1, max_generations + 1):
        if len(frontier) == 0:
            break
        p, _ = graded_answer_truth(lvl[frontier], answer_logit=answer_logit, level_shift=shift_p, n_levels=n_levels)
        src = frontier[rng.random(len(frontier)) < p]
        new_t = t[src] + delay_days
        keep = new_t < days
        src, new_t = src[keep], new_t[keep]
        shift = rng.choice([-1, 0, 1], size=len(src), p=shift_p)
        first_new = len(t)
        t = np.concatenate([t, new_t])
        s = np.concatenate([s, 1 - s[src]])
        lvl = np.concatenate([lvl, np.clip(lvl[src] + shift, 0, n_levels - 1)])
        par = np.concatenate([par, src])
        gen = np.concatenate([gen, np.full(len(src), g)])
        frontier = np.arange(first_new, len(t))
    names = np.asarray(list(sides), dtype=object)
    frame, order = _table(t, names[s], start, extra={"level": lvl, "generation": gen}, prefix="graded")
    new_pos = np.empty(len(order), dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    frame["parent_id"] = pd.array([frame["event_id"].iat[new_pos[p]] if p >= 0 else pd.NA for p in par[order]], dtype="string")
    return conform_events(frame)
