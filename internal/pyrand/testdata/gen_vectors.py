# gen_vectors.py - reference vectors for trenv-bench/internal/pyrand.
#
# Produced with the exact interpreter and NumPy that made the project's golden
# files: Debian's /usr/bin/python3 (CPython 3.11.2) with python3-numpy 1.24.2.
# Do NOT use a python3 without NumPy 1.24.2 (e.g. a pyenv build on PATH).
#
# Run from anywhere:
#
#     /usr/bin/python3 internal/pyrand/testdata/gen_vectors.py
#
# It (re)writes, next to this script:
#
#     python_vectors.json  CPython random.Random programs
#     numpy_vectors.json   NumPy legacy RandomState programs
#     log_vectors.json     glibc log(u) for u = 1.0 - random() (normalvariate's u2)
#
# A program is {"seed": s, "ops": [...]}: a generator freshly seeded with s
# runs the ops in order, so every op also pins how many words the previous
# ones consumed; each op also records "draws", the number of 32-bit MT19937
# words it consumed (found by stepping a copy of the prior state until it
# equals the state after the op). Floats are float.hex() strings; integers are
# JSON numbers.
# The Go tests (vectors_test.go) replay the programs without Python.

import json
import math
import os
import random
import sys

import numpy as np

assert sys.version_info[:2] == (3, 11), sys.version
assert np.__version__ == "1.24.2", np.__version__

HERE = os.path.dirname(os.path.abspath(__file__))

PY_SEEDS = [2022310806, 0, 1, 4294967295, 2**32, 2**32 + 5, 2**40 + 123, 2**64 - 1]
NP_SEEDS = [2022310806, 0, 1, 4294967295]


def hx(x):
    return float(x).hex()


# --- CPython random.Random -------------------------------------------------


def py_op(r, op):
    kind = op["op"]
    if kind == "uint32":
        return [r.getrandbits(32) for _ in range(op["n"])]
    if kind == "random":
        return [hx(r.random()) for _ in range(op["n"])]
    if kind == "getrandbits":
        return [r.getrandbits(op["k"]) for _ in range(op["n"])]
    if kind == "randbelow":
        return [r._randbelow(op["m"]) for _ in range(op["n"])]
    if kind == "randint":
        return [r.randint(op["a"], op["b"]) for _ in range(op["n"])]
    if kind == "shuffle":
        x = list(range(op["len"]))
        r.shuffle(x)
        return x
    if kind == "normalvariate":
        return [hx(r.normalvariate(op["mu"], op["sigma"])) for _ in range(op["n"])]
    raise ValueError(kind)


def py_program(seed, ops):
    r = random.Random(seed)
    g = random.Random()
    g.seed(seed)  # random.seed(seed) path: must be the same state
    assert r.getstate() == g.getstate()
    for op in ops:
        before = r.getstate()
        op["out"] = py_op(r, op)
        op["draws"] = py_draws(before, r.getstate())
    return {"seed": seed, "ops": ops}


def py_draws(before, after):
    """Number of genrand_uint32 words that turn state before into after."""
    c = random.Random()
    c.setstate(before)
    n = 0
    while c.getstate() != after:
        c.getrandbits(32)
        n += 1
        assert n < 100000
    return n


def nxt(n=2):
    return {"op": "random", "n": n}


def python_programs():
    progs = []
    for s in PY_SEEDS:
        progs.append(py_program(s, [{"op": "uint32", "n": 20}, nxt()]))
        progs.append(py_program(s, [{"op": "random", "n": 20}]))
        for k in (1, 5, 31, 32, 33, 63, 64):
            progs.append(py_program(s, [{"op": "getrandbits", "k": k, "n": 6}, nxt()]))
    for s in PY_SEEDS[:5]:
        for n in (0, 1, 2, 7, 59, 60, 400, 1000, 2**31, 2**40):
            progs.append(py_program(s, [{"op": "randint", "a": 0, "b": n, "n": 8}, nxt()]))
        for m in (1, 3, 4, 5, 2**32 - 1, 2**32, 2**32 + 1, 2**63, 2**64 - 1):
            progs.append(py_program(s, [{"op": "randbelow", "m": m, "n": 5}, nxt()]))
        progs.append(py_program(s, [
            {"op": "randint", "a": -5, "b": 5, "n": 6},
            {"op": "randint", "a": -(2**63), "b": -(2**63) + 10, "n": 4},
            {"op": "randint", "a": 2**62, "b": 2**63 - 1, "n": 4},
            {"op": "randint", "a": -(2**63), "b": 2**63 - 1, "n": 4},
            nxt(),
        ]))
        for length in (0, 1, 2, 3, 11, 17, 60, 100):
            progs.append(py_program(s, [{"op": "shuffle", "len": length}, nxt()]))
        for mu, sigma in ((25, 3), (200, 20), (4, 1), (0.0, 1.0), (-3.5, 0.25), (1e6, 1e3)):
            progs.append(py_program(s, [{"op": "normalvariate", "mu": mu, "sigma": sigma, "n": 12}, nxt()]))
    # gen_trace-like interleavings: W1's unused shuffle, then normalvariate
    # bursts; the even splitter's 59 randint(0, n) per minute.
    for s in (2022310806, 0):
        progs.append(py_program(s, [
            {"op": "shuffle", "len": 11},
            {"op": "normalvariate", "mu": 25, "sigma": 3, "n": 5},
            {"op": "normalvariate", "mu": 200, "sigma": 20, "n": 5},
            {"op": "normalvariate", "mu": 4, "sigma": 1, "n": 5},
            {"op": "shuffle", "len": 5},
            {"op": "normalvariate", "mu": 25, "sigma": 3, "n": 5},
            nxt(),
        ]))
        ops = []
        for n in (0, 1, 7, 59, 60, 61, 400, 1000, 123456):
            ops.append({"op": "randint", "a": 0, "b": n, "n": 59})
        ops.append(nxt())
        progs.append(py_program(s, ops))
    return progs


# --- NumPy legacy RandomState ----------------------------------------------


def np_op(rs, op):
    kind = op["op"]
    if kind == "uint32":
        return [int(v) for v in rs._bit_generator.random_raw(op["n"])]
    if kind == "random_sample":
        return [hx(v) for v in rs.random_sample(op["n"])]
    if kind == "poisson":  # np.random.poisson(lam, n)
        out = rs.poisson(op["lam"], op["n"])
        assert out.dtype == np.int64
        return [int(v) for v in out]
    if kind == "poisson1":  # n scalar calls np.random.poisson(lam)
        return [int(rs.poisson(op["lam"])) for _ in range(op["n"])]
    if kind == "randint":  # n scalar calls np.random.randint(low, high)
        out = []
        for _ in range(op["n"]):
            v = rs.randint(op["low"], op["high"])
            assert isinstance(v, int) or v.dtype == np.int64
            out.append(int(v))
        return out
    raise ValueError(kind)


def np_program(seed, ops):
    rs = np.random.RandomState(seed)
    np.random.seed(seed)  # the global np.random.seed path gen_trace uses
    a, b = rs.get_state(), np.random.get_state()
    assert a[0] == b[0] and (a[1] == b[1]).all() and a[2:] == b[2:]
    for op in ops:
        before = rs.get_state()
        op["out"] = np_op(rs, op)
        op["draws"] = np_draws(before, rs.get_state())
    return {"seed": seed, "ops": ops}


def np_draws(before, after):
    """Number of mt19937_next32 words that turn state before into after."""
    c = np.random.RandomState()
    c.set_state(before)
    n = 0
    while True:
        s = c.get_state()
        if s[2] == after[2] and (s[1] == after[1]).all():
            return n
        c._bit_generator.random_raw(1)
        n += 1
        assert n < 100000


def nxs(n=2):
    return {"op": "random_sample", "n": n}


def numpy_programs():
    progs = []
    for s in NP_SEEDS:
        progs.append(np_program(s, [{"op": "uint32", "n": 20}, nxs()]))
        progs.append(np_program(s, [{"op": "random_sample", "n": 20}]))
        progs.append(np_program(s, [{"op": "poisson", "lam": 0.1, "n": 600}, nxs()]))
        for lam in (0.0, 0.5, 3.0, 9.99, 10.0, 25.0, 1000.0):
            progs.append(np_program(s, [{"op": "poisson", "lam": lam, "n": 100}, nxs()]))
        progs.append(np_program(s, [{"op": "poisson1", "lam": 12.5, "n": 20}, nxs()]))
        for low, high in ((0, 60), (0, 1), (5, 6), (0, 2), (0, 2**32), (0, 2**32 + 1), (0, 2**33),
                          (-7, 3), (-(2**63), 2**63 - 1), (-(2**63), -(2**63) + 3)):
            progs.append(np_program(s, [{"op": "randint", "low": low, "high": high, "n": 12}, nxs()]))
    # several poisson(0.1, 600) sequences and many randint(0, 60) from one state
    progs.append(np_program(2022310806, [{"op": "poisson", "lam": 0.1, "n": 600} for _ in range(6)] + [nxs()]))
    progs.append(np_program(2022310806, [{"op": "randint", "low": 0, "high": 60, "n": 1000}, nxs()]))
    # a larger PTRS sample
    progs.append(np_program(1, [{"op": "poisson", "lam": 25.0, "n": 2000}, {"op": "poisson", "lam": 1e6, "n": 300}, nxs()]))
    # gen_trace's skew splitter: poisson(0.1, 600) then randint(0, 60) repeats
    for s in (2022310806, 0):
        ops = []
        for i in range(12):
            ops.append({"op": "poisson", "lam": 0.1, "n": 600})
            ops.append({"op": "randint", "low": 0, "high": 60, "n": 1 + (i * 7) % 13})
        ops.append(nxs())
        progs.append(np_program(s, ops))
    return progs


def log_vectors():
    r = random.Random(2022310806)
    us = [1.0 - r.random() for _ in range(800)]
    us += [float(2.0**-e) for e in range(1, 54)] + [5e-324, 1e-300, 0.5 + 2**-53, 1.0 - 2**-53]
    return {"log": [[hx(u), hx(math.log(u))] for u in us],
            "exp_neg": [[hx(l), hx(math.exp(-l))] for l in (0.1, 0.5, 3.0, 9.99, 1.0, 2.5)]}


def write(name, progs):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(p, separators=(",", ":")) for p in progs))
        f.write("\n]\n")
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    write("python_vectors.json", python_programs())
    write("numpy_vectors.json", numpy_programs())
    path = os.path.join(HERE, "log_vectors.json")
    with open(path, "w") as f:
        json.dump(log_vectors(), f, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), "bytes")
