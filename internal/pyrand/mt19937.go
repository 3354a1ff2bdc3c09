// Package pyrand holds bit-exact Go ports of the pseudo-random machinery that
// the upstream Python trace generator (gen_trace.py) relies on: CPython 3.11's
// random.Random (Lib/random.py, Modules/_randommodule.c) and NumPy 1.24.2's
// legacy numpy.random.RandomState (MT19937 bit generator plus the legacy
// distributions). It holds only what upstream compatibility needs; it is not
// a general-purpose random library.
//
// There is no package-level state: every generator is constructed explicitly
// with NewRandom or NewRandomState and passed to the code that draws from it.
//
// Floating point: the ports evaluate every expression in the same order and
// with the same IEEE-754 double roundings as the C/Python sources. Explicit
// float64 conversions are used wherever Go would otherwise be allowed to fuse
// x*y+z into an FMA (arm64, ppc64, s390x, GOAMD64=v3), because the reference
// builds do not contract. Transcendental functions come from Go's math
// package; see the comment on logf for why that is safe.
package pyrand

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// MT19937 is the 32-bit Mersenne Twister (624-word state) shared by
// CPython's random module and NumPy's MT19937 bit generator. Both produce
// identical output words from identical states.
//
// The zero value is usable and behaves like the reference implementation's
// unseeded generator (init_genrand(5489)); normally an MT19937 is obtained
// embedded in a Random or RandomState, or from NewMT19937.
type MT19937 struct {
	mt     [mtN]uint32
	left   int  // words left before the next twist; the next word is mt[mtN-left]
	seeded bool // false only for the zero value
}

// NewMT19937 returns a generator initialised with init_genrand(seed) from the
// reference mt19937ar.c (identical to NumPy 1.24's mt19937_seed).
func NewMT19937(seed uint32) *MT19937 {
	m := &MT19937{}
	m.initGenrand(seed)
	return m
}

// initGenrand ports init_genrand (CPython 3.11 Modules/_randommodule.c) and
// mt19937_seed (NumPy 1.24 numpy/random/src/mt19937/mt19937.c).
func (m *MT19937) initGenrand(s uint32) {
	m.mt[0] = s
	for i := 1; i < mtN; i++ {
		prev := m.mt[i-1]
		m.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.left = 0 // mti = N: twist before the first output
	m.seeded = true
}

// initByArray ports init_by_array from CPython 3.11 Modules/_randommodule.c.
func (m *MT19937) initByArray(key []uint32) {
	m.initGenrand(19650218)
	mt := &m.mt
	i, j := 1, 0
	k := mtN
	if len(key) > k {
		k = len(key)
	}
	for ; k > 0; k-- {
		prev := mt[i-1]
		mt[i] = (mt[i] ^ ((prev ^ (prev >> 30)) * 1664525)) + key[j] + uint32(j) // non linear
		i++
		j++
		if i >= mtN {
			mt[0] = mt[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = mtN - 1; k > 0; k-- {
		prev := mt[i-1]
		mt[i] = (mt[i] ^ ((prev ^ (prev >> 30)) * 1566083941)) - uint32(i) // non linear
		i++
		if i >= mtN {
			mt[0] = mt[mtN-1]
			i = 1
		}
	}
	mt[0] = 0x80000000 // MSB is 1; assuring non-zero initial array
	m.left = 0
	m.seeded = true
}

// twist regenerates the 624-word block (the "generate N words at one time"
// part of genrand_uint32 / NumPy's mt19937_gen).
func (m *MT19937) twist() {
	if !m.seeded {
		m.initGenrand(5489)
	}
	mt := &m.mt
	var kk int
	for kk = 0; kk < mtN-mtM; kk++ {
		y := (mt[kk] & mtUpperMask) | (mt[kk+1] & mtLowerMask)
		mt[kk] = mt[kk+mtM] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	for ; kk < mtN-1; kk++ {
		y := (mt[kk] & mtUpperMask) | (mt[kk+1] & mtLowerMask)
		mt[kk] = mt[kk+(mtM-mtN)] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	y := (mt[mtN-1] & mtUpperMask) | (mt[0] & mtLowerMask)
	mt[mtN-1] = mt[mtM-1] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	m.left = mtN
}

// Uint32 returns the next tempered 32-bit output word. It ports
// genrand_uint32 from CPython 3.11 Modules/_randommodule.c, which is the same
// function as NumPy 1.24's mt19937_next32 (numpy/random/src/mt19937).
func (m *MT19937) Uint32() uint32 {
	if m.left == 0 {
		m.twist()
	}
	y := m.mt[mtN-m.left]
	m.left--
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// uint64BigEndian ports NumPy 1.24's mt19937_next64: the first 32-bit word
// drawn becomes the HIGH half, the second the low half
// ((uint64_t)mt19937_next(state) << 32 | mt19937_next(state), evaluated left
// to right by the reference GCC build).
func (m *MT19937) uint64BigEndian() uint64 {
	hi := m.Uint32()
	lo := m.Uint32()
	return uint64(hi)<<32 | uint64(lo)
}

// double53 ports CPython 3.11 random_random and NumPy 1.24 mt19937_next_double
// / legacy_double: two words, a = w1>>5 (27 bits), b = w2>>6 (26 bits),
// (a*2^26 + b) / 2^53. a*2^26 + b < 2^53 is exact, so no rounding (and no FMA
// hazard) is involved; multiplying by 2^-53 equals dividing by 2^53.
func (m *MT19937) double53() float64 {
	a := m.Uint32() >> 5
	b := m.Uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}
