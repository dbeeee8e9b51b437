import pandas as pd
import pytest

from analysis.replication import comparison, granger_replication, pause_replication
from tests.conftest import ROOT, SHARED

BTSELEM = SHARED / "fixtures" / "btselem" / "fatalities_isr_pse_2000_2023.csv"


def test_comparison_lines_up_published_and_ours():
    granger = pd.DataFrame({"outcome": ["fatalities"] * 4, "lags": [7, 7, 14, 14],
                            "causing": ["p", "i", "p", "i"], "caused": ["i", "p", "i", "p"],
                            "F": [9.1, 1.25, 6.4, 1.28], "df_num": [7, 7, 14, 14], "df_denom": [3128] * 2 + [3086] * 2,
                            "p": [1e-11, 0.27, 1e-12, 0.21]})
    pause_table = pd.DataFrame({"min_length_days": [1, 8], "pauses": [558, 38], "share_i": [0.771, 0.763],
                                "share_p": [0.151, 0.211], "share_both": [0.079, 0.026]})
    published = [
        {"study": "JP", "quantity": "p causes i", "published": "yes", "source": "u1",
         "granger": {"outcome": "fatalities", "causing": "p", "caused": "i"}},
        {"study": "JP", "quantity": "i causes p", "published": "no", "source": "u1",
         "granger": {"outcome": "fatalities", "lags": 7, "causing": "i", "caused": "p"}},
        {"study": "KHB", "quantity": "ended by i, all pauses", "published": 0.79, "source": "u2",
         "pauses": {"min_length_days": 1, "share_of": "i"}},
    ]
    table = comparison(published, granger=granger, pause_table=pause_table)
    assert table.loc[0, "ours"] == "yes (lags 7: F = 9.10, p = 1e-11); yes (lags 14: F = 6.40, p = 1e-12)"
    assert table.loc[0, "agrees"] and table.loc[1, "agrees"]
    assert table.loc[1, "ours"] == "no (lags 7: F = 1.25, p = 0.27)"
    assert table.loc[2, "ours"] == "77% of 558 pauses" and pd.isna(table.loc[2, "agrees"])
    # a bare yes/no in YAML arrives as a boolean
    as_bool = comparison([{**published[0], "published": True}], granger=granger)
    assert as_bool.loc[0, "published"] == "yes" and as_bool.loc[0, "agrees"]


@pytest.fixture(scope="module")
def btselem_events():
    if not BTSELEM.exists():
        pytest.skip(f"shared fixtures not found at {BTSELEM.parent}")
    from analysis.dyads import assign_sides, load_dyad
    from analysis.sources.fatalities import load_fatalities

    spec = load_dyad(ROOT / "dyads" / "israel-palestinians.yaml")
    return assign_sides(load_fatalities(BTSELEM, spec=spec).events, spec).events


def test_jaeger_paserman_direction_is_reproduced(btselem_events):
    table = granger_replication(btselem_events, sides=["israel", "palestinians"], start="2000-09-29",
                                end="2005-01-31", lags=(7, 14), outcomes=("fatalities",))
    p = table.set_index(["lags", "causing"])["p"]
    # killings by Palestinians Granger-cause killings by Israelis, at 7 and 14 lags ...
    assert p[(7, "palestinians")] < 0.01 and p[(14, "palestinians")] < 0.01
    # ... and not the reverse
    assert p[(7, "israel")] > 0.05 and p[(14, "israel")] > 0.05


def test_kanwisher_direction_is_reproduced(btselem_events):
    table = pause_replication(btselem_events, sides=["israel", "palestinians"], start="2000-09-29",
                              end="2008-10-31", min_lengths=(1, 8, 10)).set_index("min_length_days")
    # Israel ends most pauses, of every length class published
    assert (table["share_israel"] > 0.5).all()
    assert (table["share_israel"] > table["share_palestinians"] + table["share_both"]).all()
    assert table.loc[1, "pauses"] > table.loc[8, "pauses"] > table.loc[10, "pauses"]
