package pyrand

import "testing"

func BenchmarkPoisson(b *testing.B) {
	for _, bc := range []struct {
		name string
		lam  float64
	}{{"lam=0.1", 0.1}, {"lam=3", 3}, {"lam=25/PTRS", 25}, {"lam=1000/PTRS", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			s := NewRandomState(defaultSeed)
			for b.Loop() {
				s.Poisson(bc.lam)
			}
		})
	}
}

// BenchmarkPoissonN is the skew splitter's np.random.poisson(0.1, 600).
func BenchmarkPoissonN(b *testing.B) {
	s := NewRandomState(defaultSeed)
	buf := make([]int64, 0, 600)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.PoissonN(0.1, 600, buf[:0])
	}
}

func BenchmarkRandomStateRandint(b *testing.B) {
	s := NewRandomState(defaultSeed)
	for b.Loop() {
		s.Randint(0, 60)
	}
}

func BenchmarkRandomRandint(b *testing.B) {
	r := NewRandom(defaultSeed)
	for b.Loop() {
		r.Randint(0, 1000)
	}
}

func BenchmarkNormalVariate(b *testing.B) {
	r := NewRandom(defaultSeed)
	for b.Loop() {
		r.NormalVariate(25, 3)
	}
}
