package pyrand

import (
	"fmt"
	"math"
)

// poissonLamMax is NumPy 1.24's POISSON_LAM_MAX (numpy/random/_common.pyx):
// np.iinfo('l').max - np.sqrt(np.iinfo('l').max)*10 = 9.223372006484771e+18,
// pinned as an exact hex literal.
const poissonLamMax = 0x1.ffffffe3b73a0p+62

// RandomState ports NumPy 1.24.2's legacy numpy.random.RandomState: the
// MT19937 bit generator seeded by _legacy_seeding plus the legacy
// distributions gen_trace.py uses. The embedded MT19937 exposes the raw
// output words.
type RandomState struct {
	MT19937
}

// NewRandomState returns a generator in the state produced by NumPy 1.24
// RandomState(seed) / np.random.seed(seed) for an integer seed
// (_MT19937._legacy_seeding -> mt19937_seed, i.e. init_genrand(seed); not
// init_by_array).
func NewRandomState(seed uint32) *RandomState {
	s := &RandomState{}
	s.initGenrand(seed)
	return s
}

// RandomSample ports NumPy 1.24 RandomState.random_sample() for one value
// (legacy_double -> mt19937_next_double): the same two-word 53-bit
// construction as CPython's random().
func (s *RandomState) RandomSample() float64 {
	return s.double53()
}

func checkPoissonLam(lam float64) {
	// Mirrors check_constraint(..., CONS_POISSON) in numpy/random/_common.pyx.
	if lam > poissonLamMax {
		panic(fmt.Sprintf("pyrand: Poisson(%v): lam value too large", lam))
	}
	if !(lam >= 0) {
		panic(fmt.Sprintf("pyrand: Poisson(%v): lam < 0 or lam is NaN", lam))
	}
}

// Poisson ports NumPy 1.24 RandomState.poisson(lam) for one value:
// legacy_random_poisson, which in 1.24 is just random_poisson from
// numpy/random/src/distributions/distributions.c. lam == 0 gives 0 without
// drawing; lam < 10 uses the multiplication method (random_poisson_mult);
// lam >= 10 uses Hörmann's PTRS transformed rejection (random_poisson_ptrs).
// Where NumPy raises ValueError (lam < 0, NaN, lam > POISSON_LAM_MAX) this
// panics; callers are expected to validate.
func (s *RandomState) Poisson(lam float64) int64 {
	checkPoissonLam(lam)
	return s.poisson(lam)
}

// PoissonN ports np.random.poisson(lam, n) (RandomState.poisson with
// size=n): n successive legacy_random_poisson draws, appended to out.
func (s *RandomState) PoissonN(lam float64, n int, out []int64) []int64 {
	checkPoissonLam(lam)
	if n < 0 {
		panic("pyrand: PoissonN: negative n")
	}
	out = growInt64(out, n)
	switch {
	case lam >= 10:
		p := newPTRS(lam)
		for i := 0; i < n; i++ {
			out = append(out, s.poissonPTRS(&p))
		}
	case lam == 0:
		for i := 0; i < n; i++ {
			out = append(out, 0)
		}
	default:
		enlam := expf(-lam)
		for i := 0; i < n; i++ {
			out = append(out, s.poissonMult(enlam))
		}
	}
	return out
}

func growInt64(out []int64, n int) []int64 {
	if cap(out)-len(out) < n {
		grown := make([]int64, len(out), len(out)+n)
		copy(grown, out)
		out = grown
	}
	return out
}

// poisson is random_poisson (NumPy 1.24 distributions.c).
func (s *RandomState) poisson(lam float64) int64 {
	if lam >= 10 {
		p := newPTRS(lam)
		return s.poissonPTRS(&p)
	} else if lam == 0 {
		return 0
	}
	return s.poissonMult(expf(-lam))
}

// poissonMult is random_poisson_mult with enlam = exp(-lam) precomputed.
func (s *RandomState) poissonMult(enlam float64) int64 {
	var x int64
	prod := 1.0
	for {
		prod *= s.double53()
		if prod > enlam {
			x++
		} else {
			return x
		}
	}
}

// ptrs holds the per-lam setup of random_poisson_ptrs.
type ptrs struct {
	lam, loglam, a, b, invalpha, vr float64
}

func newPTRS(lam float64) ptrs {
	slam := math.Sqrt(lam) // correctly rounded in both Go and C
	b := 0.931 + float64(2.53*slam)
	return ptrs{
		lam:      lam,
		loglam:   logf(lam),
		b:        b,
		a:        -0.059 + float64(0.02483*b),
		invalpha: 1.1239 + 1.1328/(b-3.4),
		vr:       0.9277 - 3.6224/(b-2),
	}
}

// poissonPTRS is the loop of random_poisson_ptrs (W. Hörmann, "The
// transformed rejection method for generating Poisson random variables",
// 1993) as in NumPy 1.24 distributions.c. Each iteration draws two doubles.
func (s *RandomState) poissonPTRS(p *ptrs) int64 {
	for {
		u := s.double53() - 0.5
		v := s.double53()
		us := 0.5 - math.Abs(u)
		k := int64(math.Floor(float64((2*p.a/us+p.b)*u) + p.lam + 0.43))
		if us >= 0.07 && v <= p.vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		// log(V) == log(0.0) is fine here (-Inf always accepts).
		lhs := logf(v) + logf(p.invalpha) - logf(p.a/(us*us)+p.b)
		rhs := -p.lam + float64(float64(k)*p.loglam) - loggam(float64(k+1))
		if lhs <= rhs {
			return k
		}
	}
}

// loggam ports random_loggam (NumPy 1.24 distributions.c; SPECFUN algorithm
// of Zhang & Jin).
func loggam(x float64) float64 {
	// Stirling-series coefficients a[0..9] of random_loggam.
	loggamCoef := [10]float64{
		8.333333333333333e-02, -2.777777777777778e-03,
		7.936507936507937e-04, -5.952380952380952e-04,
		8.417508417508418e-04, -1.917526917526918e-03,
		6.410256410256410e-03, -2.955065359477124e-02,
		1.796443723688307e-01, -1.39243221690590e+00,
	}
	if x == 1.0 || x == 2.0 {
		return 0.0
	}
	var n int64
	if x < 7.0 {
		n = int64(7 - x)
	}
	x0 := x + float64(n)
	x2 := (1.0 / x0) * (1.0 / x0)
	const lg2pi = 1.8378770664093453e+00 // log(2*pi)
	gl0 := loggamCoef[9]
	for k := 8; k >= 0; k-- {
		gl0 = float64(gl0*x2) + loggamCoef[k]
	}
	gl := gl0/x0 + 0.5*lg2pi + float64((x0-0.5)*logf(x0)) - x0
	if x < 7.0 {
		for k := int64(1); k <= n; k++ {
			gl -= logf(x0 - 1.0)
			x0 -= 1.0
		}
	}
	return gl
}

// Randint ports NumPy 1.24 RandomState.randint(low, high) for scalar
// arguments and the default int64 dtype (_rand_int64 in
// _bounded_integers.pyx with masked=True, endpoint=False, then
// random_bounded_uint64_fill in distributions.c): rng = high-low-1; rng == 0
// returns low without drawing; rng <= 0xFFFFFFFF draws 32-bit words ANDed with
// the smallest all-ones mask >= rng until <= rng (buffered_bounded_masked_uint32;
// rng == 0xFFFFFFFF takes one plain word); larger ranges do the same with
// 64-bit values built as (w1<<32)|w2 (bounded_masked_uint64 / mt19937_next64;
// rng == 2^64-1 takes one plain 64-bit value). It panics if high <= low,
// where NumPy raises ValueError("low >= high").
func (s *RandomState) Randint(low, high int64) int64 {
	if high <= low {
		panic(fmt.Sprintf("pyrand: RandomState.Randint(%d, %d): low >= high", low, high))
	}
	rng := uint64(high) - uint64(low) - 1 // exact modulo 2^64
	off := uint64(low)
	if rng == 0 {
		return low
	}
	mask := genMask(rng)
	if rng <= 0xFFFFFFFF {
		m32, r32 := uint32(mask), uint32(rng)
		for {
			if v := s.Uint32() & m32; v <= r32 {
				return int64(off + uint64(v))
			}
		}
	}
	for {
		if v := s.uint64BigEndian() & mask; v <= rng {
			return int64(off + v)
		}
	}
}

// genMask ports gen_mask (NumPy 1.24 distributions.c): the smallest
// 2^k-1 >= max.
func genMask(max uint64) uint64 {
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	mask |= mask >> 32
	return mask
}
