"""Compiled random numbers (parksim.model.fastrand): generator, keyed seeding, samplers, ndtr/ndtri, ppf.

Statistical checks use fixed seeds, so they are deterministic; the tolerances
are chosen so that a correct sampler would fail them with negligible
probability under a fresh seed too. A 5-SE check on an asymptotically normal
statistic has a two-sided false-alarm rate of 5.7e-7; a goodness-of-fit test
with threshold p > 1e-4 has a false-alarm rate of 1e-4 per test.
"""

import math

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats

from parksim.model import fastrand as fr
from parksim.scenario.dists import Fixed, LogNormal, Normal, Triangular, Uniform
from parksim.scenario.dists import ppf as dists_ppf

UNIFORM, NORMAL, EXPONENTIAL, POISSON, BINOMIAL = range(5)
MASK = (1 << 64) - 1


@numba.njit(cache=True)
def _draws(which, n, seed, key, x, y):
    """``n`` draws of one sampler from the stream (seed, 0, 7, key)."""
    s = fr.make_state(seed, 0, 7, key)
    out = np.empty(n)
    for i in range(n):
        if which == 0:
            out[i] = fr.uniform(s)
        elif which == 1:
            out[i] = fr.normal(s)
        elif which == 2:
            out[i] = fr.exponential(s)
        elif which == 3:
            out[i] = fr.poisson(s, x)
        else:
            out[i] = fr.binomial(s, np.int64(x), y)
    return out


@numba.njit(cache=True)
def _u64s(s, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = fr.next_u64(s)
    return out


@numba.njit(cache=True)
def _map(which, x):
    """ndtr (0) or ndtri (1) elementwise."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = fr.ndtr(x[i]) if which == 0 else fr.ndtri(x[i])
    return out


@numba.njit(cache=True)
def _ppf_many(code, u):
    out = np.empty_like(u)
    for i in range(u.size):
        out[i] = fr.ppf(code, u[i])
    return out


def draws(which, n, seed=2024, key=0, x=0.0, y=0.0):
    return _draws(which, n, seed, key, float(x), float(y))


def within(value, expected, se, k=5.0):
    assert abs(value - expected) <= k * se, f"{value} vs {expected}: {abs(value - expected) / se:.2f} SE"


def check_mean_var(x, dist):
    """Sample mean and variance of ``x`` within 5 SE of those of the scipy ``dist``.

    SE of the mean sqrt(var / n); SE of the sample variance sqrt((mu4 - var**2) / n)
    = var * sqrt((excess kurtosis + 2) / n). 5 SE: false alarm 5.7e-7 each.
    """
    n = x.size
    m, v, k = (float(t) for t in dist.stats(moments="mvk"))
    within(x.mean(), m, math.sqrt(v / n))
    within(x.var(), v, v * math.sqrt((k + 2.0) / n))


def chisquare_pmf(k, dist, min_expected=5.0):
    """Chi-square p-value of integer draws ``k`` against a scipy pmf, tail bins pooled."""
    n = k.size
    lo, hi = int(k.min()), int(k.max())
    support = np.arange(lo, hi + 1)
    obs = np.bincount(k.astype(np.int64) - lo, minlength=support.size).astype(float)
    exp = n * dist.pmf(support)
    exp[0] += n * dist.cdf(lo - 1)
    exp[-1] += n * dist.sf(hi)
    # pool bins from both ends until every expected count is >= min_expected
    o, e = [], []
    acc_o = acc_e = 0.0
    for oi, ei in zip(obs, exp, strict=True):
        acc_o += oi
        acc_e += ei
        if acc_e >= min_expected:
            o.append(acc_o)
            e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0:
        o[-1] += acc_o
        e[-1] += acc_e
    return stats.chisquare(o, e).pvalue


# --- generator and seeding -------------------------------------------------


def _xoshiro_reference(s, n):
    """xoshiro256** in pure Python, from the reference C code (Blackman & Vigna)."""
    s = [int(v) for v in s]
    out = []
    for _ in range(n):
        x = (s[1] * 5) & MASK
        out.append((((x << 7) | (x >> 57)) & MASK) * 9 & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 45) | (s[3] >> 19)) & MASK
    return out


def test_generator_matches_reference_xoshiro256starstar():
    s = fr.make_state(1, 2, 3, 4)
    expected = _xoshiro_reference(s, 200)
    assert [int(v) for v in _u64s(s, 200)] == expected


def test_same_key_same_sequence_and_any_differing_component_unrelated():
    base = (12345, 3, 2, 77)
    ref = _u64s(fr.make_state(*base), 1000)
    assert_array_equal(_u64s(fr.make_state(*base), 1000), ref)
    s = np.empty(4, dtype=np.uint64)
    fr.seed_into(s, *base)
    assert_array_equal(s, fr.make_state(*base))
    for pos in range(4):
        for delta in (1, 2, 1 << 40):
            key = list(base)
            key[pos] += delta
            other = _u64s(fr.make_state(*key), 1000)
            # unrelated 64-bit outputs coincide with probability ~1e6 / 2**64
            assert not np.intersect1d(ref, other).size
    # swapped components name a different stream too
    assert not np.intersect1d(ref, _u64s(fr.make_state(12345, 2, 3, 77), 1000)).size


def test_full_range_uint64_keys_and_state_never_zero():
    # Python ints >= 2**63 do not fit numba's int64: pass np.uint64 (or the int64 with the same bits)
    big = np.uint64((1 << 64) - 1)
    a = fr.make_state(big, big, big, big)
    assert_array_equal(a, fr.make_state(-1, -1, -1, -1))
    assert not np.array_equal(a, fr.make_state(big - np.uint64(1), big, big, big))
    five, one, two, three = (np.uint64(v) for v in (5, 1, 2, 3))
    assert_array_equal(fr.make_state(five, one, two, three), fr.make_state(5, 1, 2, 3))
    for seed in range(3):
        for key in range(500):
            st = fr.make_state(seed, 0, 0, key)
            assert np.count_nonzero(st) >= 3  # at most one zero word, by construction


def test_uniform_open_interval_and_moments():
    # output 0 is rejected: state [1, 0, 0, 0] gives next_u64 == 0, then 5760 (k = 2)
    s = np.array([1, 0, 0, 0], dtype=np.uint64)
    assert fr.uniform(s) == 2.0**-52
    u = draws(UNIFORM, 1_000_000)
    assert u.min() > 0.0 and u.max() < 1.0
    check_mean_var(u, stats.uniform())


@numba.njit(cache=True)
def _keyed(seed, keys, n):
    """uniforms 0..n-1 of the keyed sequences of (seed, 0, 7, key) for each key: (keys, n)."""
    out = np.empty((keys.size, n))
    for a in range(keys.size):
        h = fr.key_hash(seed, 0, 7, keys[a])
        for j in range(n):
            out[a, j] = fr.keyed_uniform(h, j)
    return out


def test_keyed_uniform_is_splitmix64_and_uniform():
    # known answer: SplitMix64's first output from state 0 is 0xE220A8397B1DCDAF (Vigna's splitmix64.c)
    assert fr.keyed_uniform(np.uint64(0), 0) == ((0xE220A8397B1DCDAF >> 11) + 0.5) * 2.0**-53
    # the same key gives the same numbers; its root is the one the keyed streams are seeded from
    s = fr.make_state(3, 0, 7, 11)
    assert s[0] == fr._mix64(np.uint64((int(fr.key_hash(3, 0, 7, 11)) + int(fr._G1)) & MASK))
    u = _keyed(2024, np.arange(100_000, dtype=np.uint64), 8)
    assert np.array_equal(u, _keyed(2024, np.arange(100_000, dtype=np.uint64), 8))
    assert u.min() > 0.0 and u.max() < 1.0
    for j in range(8):  # each decision's uniforms over 100,000 firms
        check_mean_var(u[:, j], stats.uniform())
        assert stats.kstest(u[:, j], "uniform").pvalue > 1e-4
    # decisions of a firm unrelated to one another and to the next firm's: |r| < 5 SE (SE = 1/sqrt(n))
    c = np.corrcoef(np.c_[u[:-1], u[1:, :1]].T)
    assert np.abs(c[np.triu_indices_from(c, 1)]).max() < 5 / math.sqrt(len(u) - 1)


# --- normal and exponential ------------------------------------------------


def test_ziggurat_tables_have_equal_layers():
    assert fr._ZN_R == pytest.approx(3.6541528853610088, rel=1e-13)  # NumPy's 256-layer constant
    assert fr._ZE_R == pytest.approx(7.69711747013104972, rel=1e-13)
    for r, w, f, bits, tail in (
        (fr._ZN_R, fr._ZN_W, fr._ZN_F, 52, math.sqrt(math.pi / 2) * math.erfc(fr._ZN_R / math.sqrt(2))),
        (fr._ZE_R, fr._ZE_W, fr._ZE_F, 53, math.exp(-fr._ZE_R)),
    ):
        v = r * f[-1] + tail
        x = w * 2.0**bits
        assert x[0] * f[-1] == pytest.approx(v, rel=1e-13)  # base strip
        assert_allclose(x[1:] * (f[:-1] - f[1:]), v, rtol=1e-11)  # every layer, top one included


def test_ziggurat_tables_are_the_bisections_whether_or_not_r_is_given():
    # fastrand gives the bisection's end point (`known`) to spare the bisection at every start; the tables must be
    # exactly those the bisection alone builds, and a wrong `known` must be ignored, not used
    searched = fr._ziggurat_tables(*fr._NORMAL_ZIGGURAT)
    for given in (fr._ZN_R, 3.65, math.nextafter(fr._ZN_R, math.inf)):
        tables = fr._ziggurat_tables(*fr._NORMAL_ZIGGURAT, known=given)
        assert all(np.array_equal(a, b) for a, b in zip(tables, searched, strict=True)), given
    assert searched[0] == fr._ZN_R and np.array_equal(searched[1], fr._ZN_K)
    expo = fr._ziggurat_tables(*fr._EXPONENTIAL_ZIGGURAT)
    assert expo[0] == fr._ZE_R and np.array_equal(expo[1], fr._ZE_K) and np.array_equal(expo[2], fr._ZE_W)


def test_normal_moments_ks_and_tail():
    n = 2_000_000
    z = draws(NORMAL, n)
    # 5-SE bounds: mean 1/sqrt(n), variance sqrt(2/n), skewness sqrt(6/n), excess kurtosis sqrt(24/n)
    within(z.mean(), 0.0, math.sqrt(1 / n))
    within(z.var(), 1.0, math.sqrt(2 / n))
    within(stats.skew(z), 0.0, math.sqrt(6 / n))
    within(stats.kurtosis(z), 0.0, math.sqrt(24 / n))
    assert stats.kstest(z, "norm").pvalue > 1e-4
    # |z| > 3.5 reaches into the ziggurat tail (r = 3.654): binomial count within 5 SE
    p = 2 * special.ndtr(-3.5)
    within(np.count_nonzero(np.abs(z) > 3.5), n * p, math.sqrt(n * p * (1 - p)))
    # the tail itself (about 500 draws beyond r): shape of |z| given |z| > r, KS p > 1e-4
    t = np.abs(z[np.abs(z) > fr._ZN_R])
    assert stats.kstest(t, lambda x: 1.0 - special.ndtr(-x) / special.ndtr(-fr._ZN_R)).pvalue > 1e-4


@numba.njit(cache=True)
def _keyed_normals(roots, month):
    """(R.keyed_normal, R.keyed_normal_fast, R.keyed_normal_at) of every root for one month."""
    full = np.empty(roots.size)
    fast = np.empty(roots.size)
    at = np.empty(roots.size)
    for i in range(roots.size):
        full[i] = fr.keyed_normal(roots[i], month)
        fast[i] = fr.keyed_normal_fast(roots[i], month)
        at[i] = fr.keyed_normal_at(roots[i], month)
    return full, fast, at


def test_keyed_normal_moments_ks_tail_and_fast_path():
    n = 1_000_000
    roots = np.array([fr.key_hash(5, 0, 9, k) for k in range(n // 4)], dtype=np.uint64)
    # four months of 250,000 firms: each firm's numbers are those of its own root and month
    z, fast, at = (np.concatenate(parts) for parts in zip(*(_keyed_normals(roots, m) for m in range(4)), strict=True))
    assert np.array_equal(at, z)  # keyed_normal_at: the same numbers, by way of the fast path
    assert np.array_equal(z, np.concatenate([_keyed_normals(roots, m)[0] for m in range(4)]))
    within(z.mean(), 0.0, math.sqrt(1 / n))
    within(z.var(), 1.0, math.sqrt(2 / n))
    within(stats.skew(z), 0.0, math.sqrt(6 / n))
    within(stats.kurtosis(z), 0.0, math.sqrt(24 / n))
    assert stats.kstest(z, "norm").pvalue > 1e-4
    t = np.abs(z[np.abs(z) > fr._ZN_R])  # the Ziggurat's tail, as for the stream sampler
    assert stats.kstest(t, lambda x: 1.0 - special.ndtr(-x) / special.ndtr(-fr._ZN_R)).pvalue > 1e-4
    # a firm's months unrelated: lag-1 correlation within 5 SE
    by_firm = z.reshape(4, -1)
    within(np.corrcoef(by_firm[0], by_firm[1])[0, 1], 0.0, 1 / math.sqrt(n / 4))
    # the fast path is the same number where its first draw is accepted, NaN elsewhere; it accepts with
    # probability mean(k_i / 2**52) over the 256 layers (98.5%): binomial count within 5 SE
    ok = ~np.isnan(fast)
    assert np.array_equal(fast[ok], z[ok])
    p = float(np.mean(fr._ZN_K.astype(float) / 2.0**52))
    within(np.count_nonzero(ok), n * p, math.sqrt(n * p * (1 - p)))


# --- exp -------------------------------------------------------------------


@numba.njit(cache=True)
def _exps(x):
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = fr.exp(x[i])
    return out


def test_exp_within_two_ulp_of_the_exact_value_and_edges():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-708, 708, 200_000), rng.uniform(-30, 30, 200_000), rng.uniform(-1e-3, 1e-3, 10_000)])
    got = _exps(x)
    exact = np.exp(x.astype(np.longdouble))  # 64-bit mantissa: a reference 2048 times finer than a double's ulp
    ulps = np.abs((got.astype(np.longdouble) - exact) / np.spacing(got).astype(np.longdouble))
    assert float(ulps.max()) < 1.5  # measured 1.23 (the C library's exp: 0.70)
    edges = np.array([0.0, -0.0, 1.0, 708.0, -708.0, 708.5, -708.5, np.inf, -np.inf, np.nan])
    out = _exps(edges)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == pytest.approx(math.e, rel=2e-16)
    assert_allclose(out[3:5], np.exp(edges[3:5]), rtol=3e-16)
    assert out[5] == math.inf and out[6] == 0.0 and out[7] == math.inf and out[8] == 0.0 and math.isnan(out[9])


def test_exponential_mean_ks_and_tail():
    n = 1_000_000
    e = draws(EXPONENTIAL, n)
    assert e.min() >= 0.0
    within(e.mean(), 1.0, math.sqrt(1 / n))  # SE of the mean of Exp(1): 1/sqrt(n)
    assert stats.kstest(e, "expon").pvalue > 1e-4
    # beyond r = 7.697 (about 450 draws): binomial count within 5 SE, and the excess is Exp(1) (KS p > 1e-4)
    p = math.exp(-fr._ZE_R)
    tail = e[e > fr._ZE_R]
    within(tail.size, n * p, math.sqrt(n * p * (1 - p)))
    assert stats.kstest(tail - fr._ZE_R, "expon").pvalue > 1e-4


# --- discrete --------------------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 0.3, 4.0, 25.0, 60.0, 500.0])
def test_poisson_mean_and_variance(lam):
    k = draws(POISSON, 200_000, key=int(lam * 10), x=lam)
    assert np.all(k == np.round(k)) and k.min() >= 0
    if lam == 0:
        assert not k.any()
        return
    check_mean_var(k, stats.poisson(lam))


@pytest.mark.parametrize("lam", [0.3, 4.0, 25.0])  # inversion (< 10) and PTRS (>= 10)
def test_poisson_pmf(lam):
    k = draws(POISSON, 200_000, seed=7, x=lam)
    assert chisquare_pmf(k, stats.poisson(lam)) > 1e-4


@pytest.mark.parametrize(
    "n, p",
    [(20, 0.3), (1000, 0.003), (1000, 0.3), (1000, 0.995), (200, 0.9), (10**6, 0.5), (7, 0.5)],
)
def test_binomial_mean_and_variance(n, p):
    # (20, .3), (1000, .003), (1000, .995), (7, .5): inversion; the others BTRS (n min(p, 1-p) >= 10)
    k = draws(BINOMIAL, 200_000, key=n, x=n, y=p)
    assert k.min() >= 0 and k.max() <= n
    check_mean_var(k, stats.binom(n, p))


@pytest.mark.parametrize("n, p", [(20, 0.3), (1000, 0.3), (200, 0.9)])
def test_binomial_pmf(n, p):
    k = draws(BINOMIAL, 200_000, seed=11, x=n, y=p)
    assert chisquare_pmf(k, stats.binom(n, p)) > 1e-4


def test_discrete_edge_cases_and_errors():
    s = fr.make_state(1, 0, 0, 0)
    assert fr.poisson(s, 0.0) == 0
    assert fr.binomial(s, 0, 0.3) == 0
    assert fr.binomial(s, 10, 0.0) == 0
    assert fr.binomial(s, 10, 1.0) == 10
    for lam in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            fr.poisson(s, lam)
    for n, p in ((-1, 0.5), (5, 1.5), (5, -0.1), (5, math.nan)):
        with pytest.raises(ValueError):
            fr.binomial(s, n, p)


# --- ndtr, ndtri ---------------------------------------------------------------


def test_ndtr_matches_scipy():
    # down to x = -37 (ndtr ~ 6e-300); both evaluate erfc at the same rounded x / sqrt(2),
    # so they agree far better than the 1.5e-13 that rounding x / sqrt(2) itself costs at x = -37
    x = np.concatenate([np.linspace(-37.0, 9.0, 46_001), [0.0, -0.0, 1e-300, -1e-10, 0.7, -0.7071, 40.0, -np.inf, np.inf]])
    assert_allclose(_map(0, x), special.ndtr(x), rtol=1e-12, atol=0)


def test_ndtri_matches_scipy():
    p = np.concatenate(
        [
            np.logspace(-300, -1, 3000),
            np.linspace(0.001, 0.999, 2001),
            0.5 + np.logspace(-15, -1, 200),
            0.5 - np.logspace(-15, -1, 200),
            1.0 - np.logspace(-16, -1, 500),
            [0.02425, 1 - 0.02425, 0.5, 1e-300, 1.0 - 1e-16, np.nextafter(1.0, 0.0)],
        ]
    )
    assert_allclose(_map(1, p), special.ndtri(p), rtol=1e-12, atol=0)
    assert_array_equal(_map(1, np.array([0.0, 1.0])), [-np.inf, np.inf])
    assert np.isnan(_map(1, np.array([-0.1, 1.1, np.nan]))).all()


def test_ndtri_ndtr_round_trip():
    # for x > 0, ndtr(x) rounds to ~1e-16 absolute: the inverse can recover x only to 1e-16 / phi(x),
    # about 2.5e-14 at x = 3 and 1.4e-11 relative at x = 1e-5 (atol covers that)
    x = np.concatenate([np.linspace(-37.0, 3.0, 20_001), -np.logspace(-300, 0, 100)])
    assert_allclose(_map(1, _map(0, x)), x, rtol=1e-12, atol=1e-15)


# --- ppf of encoded quantities -------------------------------------------------

DISTS = [
    3.5,
    7,
    Fixed(dist="fixed", value=2.5),
    Uniform(dist="uniform", low=1, high=4),
    Triangular(dist="triangular", low=1, mode=2, high=5),
    Triangular(dist="triangular", low=1, mode=1, high=3),
    Triangular(dist="triangular", low=0.5, mode=5, high=5),
    Triangular(dist="triangular", low=2, mode=2, high=2),  # degenerate
    Normal(dist="normal", mean=10, sd=2),
    Normal(dist="normal", mean=10, sd=2, low=9, high=15),  # truncated both sides
    Normal(dist="normal", mean=1, sd=0.5, low=0.2),  # truncated below
    Normal(dist="normal", mean=40, sd=1, low=39.999, high=45),  # truncated just below the mean
    Normal(dist="normal", mean=5, sd=0),
    LogNormal(dist="lognormal", median=2, sigma=0.7),
    LogNormal(dist="lognormal", median=0.03, sigma=1.5),
    LogNormal(dist="lognormal", median=1, sigma=0),
]
U = np.concatenate(
    [[0.0, 1e-300, 1e-20, 1e-10, 0.25, 0.5, 1.0 - 2.0**-53], np.linspace(0.0, 1.0, 2001)[1:-1], np.random.default_rng(5).random(2000)]
)


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: type(d).__name__ if not isinstance(d, (int, float)) else repr(d))
def test_ppf_matches_dists(dist):
    code = fr.encode(dist)
    assert code.dtype == np.float64 and code.shape == (fr.CODE,)
    if isinstance(dist, Normal) and dist.sd > 0:  # the CDF at the bounds, computed once
        bounds = np.array([dist.low - dist.mean, dist.high - dist.mean]) / dist.sd
        assert code[5:7].tolist() == special.ndtr(bounds).tolist()
        assert_allclose(code[5:7], [fr.ndtr(x) for x in bounds], rtol=1e-15, atol=1e-300)  # the compiled twin
    expected = dists_ppf(dist, U)
    assert_allclose(_ppf_many(code, U), expected, rtol=1e-12, atol=0)
    assert fr.ppf(code, 0.3) == pytest.approx(dists_ppf(dist, 0.3), rel=1e-12)


@numba.njit(cache=True)
def _ppf_z_at_many(table, z):
    """R.ppf_z_at(table, 1, 2, z) and R.ppf_z_at4(table4, 0, 1, 2, z) with the code at those places."""
    t4 = np.zeros((1,) + table.shape)
    t4[0] = table
    a = np.empty(z.size)
    b = np.empty(z.size)
    for i in range(z.size):
        a[i] = fr.ppf_z_at(table, 1, 2, z[i])
        b[i] = fr.ppf_z_at4(t4, 0, 1, 2, z[i])
    return a, b


@numba.njit
def _ppf_z_many(code, z):
    out = np.empty(len(z))
    for i in range(len(z)):
        out[i] = fr.ppf_z(code, z[i])
    return out


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: type(d).__name__ if not isinstance(d, (int, float)) else repr(d))
def test_ppf_z_is_the_quantity_at_a_normal_score(dist):
    # ppf_z(code, z) = ppf(code, ndtr(z)). Checked for z <= 3, where the round trip through a probability
    # is itself accurate (1 - ndtr(3) = 1.3e-3 keeps ~13 digits); relative 1e-9 is the accuracy of ndtr/ndtri
    z = np.concatenate([np.linspace(-6.0, 3.0, 901), np.random.default_rng(7).standard_normal(2000).clip(-6.0, 3.0)])
    code = fr.encode(dist)
    expected = dists_ppf(dist, special.ndtr(z))
    assert_allclose(_ppf_z_many(code, z), expected, rtol=1e-9, atol=1e-12)
    # read in place from a table of codes: the same numbers
    table = np.zeros((2, 3, code.size))
    table[1, 2] = code
    for got in _ppf_z_at_many(table, z):
        assert_array_equal(got, _ppf_z_many(code, z))
    # the direct paths are exact in the upper tail too, where the round trip is not
    if isinstance(dist, LogNormal):
        z = np.linspace(-8.0, 8.0, 161)
        assert_allclose(_ppf_z_many(code, z), dist.median * np.exp(dist.sigma * z), rtol=1e-14)
    if isinstance(dist, Normal) and dist.low == -math.inf and dist.high == math.inf:
        z = np.linspace(-8.0, 8.0, 161)
        assert_allclose(_ppf_z_many(code, z), dist.mean + dist.sd * z, rtol=1e-14, atol=1e-14)


def test_encode_rejects_unrealised_and_non_quantities():
    unrealised = Fixed(dist="fixed", value={"dist": "uniform", "low": 1, "high": 2})
    for bad in ("3", None, True, [1.0], unrealised, LogNormal(dist="lognormal", median={"dist": "fixed", "value": 2}, sigma=0.5)):
        with pytest.raises(TypeError):
            fr.encode(bad)
    assert math.isnan(fr.ppf(np.array([9.0, 0, 0, 0, 0, 0, 0, 0]), 0.5))  # an unknown kind (encode makes none)
