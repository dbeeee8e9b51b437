"""Escalation-cycle datasets from conflict event data.

The package turns event records (curated tables, ACLED, UCDP GED, GDELT, per-fatality records,
news) into the canonical *events* table (:mod:`analysis.schema`), assigns each event to a side of a
dyad (:mod:`analysis.dyads`), and pairs every strike with the response that follows
(:mod:`analysis.cycles`).
"""

__version__ = "0.1.0"
