import numpy as np
import pytest

from analysis import geo
from tests.oracle import haversine_km


def test_great_circle_distances_match_the_haversine_formula():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-89, 89, (2, 200)), rng.uniform(-180, 180, (2, 200))
    got = geo.great_circle_km(geo.xyz_km(lat[0], lon[0]), geo.xyz_km(lat[1], lon[1]))
    want = [haversine_km(a, b, c, d) for a, b, c, d in zip(lat[0], lon[0], lat[1], lon[1])]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    # a quarter of the meridian: pi R / 2
    assert geo.great_circle_km(geo.xyz_km([0.0], [0.0]), geo.xyz_km([90.0], [0.0]))[0] == pytest.approx(np.pi * 6371.0088 / 2)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("distance_km", [0.5, 30.0, 900.0])
def test_cubes_find_every_point_within_the_distance(monkeypatch, dense, distance_km):
    # brute force over all pairs on the whole globe (poles and the date line included)
    if not dense:
        monkeypatch.setattr(geo, "_DENSE_CUBES", 0)  # binary search among occupied cubes
    rng = np.random.default_rng(int(distance_km * 10) + dense)
    n = 400
    lat = np.concatenate([rng.uniform(-90, 90, n // 2), 60 + rng.uniform(-0.2, 0.2, n // 2)])
    lon = np.concatenate([rng.uniform(-180, 180, n // 2), 179.9 + rng.uniform(0, 0.2, n // 2)])
    xyz = geo.xyz_km(lat, lon)
    key = rng.integers(0, 50, n)
    cubes = geo.Cubes(xyz, key, 50, geo.chord_km(distance_km))
    q = rng.integers(0, n, 150)
    lo, hi = rng.integers(0, 25, 150), rng.integers(25, 51, 150)
    found = set()
    for qi, at in geo.batches(*cubes.ranges(xyz[q], lo, hi), limit=1000):
        for a, b in zip(qi.tolist(), cubes.index[at].tolist()):
            if geo.great_circle_km(xyz[q[a]][None], xyz[b][None])[0] <= distance_km:
                found.add((a, b))
    dist = geo.great_circle_km(xyz[q][:, None, :], xyz[None, :, :])
    inside = (dist <= distance_km) & (key[None, :] >= lo[:, None]) & (key[None, :] < hi[:, None])
    want = set(zip(*np.nonzero(inside)))
    assert found == want and len(want) > 50  # (the cluster near 60N, 180E gives pairs even at 0.5 km)
