"""Random numbers and distributions for the numba-compiled engine.

Generator
---------
Every stream is a **xoshiro256**** generator (Blackman & Vigna 2018): 256 bits
of state held in a 1-D ``np.uint64`` array of length 4 that the functions
update in place. xoshiro256** is used for everything, floats included (not the
slightly faster xoshiro256+, whose lowest bits are weak): the Ziggurat samplers
take their layer index from the low bits of a draw, which therefore must be as
good as the high ones. :func:`uniform` takes the top 53 bits, ``k / 2**53``,
and draws again on ``k == 0`` (probability ``2**-53``), so it lies in the open
interval (0, 1) on the full 53-bit grid.

Seeding by key
--------------
A stream is named by four integers, each taken as uint64 (numba types Python
ints as int64: pass a seed >= 2**63 as ``np.uint64``, or as the int64 with the
same bits, which names the same stream):

``seed``
    the run seed (:func:`parksim.model.random.normalize_seed`);
``a``
    the replication;
``b``
    the stream kind (``parksim.model.random.PARAM``, ``PROJECT``, ``SYNTHETIC_FIRM``,
    ...; a park of a portfolio can be folded in here, e.g. ``kind + 1000 * (park + 1)``);
``c``
    the key within the kind: a firm's or project's index, a CRC-32 of a name
    (two small numbers can be packed as ``hi * 2**32 + lo``).

:func:`seed_into` absorbs the four integers one after the other through the
splitmix64 finaliser (a bijection of 64-bit words, with full avalanche),
``h = mix(h ^ mix(x + golden))``, so two names that differ in any component
give unrelated 64-bit digests (collisions as for a random 64-bit hash), and
then fills the state with the first four splitmix64 outputs from that digest,
``s[i] = mix(h + (i + 1) * golden)``. The four arguments of ``mix`` are distinct
and ``mix`` is a bijection, so at most one state word can be zero: the state is
never all zero. Seeding costs about as much as a few draws, and needs no NumPy
``SeedSequence``, so a stream can be made per firm, inside compiled code.

Why one stream per entity
-------------------------
Scenario variants (levers) are compared with **common random numbers**: the
same firm must get the same noise in every variant, whatever the variant does
to the other firms. With one shared stream, a lever that adds a project would
shift every later draw to another firm, and the comparison would drown in noise.
Keyed streams make a firm's draws a function of (seed, replication, kind, key)
alone. Distributions sample by inversion (:func:`ppf`) from one uniform where
that matters, so variants that only change a parameter stay coupled draw by
draw. These streams are not the NumPy ``PCG64`` streams of
:mod:`parksim.model.random`: the two engines agree in distribution, not draw by draw.

Counter-based numbers
---------------------
:func:`keyed_uniform` and :func:`keyed_normal` give number ``j`` of a sequence
rooted at a 64-bit ``h`` directly, from SplitMix64 outputs ``mix(h + c * golden)``,
without state: for numbers drawn once per (entity, period), such as a firm's
monthly output noise or its yearly decisions, where reading and writing back a
256-bit state per entity would cost more than the draw.

Distributions
-------------
:func:`normal` and :func:`exponential` are 256-layer Ziggurats (Marsaglia &
Tsang 2000) in the 64-bit arrangement NumPy uses (8 bits pick the layer, one
bit the sign, 52 or 53 bits the abscissa), with the exact tail algorithms. The
tables are computed at import in plain NumPy; the base-strip edge ``r`` is
solved so that the top layer closes exactly. :func:`poisson` and
:func:`binomial` invert one uniform for small means (monotone in the parameter:
coupled across variants) and use Hörmann's transformed rejection PTRS / BTRS
for larger ones. :func:`ndtr`, :func:`ndtri` and :func:`ppf` mirror
``scipy.special`` and :mod:`parksim.scenario.dists` so that the compiled engine
realises the same quantities as the Python one.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy import special

from parksim.model import jit  # noqa: F401 - first checks that the compiled-code cache matches the sources

#: compile options of the samplers: cached, callable without the GIL, IEEE arithmetic (no fast-math reordering),
#: and no C-callable wrapper (nothing takes their address; building one costs compile time on a first run)
_JIT = dict(cache=True, nogil=True, fastmath=False, no_cfunc_wrapper=True)

__all__ = [
    "FIXED",
    "UNIFORM",
    "TRIANGULAR",
    "NORMAL",
    "LOGNORMAL",
    "next_u64",
    "seed_into",
    "make_state",
    "uniform",
    "normal",
    "keyed_normal",
    "keyed_normal_fast",
    "keyed_normal_at",
    "keyed_uniform",
    "key_hash",
    "exponential",
    "poisson",
    "binomial",
    "exp",
    "ndtr",
    "ndtri",
    "ppf",
    "ppf_z",
    "ppf_z_at",
    "ppf_z_at4",
    "encode",
    "CODE",
]

#: distribution kinds of an encoded quantity (``code[0]``), see :func:`encode`
FIXED, UNIFORM, TRIANGULAR, NORMAL, LOGNORMAL = 0, 1, 2, 3, 4
#: length of an encoded quantity, see :func:`encode`
CODE = 8

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_G1 = np.uint64(_GOLDEN)
_G2 = np.uint64((2 * _GOLDEN) & _MASK64)
_G3 = np.uint64((3 * _GOLDEN) & _MASK64)
_G4 = np.uint64((4 * _GOLDEN) & _MASK64)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_H0 = np.uint64(0x6A09E667F3BCC909)  # domain separation: frac(sqrt(2)), as in SHA-512
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U5 = np.uint64(5)
_U7 = np.uint64(7)
_U8 = np.uint64(8)
_U9 = np.uint64(9)
_U11 = np.uint64(11)
_U12 = np.uint64(12)
_U17 = np.uint64(17)
_U27 = np.uint64(27)
_U30 = np.uint64(30)
_U31 = np.uint64(31)
_U45 = np.uint64(45)
_U57 = np.uint64(57)
_U19 = np.uint64(19)
_U20 = np.uint64(20)
_U255 = np.uint64(255)
_TWO_M53 = 2.0**-53


# ---------------------------------------------------------------------------
# generator and seeding
# ---------------------------------------------------------------------------


@numba.njit(**_JIT)
def next_u64(s):
    """Next 64-bit output of xoshiro256** with state ``s`` (updated in place)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    x = s1 * _U5
    result = ((x << _U7) | (x >> _U57)) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return result


@numba.njit(**_JIT)
def _mix64(z):
    """splitmix64 finaliser (Stafford's variant 13): a bijection on uint64."""
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    return z ^ (z >> _U31)


@numba.njit(**_JIT)
def key_hash(seed, a, b, c):
    """64-bit hash of (run seed, replication, stream kind, key): the root of a keyed stream."""
    h = _mix64(_H0 ^ _mix64(np.uint64(seed) + _G1))
    h = _mix64(h ^ _mix64(np.uint64(a) + _G1))
    h = _mix64(h ^ _mix64(np.uint64(b) + _G1))
    return _mix64(h ^ _mix64(np.uint64(c) + _G1))


@numba.njit(**_JIT)
def _keyed_bits(h, c):
    """Output ``c`` (1, 2, ...) of SplitMix64 started at ``h``: ``mix(h + c * golden)``."""
    return _mix64(h + c * _G1)


@numba.njit(**_JIT)
def _open_uniform(z):
    """The top 53 bits of the word ``z`` as ``(k + 1/2) / 2**53``, on the open interval (0, 1)."""
    return (np.float64(z >> _U11) + 0.5) * _TWO_M53


@numba.njit(**_JIT)
def keyed_uniform(h, j):
    """Uniform number ``j`` (0, 1, ...) of the counter-based sequence rooted at ``h`` (see :func:`key_hash`).

    It is output ``j + 1`` of SplitMix64 started at ``h`` (Steele, Lea & Flood 2014), its top 53 bits
    as ``(k + 1/2) / 2**53``, on the open interval (0, 1). Any number of the sequence is computed
    directly, without state: for decisions drawn rarely, where a stored stream would cost more.
    """
    return _open_uniform(_keyed_bits(h, np.uint64(j + 1)))


@numba.njit(**_JIT)
def seed_into(s, seed, a, b, c):
    """Fill state ``s`` from (run seed, replication, stream kind, key)."""
    h = key_hash(seed, a, b, c)
    s[0] = _mix64(h + _G1)
    s[1] = _mix64(h + _G2)
    s[2] = _mix64(h + _G3)
    s[3] = _mix64(h + _G4)
    # unreachable (at most one word can be zero, see the module doc); kept as a guard
    if s[0] == _U0 and s[1] == _U0 and s[2] == _U0 and s[3] == _U0:  # pragma: no cover
        s[0] = _G1


@numba.njit(**_JIT)
def make_state(seed, a, b, c):
    """A fresh xoshiro256** state for (run seed, replication, stream kind, key)."""
    s = np.empty(4, dtype=np.uint64)
    seed_into(s, seed, a, b, c)
    return s


@numba.njit(**_JIT)
def uniform(s):
    """Uniform on the open interval (0, 1): ``k / 2**53`` with k in 1 .. 2**53 - 1."""
    while True:
        k = next_u64(s) >> _U11
        if k != _U0:
            return np.float64(k) * _TWO_M53


# ---------------------------------------------------------------------------
# Ziggurat tables (computed once, at import, in plain NumPy)
# ---------------------------------------------------------------------------


def _ziggurat_tables(f, finv, tail, lo, hi, bits, n=256, known=None):
    """Tables of an ``n``-layer Ziggurat for the decreasing density ``f`` on [0, inf).

    ``f`` is unnormalised with ``f(0) = 1``, ``tail(r)`` the area beyond ``r``.
    Layer 0 is the base strip (the rectangle ``[0, r] x [0, f(r)]`` plus the
    tail), layer ``i >= 1`` the rectangle ``[0, x_i] x [f(x_i), f(x_{i-1})]``
    with ``x_{n-1} = r > ... > x_1 > x_0 = 0``; all have the same area ``v``.
    ``r`` is found by bisection in [lo, hi] so that the top layer closes at
    ``x_0 = 0``. Returns (r, k, w, f): the abscissa ``x = j * w[i]`` for a
    ``bits``-bit integer ``j``, accepted at once if ``j < k[i]``.

    ``known``: the ``r`` the bisection ends at (it ends at two adjacent floats, the top layer closing at the upper
    and not at the lower one). It is used if two evaluations confirm that, sparing the bisection's hundred (0.06 s
    of every start); otherwise the bisection runs. A test checks that the bisection finds it.
    """

    def layers(r):
        v = r * f(r) + tail(r)
        x = np.zeros(n)
        x[n - 1] = r
        for i in range(n - 1, 1, -1):
            y = v / x[i] + f(x[i])
            if y >= 1.0:  # ran out of height before the top: r too small
                return v, x, 1.0
            x[i - 1] = finv(y)
        return v, x, v / x[1] + f(x[1]) - 1.0

    if known is not None and lo < known <= hi and layers(known)[2] <= 0.0 < layers(math.nextafter(known, -math.inf))[2]:
        lo, hi = math.nextafter(known, -math.inf), known
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if layers(mid)[2] > 0.0:
            lo = mid
        else:
            hi = mid
    r = hi
    v, x, _ = layers(r)
    m = 2.0**bits
    k = np.zeros(n, dtype=np.uint64)
    w = np.zeros(n)
    fx = np.zeros(n)
    q = v / f(r)  # width of the base strip's rectangle of height f(r)
    k[0] = np.uint64(math.floor(r / q * m))
    w[0] = q / m
    fx[0] = 1.0
    for i in range(1, n):
        k[i] = np.uint64(math.floor(x[i - 1] / x[i] * m))
        w[i] = x[i] / m
        fx[i] = f(x[i])
    return r, k, w, fx


#: the two Ziggurats' arguments of :func:`_ziggurat_tables`: the unnormalised density, its inverse, the area beyond
#: ``r``, the bracket of ``r`` and the bits of the integer drawn; and the ``r`` their bisection ends at
_NORMAL_ZIGGURAT = (
    lambda x: math.exp(-0.5 * x * x),
    lambda y: math.sqrt(-2.0 * math.log(y)),
    lambda r: math.sqrt(0.5 * math.pi) * math.erfc(r / math.sqrt(2.0)),
    3.0,
    4.5,
    52,
)
_EXPONENTIAL_ZIGGURAT = (lambda x: math.exp(-x), lambda y: -math.log(y), lambda r: math.exp(-r), 6.0, 9.0, 53)
_ZN_R, _ZN_K, _ZN_W, _ZN_F = _ziggurat_tables(*_NORMAL_ZIGGURAT, known=3.6541528853610092)
_ZN_INV_R = 1.0 / _ZN_R
_ZE_R, _ZE_K, _ZE_W, _ZE_F = _ziggurat_tables(*_EXPONENTIAL_ZIGGURAT, known=7.69711747013105)


@numba.njit(**_JIT)
def _zn_first(r):
    """The normal Ziggurat's first step on a 64-bit draw ``r``: (layer, signed abscissa, accepted at once).

    8 bits pick the layer, one bit the sign, 52 bits (disjoint from those) the abscissa.
    """
    idx = np.intp(r & _U255)
    k = r >> _U12
    x = np.float64(k) * _ZN_W[idx]
    return idx, (-x if (r >> _U8) & _U1 != _U0 else x), k < _ZN_K[idx]


@numba.njit(**_JIT)
def _zn_wedge(idx, x, u):
    """Whether the abscissa ``x`` of layer ``idx >= 1``, not accepted at once, is accepted with the uniform ``u``."""
    return _ZN_F[idx] + u * (_ZN_F[idx - 1] - _ZN_F[idx]) < math.exp(-0.5 * x * x)


@numba.njit(**_JIT)
def _zn_tail(u1, u2):
    """Marsaglia's (1964) tail beyond r from two uniforms: (accepted, |x|), ``x = r + e1 / r`` if ``2 e2 > (e1 / r)**2``."""
    xx = -math.log(u1) * _ZN_INV_R
    yy = -math.log(u2)
    return yy + yy > xx * xx, _ZN_R + xx


@numba.njit(**_JIT)
def normal(s):
    """Standard normal by a 256-layer Ziggurat with Marsaglia's exact tail."""
    while True:
        idx, x, accepted = _zn_first(next_u64(s))
        if accepted:
            return x
        if idx == 0:
            while True:
                accepted, t = _zn_tail(uniform(s), uniform(s))
                if accepted:
                    return math.copysign(t, x)  # (x is -0.0 for the sign bit and a zero abscissa)
        elif _zn_wedge(idx, x, uniform(s)):
            return x


@numba.njit(**_JIT)
def keyed_normal_fast(h, j):
    """:func:`keyed_normal` ``(h, j)`` if its first Ziggurat draw is accepted (about 99% of draws), else NaN.

    Branch-free, so a loop of it vectorises; the NaNs are then redrawn with :func:`keyed_normal`,
    which starts from the same first draw: the numbers are those of :func:`keyed_normal`.
    """
    _, x, accepted = _zn_first(_keyed_bits(h, (np.uint64(j) << _U20) + _U1))
    return x if accepted else math.nan


@numba.njit(**_JIT)
def keyed_normal_at(h, j):
    """:func:`keyed_normal` ``(h, j)``, by way of :func:`keyed_normal_fast`: the same number.

    For a few draws in a row: the compiler inlines the fast path, and the draws do not wait for one
    another (a stored stream's next draw waits for the state the previous one wrote back).
    """
    x = keyed_normal_fast(h, j)
    return x if x == x else keyed_normal(h, j)


@numba.njit(**_JIT)
def keyed_normal(h, j):
    """Standard normal number ``j`` (0, 1, ...) of the counter-based sequence rooted at ``h``.

    The Ziggurat of :func:`normal` fed by SplitMix64 outputs ``j * 2**20 + 1, + 2, ...`` from ``h``
    (one output on the fast path, 99% of draws; a rejection uses a few more, never ``2**20``): number
    ``j`` is computed directly, without state. A firm's monthly noise is ``keyed_normal(root, month)``
    with the firm's root drawn once: nothing per firm is read and written back each month but the root.
    """
    c = (np.uint64(j) << _U20) + _U1
    while True:
        idx, x, accepted = _zn_first(_keyed_bits(h, c))
        if accepted:
            return x
        if idx == 0:
            while True:
                accepted, t = _zn_tail(_open_uniform(_keyed_bits(h, c + _U1)), _open_uniform(_keyed_bits(h, c + _U2)))
                c += _U2
                if accepted:
                    return math.copysign(t, x)
        c += _U2
        if _zn_wedge(idx, x, _open_uniform(_keyed_bits(h, c - _U1))):
            return x


@numba.njit(**_JIT)
def exponential(s):
    """Standard exponential by a 256-layer Ziggurat (memoryless tail: r + E).

    Measured faster than ``-log(uniform(s))`` (see benchmarks/bench_fastrand.py).
    """
    while True:
        r = next_u64(s)
        idx = np.intp(r & _U255)
        j = r >> _U11  # 53 bits
        x = np.float64(j) * _ZE_W[idx]
        if j < _ZE_K[idx]:
            return x
        if idx == 0:
            return _ZE_R - math.log(uniform(s))
        if _ZE_F[idx] + uniform(s) * (_ZE_F[idx - 1] - _ZE_F[idx]) < math.exp(-x):
            return x


# ---------------------------------------------------------------------------
# discrete distributions
# ---------------------------------------------------------------------------


@numba.njit(**_JIT)
def _poisson_inversion(s, lam):
    # sequential search from 0 with one uniform; if rounding leaves u above the
    # accumulated mass (p underflows first: probability ~1e-16), draw again
    while True:
        u = uniform(s)
        p = math.exp(-lam)
        k = 0
        while u > p and p > 0.0:
            u -= p
            k += 1
            p = p * lam / k
        if u <= p:
            return k


@numba.njit(**_JIT)
def _poisson_ptrs(s, lam):
    # Hoermann (1993), "The transformed rejection method for generating Poisson
    # random variables", algorithm PTRS; valid for lam >= 10
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_invalpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)  # >= 2**-53: u is on the 2**-53 grid and never 0 or 1
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + log_invalpha - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
            return k


@numba.njit(**_JIT)
def poisson(s, lam):
    """Poisson(lam), exact for any lam >= 0.

    lam < 10: inversion of one uniform (monotone in lam, so variants that
    change lam stay coupled); lam >= 10: PTRS (Hoermann 1993).
    """
    if not lam >= 0.0 or lam == math.inf:
        raise ValueError("poisson: lam must be finite and >= 0")
    if lam == 0.0:
        return 0
    if lam < 10.0:
        return _poisson_inversion(s, lam)
    return _poisson_ptrs(s, lam)


@numba.njit(**_JIT)
def _binomial_inversion(s, n, p):
    # p <= 0.5; sequential search from 0 (Kachitvichyanukul & Schmeiser's BINV)
    # with one uniform; when k passes n, r becomes 0 and we draw again
    ratio = p / (1.0 - p)
    r0 = math.exp(n * math.log1p(-p))
    while True:
        u = uniform(s)
        r = r0
        k = 0
        while u > r and r > 0.0:
            u -= r
            k += 1
            r = r * ratio * (n - k + 1) / k
        if u <= r:
            return k


@numba.njit(**_JIT)
def _binomial_btrs(s, n, p):
    # Hoermann (1993), "The generation of binomial random variates", algorithm
    # BTRS; p <= 0.5 and n * p >= 10
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = math.log(p / q)
    m = math.floor((n + 1) * p)
    h = math.lgamma(m + 1.0) + math.lgamma(n - m + 1.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0) + (k - m) * lpq:
            return k


@numba.njit(**_JIT)
def binomial(s, n, p):
    """Binomial(n, p), exact: inversion if n * min(p, 1 - p) < 10, else BTRS."""
    if n < 0 or not (0.0 <= p <= 1.0):
        raise ValueError("binomial: need n >= 0 and 0 <= p <= 1")
    if n == 0 or p == 0.0:
        return 0
    if p == 1.0:
        return n
    flip = p > 0.5
    pp = 1.0 - p if flip else p
    if n * pp < 10.0:
        k = _binomial_inversion(s, n, pp)
    else:
        k = _binomial_btrs(s, n, pp)
    return n - k if flip else k


# ---------------------------------------------------------------------------
# exponential function
# ---------------------------------------------------------------------------


def _exp_table(bits: int) -> np.ndarray:
    """``bits(2**(j / 2**bits)) - (j << (52 - bits))`` for j < 2**bits (as uint64), the powers correctly rounded."""
    from decimal import Decimal, localcontext

    n = 1 << bits
    with localcontext() as ctx:
        ctx.prec = 50
        powers = np.array([float(Decimal(2) ** (Decimal(j) / n)) for j in range(n)])
    return powers.view(np.uint64) - (np.arange(n, dtype=np.uint64) << np.uint64(52 - bits))


def _ln2_parts(bits: int) -> tuple[float, float]:
    """``ln(2) / 2**bits`` as hi + lo, hi with its last 20 bits zero (so ``k * hi`` is exact for |k| < 2**20)."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 50
        exact = Decimal(2).ln() / (1 << bits)
        hi = float((np.array(float(exact)).view(np.uint64) & np.uint64(~((1 << 20) - 1) & _MASK64)).view(np.float64))
        return hi, float(exact - Decimal(hi))


_EXP_BITS = 7
_EXP_T = _exp_table(_EXP_BITS)
_EXP_LN2_HI, _EXP_LN2_LO = _ln2_parts(_EXP_BITS)
_EXP_INV_LN2 = (1 << _EXP_BITS) / math.log(2.0)
_EXP_SHIFT = 1.5 * 2.0**52  # adding it rounds to an integer held in the low bits of the double
_EXP_MASK = np.uint64((1 << _EXP_BITS) - 1)
_EXP_UP = np.uint64(52 - _EXP_BITS)
_EXP_MAX = 708.0


@numba.njit(**_JIT)
def exp(x):
    """``e**x`` within 1.5 ulp for ``|x| <= 708``; ``inf`` above, 0 below, NaN for NaN.

    Branch-free, so a loop of it vectorises (the C library's ``exp``, which ``math.exp`` calls, is
    a call per number): ``x = (128 m + j) ln2/128 + r`` with ``|r| <= ln2/256``, and
    ``e**x = 2**m 2**(j/128) e**r`` with ``2**(j/128)`` from a table (correctly rounded), ``e**r`` its
    Taylor polynomial to degree 5 (truncation below 1e-18) and ``2**m`` added to the exponent bits.
    The range covers the engine's log output levels (|log B| < 50) with room to spare.
    """
    c = min(max(x, -_EXP_MAX), _EXP_MAX)
    kd = c * _EXP_INV_LN2 + _EXP_SHIFT
    ki = np.float64(kd).view(np.uint64)
    kd -= _EXP_SHIFT
    r = c - kd * _EXP_LN2_HI - kd * _EXP_LN2_LO
    scale = np.uint64(_EXP_T[np.intp(ki & _EXP_MASK)] + (ki << _EXP_UP)).view(np.float64)
    r2 = r * r
    p = r + r2 * (0.5 + r * (1.0 / 6.0) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0)))
    e = scale + scale * p
    e = math.inf if x > _EXP_MAX else e
    e = 0.0 if x < -_EXP_MAX else e
    return e if x == x else x


# ---------------------------------------------------------------------------
# normal CDF and its inverse
# ---------------------------------------------------------------------------

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@numba.njit(**_JIT)
def ndtr(x):
    """Standard normal CDF (as scipy.special.ndtr: erf near 0, erfc in the tails)."""
    z = x * _SQRT1_2
    az = abs(z)
    if az < _SQRT1_2:
        return 0.5 + 0.5 * math.erf(z)
    y = 0.5 * math.erfc(az)
    return 1.0 - y if z > 0.0 else y


# Acklam's rational approximation (relative error < 1.15e-9), then one Halley step
_A1, _A2, _A3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
_A4, _A5, _A6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
_B1, _B2, _B3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
_B4, _B5 = 6.680131188771972e01, -1.328068155288572e01
_C1, _C2, _C3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
_C4, _C5, _C6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
_D1, _D2, _D3, _D4 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00
_P_LOW = 0.02425


@numba.njit(**_JIT)
def _ndtri_lower(p):
    # 0 < p < _P_LOW; the Halley correction e / phi(x) is formed as
    # (ndtr(x) / p - 1) * p / phi(x), which stays finite for the smallest p
    logp = math.log(p)
    q = math.sqrt(-2.0 * logp)
    x = (((((_C1 * q + _C2) * q + _C3) * q + _C4) * q + _C5) * q + _C6) / ((((_D1 * q + _D2) * q + _D3) * q + _D4) * q + 1.0)
    u = (ndtr(x) / p - 1.0) * math.exp(logp + 0.5 * x * x + _LOG_SQRT_2PI)
    return x - u / (1.0 + 0.5 * x * u)


@numba.njit(**_JIT)
def ndtri(p):
    """Inverse of :func:`ndtr`; relative error ~1e-15 over [1e-300, 1 - 1e-16]."""
    if not (p > 0.0 and p < 1.0):
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        return math.nan
    if p < _P_LOW:
        return _ndtri_lower(p)
    if p > 1.0 - _P_LOW:
        return -_ndtri_lower(1.0 - p)  # 1 - p is exact here
    q = p - 0.5  # exact for p >= 0.25; the correction uses erf, so x ~ 0 keeps its relative accuracy
    r = q * q
    x = (
        (((((_A1 * r + _A2) * r + _A3) * r + _A4) * r + _A5) * r + _A6)
        * q
        / (((((_B1 * r + _B2) * r + _B3) * r + _B4) * r + _B5) * r + 1.0)
    )
    u = (0.5 * math.erf(x * _SQRT1_2) - q) * _SQRT_2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


# ---------------------------------------------------------------------------
# encoded scenario distributions (mirror parksim.scenario.dists)
# ---------------------------------------------------------------------------

_Q_LO = 1e-300
_Q_HI = 1.0 - 1e-16


@numba.njit(**_JIT)
def _ppf(kind, p1, p2, p3, p4, p5, p6, u):
    """:func:`ppf` of the code ``(kind, p1, ..., p6)``, given as numbers."""
    if kind == 0.0:  # fixed
        return p1
    if kind == 1.0:  # uniform: low, high
        return p1 + (p2 - p1) * u
    if kind == 2.0:  # triangular: low, mode, high
        a, c, b = p1, p2, p3
        if b == a:
            return a
        fc = (c - a) / (b - a)
        if u < fc:
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1.0 - u) * (b - a) * (b - c))
    if kind == 3.0:  # normal: mean, sd, low, high and the CDF at the bounds (encode: ndtr((low - mean) / sd), ...)
        m, sd, low, high, qlo, qhi = p1, p2, p3, p4, p5, p6
        if sd == 0.0:
            return m
        q = min(max(qlo + (qhi - qlo) * u, _Q_LO), _Q_HI)
        return min(max(m + sd * ndtri(q), low), high)
    if kind == 4.0:  # lognormal: median, sigma
        q = min(max(u, _Q_LO), _Q_HI)
        return p1 * exp(p2 * ndtri(q))
    # an unknown kind (encode makes none) is NaN, not an exception: a compiled function that can raise makes
    # every caller keep atomic reference-count updates of its array arguments, on the engine's hottest paths
    return math.nan


@numba.njit(**_JIT)
def ppf(code, u):
    """Inverse CDF at ``u`` of the quantity encoded by :func:`encode`.

    The arithmetic of the ``.ppf`` methods of :mod:`parksim.scenario.dists`, with :func:`exp` (within 1.5 ulp
    of NumPy's) for a lognormal.
    """
    return _ppf(code[0], code[1], code[2], code[3], code[4], code[5], code[6], u)


@numba.njit(**_JIT)
def _ppf_z(kind, p1, p2, p3, p4, p5, p6, z):
    """:func:`ppf_z` of the code ``(kind, p1, ..., p6)``, given as numbers."""
    if kind == 0.0:
        return p1
    if kind == 4.0:
        return p1 * exp(p2 * z)
    if kind == 3.0 and p3 == -math.inf and p4 == math.inf:
        return p1 + p2 * z
    return _ppf(kind, p1, p2, p3, p4, p5, p6, ndtr(z))


@numba.njit(**_JIT)
def ppf_z(code, z):
    """The quantity at standard normal score ``z``: ``ppf(code, ndtr(z))``.

    A lognormal or an untruncated normal maps ``z`` directly (no round trip
    through a probability, which costs an ``erf`` and an inverse and loses
    accuracy in the tails); the other kinds go through :func:`ndtr`.
    """
    return _ppf_z(code[0], code[1], code[2], code[3], code[4], code[5], code[6], z)


@numba.njit(**_JIT)
def ppf_z_at(T, i, k, z):
    """:func:`ppf_z` of the code ``T[i, k]`` of a table of codes, read in place.

    The same as ``ppf_z(T[i, k], z)`` without making the view ``T[i, k]``: in compiled code a view
    costs two atomic reference-count updates, more than the lognormal it parametrises.
    """
    return _ppf_z(T[i, k, 0], T[i, k, 1], T[i, k, 2], T[i, k, 3], T[i, k, 4], T[i, k, 5], T[i, k, 6], z)


@numba.njit(**_JIT)
def ppf_z_at4(T, i, j, k, z):
    """:func:`ppf_z_at` for a table with one more axis: the code ``T[i, j, k]``."""
    return _ppf_z(T[i, j, k, 0], T[i, j, k, 1], T[i, j, k, 2], T[i, j, k, 3], T[i, j, k, 4], T[i, j, k, 5], T[i, j, k, 6], z)


def _num(x, what: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a realised number, got {x!r}")
    return float(x)


def encode(value) -> np.ndarray:
    """Length-:data:`CODE` float64 code ``[kind, a, b, c, d, e, f, 0]`` of a realised scenario quantity.

    ``value`` is a number or a :mod:`parksim.scenario.dists` distribution whose
    parameters are plain numbers (realised per replication beforehand). A
    normal's code carries the CDF at its bounds (``e``, ``f``), so that a draw
    does not compute them again.
    """
    from parksim.scenario import dists as d

    code = np.zeros(CODE)
    if isinstance(value, d.Fixed):
        code[:2] = FIXED, _num(value.value, "fixed value")
    elif isinstance(value, d.Uniform):
        code[:3] = UNIFORM, _num(value.low, "uniform low"), _num(value.high, "uniform high")
    elif isinstance(value, d.Triangular):
        code[:4] = TRIANGULAR, _num(value.low, "triangular low"), _num(value.mode, "triangular mode"), _num(value.high, "triangular high")
    elif isinstance(value, d.Normal):
        m, sd = _num(value.mean, "normal mean"), _num(value.sd, "normal sd")
        low, high = _num(value.low, "normal low"), _num(value.high, "normal high")
        code[:5] = NORMAL, m, sd, low, high
        if sd != 0.0:  # (SciPy's ndtr, which ndtr mirrors: a compiled call from here would cost a first run a compile)
            code[5:7] = special.ndtr(np.array([(low - m) / sd, (high - m) / sd]))
    elif isinstance(value, d.LogNormal):
        code[:3] = LOGNORMAL, _num(value.median, "lognormal median"), _num(value.sigma, "lognormal sigma")
    else:
        code[:2] = FIXED, _num(value, "a scenario quantity")
    return code
