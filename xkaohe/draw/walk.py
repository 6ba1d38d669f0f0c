"""The village walk (protocol "prn-order-v1", steps 3-5) over many replicates at once, and step 6.

One implementation serves the real draw and the inclusion probabilities: the
draw walks one replicate (the candidates' permanent random numbers), step 6
("pi-mc-v1") walks R replicates whose uniforms come from numpy's PCG64. So
the probabilities describe exactly the walk that drew the sample, with the
distinct-township rule, the relaxed walk and cross-type substitution.

Vectorised over replicates: a Python loop runs over walk positions (usually a
handful: most replicates fill every quota among their first candidates), numpy
over replicates. Each replicate is first walked over its keys below a cut that
about 16 of them fall under; a replicate whose walk is not finished within
them is walked again from the start over more, and finally over all,
candidates, so the answer is always that of the full ordered walk.

Step 6 is the simulation estimator of first-order inclusion probabilities of
Fattorini (2006), "Applying the Horvitz-Thompson criterion in complex designs:
a computer-intensive perspective for estimating inclusion probabilities",
Biometrika 93(2): 269-278: ``(times selected + 1) / (R + 1)``, never 0.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from xkaohe.draw.prn import pi_seed

METHOD = "pi-mc-v1"
GENERATOR = "numpy PCG64"

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Keys per replicate expected below the cut of each round before the last
# (all candidates); chosen by measurement (benchmarks/inclusion.py).
_ROUNDS = (16, 48)
# Uniforms per block of replicates: bounds memory; the numbers are those of one
# (R, C) array because PCG64 fills an array row by row, one draw per double.
_BLOCK = 1 << 22
# The largest int64: padding sorts after every packed key (keys are in (0, 1):
# their bits are below 2**62).
_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class County:
    """The candidates of one county, in ascending village_code.

    ``types`` indexes the plan's quota order (a type without a quota gets the
    index after the last, with quota 0); ``towns`` numbers the townships 0, 1, ...
    """

    weights: Floats
    types: npt.NDArray[np.int8]
    towns: npt.NDArray[np.int32]

    @property
    def size(self) -> int:
        return int(self.weights.shape[0])


@dataclass(frozen=True)
class Rules:
    """Quotas in walk order (plus a trailing 0 for unlisted types) and the township rule."""

    quota: npt.NDArray[np.int16]
    distinct: bool

    @property
    def types(self) -> int:
        """The number of types with a quota (the plan's order)."""
        return int(self.quota.shape[0]) - 1


@dataclass(frozen=True)
class Walk:
    """Steps 3-5 for each replicate (row) and candidate (column).

    ``rank``: acceptance order from 1, 0 when not drawn; ``slot``: the quota
    index the village fills (its own type, or the type it substitutes for),
    -1 when not drawn; ``relaxed``: accepted by a walk that ignores townships.
    """

    rank: npt.NDArray[np.int16]
    slot: npt.NDArray[np.int8]
    relaxed: npt.NDArray[np.bool_]


def walk(u: Floats, county: County, rules: Rules) -> Walk:
    """Walk every replicate; ``u`` has one row of uniforms (prn) per replicate.

    Keys are ``u / tilt_weight`` (step 3), walked ascending, ties by
    village_code (the column order).
    """
    shape = u.shape
    rank = np.zeros(shape, np.int16)
    slot = np.full(shape, -1, np.int8)
    relaxed = np.zeros(shape, np.bool_)
    for rows, pos, taken, done in _resolved(u / county.weights, county, rules):
        i, j = np.divmod(taken.at, pos.shape[1])
        keep = done[i]
        r, c = rows[i[keep]], pos[i[keep], j[keep]]
        rank[r, c], slot[r, c] = taken.rank[keep], taken.slot[keep]
        relaxed[r, c] = taken.relaxed[keep]
    return Walk(rank, slot, relaxed)


@dataclass(frozen=True)
class _Taken:
    """The villages one round of the walk accepted, one entry each.

    ``at``: row * k + position, a flat index into the round's (rows, k)
    positions; ``rank``, ``slot`` and ``relaxed`` as in :class:`Walk`. A list
    rather than (rows, k) arrays: a row accepts a handful of its k positions,
    and step 6 only counts them.
    """

    at: Ints
    rank: npt.NDArray[np.int16]
    slot: npt.NDArray[np.int8]
    relaxed: npt.NDArray[np.bool_]


def _resolved(
    keys: Floats, county: County, rules: Rules
) -> Iterator[tuple[Ints, npt.NDArray[np.intp], _Taken, npt.NDArray[np.bool_]]]:
    """Each round's walks, as (replicates, their walk positions, villages accepted, finished).

    Each round walks the replicates left over by the one before over their
    keys below a cut expected to hold ``k`` of them; the last round walks
    all candidates. A position holding ``n`` is padding (no candidate). Only the
    rows marked finished hold their final outcome; the others are walked
    again by a later round.
    """
    n_rep, n = keys.shape
    rows = np.arange(n_rep)
    for k in [*(size for size in _ROUNDS if size + size // 2 < n), n]:
        if rows.size == 0:
            return
        pos, exact = _first_positions(keys if rows.size == n_rep else keys[rows], county.weights, k)
        taken, done_at = _walk_positions(pos, county, rules, final=k == n)
        if k == n:
            yield rows, pos, taken, np.ones(rows.size, np.bool_)
            return
        done = done_at <= exact
        yield rows, pos, taken, done
        rows = rows[~done]


def _first_positions(keys: Floats, weights: Floats, k: int) -> tuple[npt.NDArray[np.intp], Ints]:
    """Each row's candidates in walk order, as far as known, and how many are certainly in place.

    ``keys[:, c]`` is ``u[:, c] / weights[c]`` (step 3). With ``k`` = all
    columns: a stable sort, ties by column (village_code). Otherwise the keys
    below a cut ``q`` that about ``k`` keys of a row fall under (a key is below
    ``q`` with probability ``min(1, q w)``), sorted, padded to ``1.5 k`` with
    ``n`` (no candidate; n = the number of columns): all of a row's keys below
    ``q`` are there, so its first ``count`` positions are exact. A row with
    more than ``1.5 k`` of them, or with tied keys, gets exact = 0 and waits
    for a later round.

    The sort runs on one int64 per key: a positive double's bits order like
    the double; the lowest bits are replaced by the column, so keys equal in
    the rest count as tied (exact = 0) and are left to the stable sort.
    """
    n_rep, n = keys.shape
    if k >= n:
        return np.argsort(keys, axis=1, kind="stable"), np.full(n_rep, n, np.int64)
    q = k / float(np.sum(weights))
    if q * float(np.max(weights)) > 1:  # some key is always below: share the rest
        q = _cut(weights, k)
    flat = np.flatnonzero(keys < q)
    row = flat // n
    col = flat - row * n
    count = np.bincount(row, minlength=n_rep)
    within = np.arange(flat.size) - np.repeat(np.cumsum(count) - count, count)
    # A row with more than `width` keys below q is not exact: its extra keys
    # may overwrite its last place.
    width = k + k // 2
    at = row * width + np.minimum(within, width - 1)
    bits = n.bit_length()  # columns and the padding n fit below 2**bits
    # Padding: above every key (keys are below 1, padding near 2**63), distinct
    # in the bits above the column's so it never counts as a tie, and reading
    # as column n.
    top = _MAX >> bits
    pad = ((np.arange(top - width + 1, top + 1, dtype=np.int64)) << bits) | n
    packed = np.empty((n_rep, width), np.int64)
    packed[:] = pad
    key_bits = np.take(keys.reshape(-1).view(np.int64), flat)
    packed.reshape(-1)[at] = ((key_bits >> bits) << bits) | col
    packed.sort(axis=1)
    exact = np.where(count <= width, count, 0)
    # Neighbours equal above the column's bits (xor below 2**bits) are tied
    # keys this sort cannot order. Checked over the flat array, contiguous and
    # so faster: a pair across two rows can only send the first of them (a
    # row without padding) to a later round.
    flat_packed = packed.reshape(-1)
    tied = (flat_packed[1:] ^ flat_packed[:-1]) < (1 << bits)
    if tied.any():
        exact[np.flatnonzero(tied) // width] = 0
    return packed & ((1 << bits) - 1), exact


def _cut(weights: Floats, k: int) -> float:
    """The ``q`` with ``sum(min(1, q w)) = k`` (by bisection; only when some ``q w`` reach 1)."""
    lo, hi = 0.0, 1.0 / float(np.min(weights))
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(np.minimum(1.0, mid * weights).sum()) < k:
            lo = mid
        else:
            hi = mid
    return hi


def _walk_positions(
    pos: npt.NDArray[np.intp], county: County, rules: Rules, final: bool
) -> tuple[_Taken, Ints]:
    """Steps 3 (and, when ``final``, 4-5) over the candidates in ``pos``, row by row.

    Returns the villages accepted and, per row, the number of positions step 3
    looked at before every quota was full (``k + 1`` when it never was).
    """
    n_rep, k = pos.shape
    quota = rules.quota
    filled = np.zeros((n_rep, quota.shape[0]), np.int16)
    used = np.zeros((n_rep, int(county.towns.max(initial=-1)) + 1), np.bool_)
    count = np.zeros(n_rep, np.int16)
    never = k + 1
    done_at = np.full(n_rep, never, np.int64)
    # Step 3: one walk over all candidates; a village is accepted while its
    # type's quota is open and (distinct townships) its township is unused.
    # The hot loop: flat indices into the state, one walk position at a time.
    # A position's type and township are looked up only when a row reaches it
    # (most rows finish within a few of their k positions). Padding (n) reads
    # the entry after the last candidate: the type without a quota, which step
    # 3 never accepts.
    types = np.append(county.types, np.int8(quota.shape[0] - 1))
    towns = np.append(county.towns, np.int32(0))
    total = int(quota.sum())  # step 3 fills open slots only: all full <=> count == total
    if total == 0:
        done_at[:] = 0
    n_types, n_towns = filled.shape[1], used.shape[1]
    filled_f, used_f, pos_f = filled.reshape(-1), used.reshape(-1), pos.reshape(-1)
    # Each position's acceptances: (row * k + position, rank, slot).
    accepted: list[tuple[Ints, npt.NDArray[np.int16], npt.NDArray[np.int8]]] = [
        (np.empty(0, np.int64), np.empty(0, np.int16), np.empty(0, np.int8))
    ]
    act = np.flatnonzero(done_at == never)
    for j in range(k):
        if act.size == 0:
            break
        at = act * k + j
        cand = pos_f[at]
        t = types[cand]
        at_type = act * n_types + t
        at_town = act * n_towns + towns[cand]
        fits = filled_f[at_type] < quota[t]
        if rules.distinct:
            fits &= ~used_f[at_town]
        # The accepted rows as indices into act: numpy selects by an index
        # array several times faster than by a boolean mask, and ok selects
        # five times.
        ok = np.flatnonzero(fits)
        if ok.size == 0:
            continue
        a = act[ok]
        filled_f[at_type[ok]] += 1
        used_f[at_town[ok]] = True
        count[a] += 1
        rank = count[a]
        accepted.append((at[ok], rank, t[ok]))
        done = rank == total
        if done.any():
            done_at[a[done]] = j + 1
            act = act[np.flatnonzero(done_at[act] == never)]
    at_all = np.concatenate([at for at, _, _ in accepted])
    step3 = _Taken(
        at_all,
        np.concatenate([rank for _, rank, _ in accepted]),
        np.concatenate([slot for _, _, slot in accepted]),
        np.zeros(at_all.size, np.bool_),
    )
    if not final:
        return step3, done_at
    # Steps 4-5 (the last round only, a few rows) walk the positions again:
    # there the outcome is kept by position.
    out = Walk(
        np.zeros((n_rep, k), np.int16),
        np.full((n_rep, k), -1, np.int8),
        np.zeros((n_rep, k), np.bool_),
    )
    out.rank.reshape(-1)[step3.at] = step3.rank
    out.slot.reshape(-1)[step3.at] = step3.slot
    state = _State(county.types[pos], county.towns[pos], filled, used, count, out)
    # Step 4: each type still short, regardless of township.
    for t in range(rules.types):
        state.relaxed_walk(t, t, True, quota)
    # Step 5: substitution from the other types, distinct townships first.
    for t in range(rules.types):
        for other in range(rules.types):
            if other == t:
                continue
            if rules.distinct:
                state.distinct_walk(t, other, quota)
            else:
                state.relaxed_walk(t, other, False, quota)
            state.relaxed_walk(t, other, True, quota)
    at_all = np.flatnonzero(out.rank)
    return (
        _Taken(
            at_all,
            out.rank.reshape(-1)[at_all],
            out.slot.reshape(-1)[at_all],
            out.relaxed.reshape(-1)[at_all],
        ),
        done_at,
    )


@dataclass(frozen=True)
class _State:
    """The running walk of many replicates (arrays updated in place)."""

    ptype: npt.NDArray[np.int8]
    ptown: npt.NDArray[np.int32]
    filled: npt.NDArray[np.int16]
    used: npt.NDArray[np.bool_]
    count: npt.NDArray[np.int16]
    out: Walk

    def accept(self, rows: Ints, j: int, slot: npt.NDArray[np.int8] | int, relaxed: bool) -> None:
        """Accept position ``j`` of ``rows`` into ``slot``."""
        self.filled[rows, slot] += 1
        self.used[rows, self.ptown[rows, j]] = True
        self.count[rows] += 1
        self.out.rank[rows, j] = self.count[rows]
        self.out.slot[rows, j] = slot
        self.out.relaxed[rows, j] = relaxed

    def distinct_walk(self, want: int, of_type: int, quota: npt.NDArray[np.int16]) -> None:
        """Fill ``want`` from ``of_type``'s untaken villages in unused townships, in walk order."""
        act = np.flatnonzero(self.filled[:, want] < quota[want])
        for j in range(self.ptype.shape[1]):
            if act.size == 0:
                return
            ok = (
                (self.ptype[act, j] == of_type)
                & (self.out.slot[act, j] < 0)
                & ~self.used[act, self.ptown[act, j]]
            )
            a = act[ok]
            if a.size:
                self.accept(a, j, want, False)
                act = act[self.filled[act, want] < quota[want]]

    def relaxed_walk(
        self, want: int, of_type: int, relaxed: bool, quota: npt.NDArray[np.int16]
    ) -> None:
        """Fill ``want`` from ``of_type``'s first untaken villages, townships ignored.

        With no township test the walk takes, per replicate, the first
        ``shortfall`` eligible positions: a cumulative sum does it at once.
        """
        need = quota[want] - self.filled[:, want]
        act = np.flatnonzero(need > 0)
        if act.size == 0:
            return
        elig = (self.ptype[act] == of_type) & (self.out.slot[act] < 0)
        cum = np.cumsum(elig, axis=1, dtype=np.int16)
        take = elig & (cum <= need[act, None])
        r, j = np.nonzero(take)
        rows = act[r]
        self.out.rank[rows, j] = self.count[rows] + cum[r, j]
        self.out.slot[rows, j] = want
        self.out.relaxed[rows, j] = relaxed
        self.used[rows, self.ptown[rows, j]] = True
        got = take.sum(axis=1, dtype=np.int16)
        self.filled[act, want] += got
        self.count[act] += got


def inclusion(
    county: County, rules: Rules, replicates: int, seed: str, county_code: str
) -> tuple[Floats, Floats]:
    """Step 6, "pi-mc-v1": each candidate's inclusion probability and its standard error.

    Replicate r gives candidate c (ascending village_code) the uniform
    ``Generator(PCG64(pi_seed(seed, county_code))).random((R, C))[r, c]``.
    """
    n = county.size
    rng = np.random.Generator(np.random.PCG64(pi_seed(seed, county_code)))
    times = np.zeros(n, np.int64)
    block = max(1, min(_BLOCK // max(n, 1), replicates))
    buffer = _buffer(block * n)
    for start in range(0, replicates, block):
        rows = min(block, replicates - start)
        # The block's uniforms, then in place its keys u / w (step 3): the same
        # numbers as a fresh array, one pass over them for the division.
        keys = buffer[: rows * n].reshape(rows, n)
        rng.random(out=keys)
        np.divide(keys, county.weights, out=keys)
        for _, pos, taken, done in _resolved(keys, county, rules):
            at = taken.at[np.flatnonzero(done[taken.at // pos.shape[1]])]
            times += np.bincount(pos.reshape(-1)[at], minlength=n)
    p = (times + 1) / (replicates + 1)
    return p, np.sqrt(p * (1 - p) / replicates)


# Each thread keeps its uniforms' buffer from one county to the next: a fresh
# (R, C) array per county (16 MB for 100 candidates) is often fresh memory from
# the kernel, and its page faults cost 0.4-1.1 s of system time over the
# national step 6 (0.2-0.5 s with the buffer kept).
_buffers = threading.local()


def _buffer(size: int) -> Floats:
    """``size`` doubles of this thread's buffer, grown when too small (one block's worth)."""
    buffer: Floats | None = getattr(_buffers, "doubles", None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size)
        _buffers.doubles = buffer
    return buffer[:size]


def method_record(replicates: int) -> dict[str, object]:
    """What the certificate says about step 6, so a reviewer can re-derive it."""
    return {
        "method": METHOD,
        "replicates": replicates,
        "generator": GENERATOR,
        "numpy": np.__version__,
        "seeding": 'PCG64(int.from_bytes(sha256(f"{seed}:pi:{county_code}").digest()[:8], "big"))',
        "uniforms": "Generator.random((R, candidates)), candidates in ascending village_code",
        "estimator": "(times selected + 1) / (R + 1); se = sqrt(p * (1 - p) / R)",
    }


__all__ = ["GENERATOR", "METHOD", "County", "Rules", "Walk", "inclusion", "method_record", "walk"]
