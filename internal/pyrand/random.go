package pyrand

import (
	"fmt"
	"math"
	"math/bits"
)

// nvMagicConst is random.NV_MAGICCONST = 4 * exp(-0.5) / sqrt(2.0) as
// computed by CPython 3.11 with glibc (0x1.b72cd3f331398p+0 =
// 1.7155277699214135). Go's math.Exp/math.Sqrt happen to give the same bits
// on amd64, but the value is pinned (an exact hex literal, bits
// 0x3ffb72cd3f331398) so the port does not depend on that.
const nvMagicConst = 0x1.b72cd3f331398p+0

// Random ports CPython 3.11's random.Random: the MT19937 core of
// Modules/_randommodule.c plus the pure-Python methods of Lib/random.py that
// gen_trace.py uses. The embedded MT19937 exposes the raw output words.
type Random struct {
	MT19937
}

// NewRandom returns a generator in the state produced by CPython 3.11
// random.seed(seed) (random_seed in Modules/_randommodule.c) for a
// non-negative int: init_by_array with the 32-bit words of |seed|, least
// significant first; seed 0 gives key [0]; the key has one word when
// seed < 2^32 and two otherwise.
func NewRandom(seed uint64) *Random {
	r := &Random{}
	if seed>>32 == 0 {
		r.initByArray([]uint32{uint32(seed)})
	} else {
		r.initByArray([]uint32{uint32(seed), uint32(seed >> 32)})
	}
	return r
}

// Random ports CPython 3.11 random.random() (random_random in
// Modules/_randommodule.c): (a*67108864 + b) / 2^53 with a = w1>>5, b = w2>>6.
// It consumes two Uint32 words.
func (r *Random) Random() float64 {
	return r.double53()
}

// GetRandBits ports CPython 3.11 random.getrandbits(k)
// (_random_Random_getrandbits_impl in Modules/_randommodule.c) for
// 0 < k <= 64. For k <= 32 it returns w>>(32-k) from one word. For k > 32 the
// words fill the integer from least to most significant and the LAST word
// drawn is truncated to its top k-32 bits: result = (w2>>(64-k))<<32 | w1.
// It panics if k is outside 1..64.
func (r *Random) GetRandBits(k int) uint64 {
	if k < 1 || k > 64 {
		panic(fmt.Sprintf("pyrand: GetRandBits(%d): k must be in 1..64", k))
	}
	if k <= 32 {
		return uint64(r.Uint32() >> (32 - k))
	}
	lo := r.Uint32()
	hi := r.Uint32() >> (64 - k)
	return uint64(hi)<<32 | uint64(lo)
}

// RandBelow ports CPython 3.11 Random._randbelow_with_getrandbits(n)
// (Lib/random.py): k = n.bit_length(); r = getrandbits(k), redrawn while
// r >= n. For n == 0 it returns 0 without drawing (CPython 3.11 itself would
// loop forever there, but none of its callers pass 0).
func (r *Random) RandBelow(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	k := bits.Len64(n)
	v := r.GetRandBits(k)
	for v >= n {
		v = r.GetRandBits(k)
	}
	return v
}

// randBelow2to64 is _randbelow(2**64): getrandbits(65) (three words, the
// third reduced to its top bit) redrawn until bit 64 is clear.
func (r *Random) randBelow2to64() uint64 {
	for {
		lo := r.Uint32()
		hi := r.Uint32()
		top := r.Uint32() >> 31
		if top == 0 {
			return uint64(hi)<<32 | uint64(lo)
		}
	}
}

// Randint ports CPython 3.11 random.randint(a, b) = randrange(a, b+1)
// (Lib/random.py), i.e. a + _randbelow(b - a + 1). It panics if b < a, where
// CPython raises ValueError("empty range for randrange()").
func (r *Random) Randint(a, b int64) int64 {
	if b < a {
		panic(fmt.Sprintf("pyrand: Random.Randint(%d, %d): empty range", a, b))
	}
	width := uint64(b) - uint64(a) + 1 // exact modulo 2^64; 0 means 2^64
	var v uint64
	if width == 0 {
		v = r.randBelow2to64()
	} else {
		v = r.RandBelow(width)
	}
	return int64(uint64(a) + v)
}

// Shuffle ports CPython 3.11 random.shuffle(x) (Lib/random.py) for a list of
// length n: for i in reversed(range(1, n)): j = _randbelow(i+1); swap x[i],
// x[j]. swap is called for every i, including when i == j. Like the Python
// version it draws even if the caller ignores the result. It panics if n < 0.
func (r *Random) Shuffle(n int, swap func(i, j int)) {
	if n < 0 {
		panic("pyrand: Random.Shuffle: negative length")
	}
	for i := n - 1; i >= 1; i-- {
		j := int(r.RandBelow(uint64(i) + 1))
		swap(i, j)
	}
}

// NormalVariate ports CPython 3.11 random.normalvariate(mu, sigma)
// (Lib/random.py, Kinderman–Monahan):
//
//	loop { u1 = random(); u2 = 1.0 - random()
//	       z = NV_MAGICCONST*(u1-0.5)/u2; zz = z*z/4.0
//	       if zz <= -log(u2) break }
//	return mu + z*sigma
//
// Each loop iteration consumes four Uint32 words.
func (r *Random) NormalVariate(mu, sigma float64) float64 {
	var z float64
	for {
		u1 := r.Random()
		u2 := 1.0 - r.Random()
		z = nvMagicConst * (u1 - 0.5) / u2
		zz := z * z / 4.0
		if zz <= -logf(u2) {
			break
		}
	}
	return mu + float64(z*sigma)
}

// logf and expf stand for the C library's log and exp. Go's math.Log/math.Exp
// are faithfully rounded and differ from glibc by one ulp for a few percent
// of arguments (glibc is itself not correctly rounded and, on x86-64, picks
// an FMA or an SSE2 variant at run time, so its last bit is CPU dependent).
// In every port in this package their results only feed comparisons
// (normalvariate's acceptance test, Poisson's exp(-lam) threshold and PTRS
// acceptance test) and never reach an output value, so a one-ulp difference
// can only change a result when the two compared quantities are within an ulp
// of each other, which has probability ~1e-16 per test (a few ulps of
// lam*log(lam) in PTRS).
//
// Go's amd64 math.Log is wrong for subnormal arguments (log(5e-324) gives
// -709.09 instead of -744.44), so those are rescaled first. The ports never
// pass one (u2 >= 2^-53, V is 0 or >= 2^-53, lam >= 10 in PTRS); the guard
// keeps logf a faithful stand-in for C's log anyway.
func logf(x float64) float64 {
	if x > 0 && x < 0x1p-1022 {
		return math.Log(x*0x1p54) - 54*math.Ln2
	}
	return math.Log(x)
}

func expf(x float64) float64 { return math.Exp(x) }
