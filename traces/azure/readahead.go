package azure

import (
	"io"
)

// Read-ahead of decompressed input: a goroutine decompresses the next chunks
// while the reader parses the current one, so that .gz and .xz inputs use
// both cores.
const (
	readAheadChunk  = 1 << 20 // bytes per chunk
	readAheadChunks = 4       // chunks in flight (decompressed, not yet parsed)
)

// readAhead reads src on its own goroutine, readAheadChunks chunks ahead.
// Close stops the goroutine and waits for it; it must be called before src
// is closed.
type readAhead struct {
	src   io.Reader
	full  chan chunk  // filled chunks, in order
	empty chan []byte // buffers to fill
	stop  chan struct{}
	done  chan struct{}
	cur   []byte // unread part of the current chunk
	buf   []byte // the current chunk's buffer
	err   error  // error after the current chunk
}

type chunk struct {
	b   []byte
	err error // error after b (io.EOF at the end)
}

func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{
		src:   src,
		full:  make(chan chunk, readAheadChunks),
		empty: make(chan []byte, readAheadChunks),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for range readAheadChunks {
		ra.empty <- make([]byte, readAheadChunk)
	}
	go ra.loop()
	return ra
}

// loop fills buffers until an error (io.EOF included) or Close.
func (ra *readAhead) loop() {
	defer close(ra.done)
	for {
		var buf []byte
		select {
		case buf = <-ra.empty:
		case <-ra.stop:
			return
		}
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = ra.src.Read(buf[n:])
			n += k
		}
		select {
		case ra.full <- chunk{buf[:n], err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.buf != nil {
			ra.empty <- ra.buf[:cap(ra.buf)] // never blocks: the channel holds every buffer
			ra.buf = nil
		}
		if ra.err != nil {
			return 0, ra.err
		}
		c := <-ra.full
		ra.cur, ra.buf, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the read-ahead goroutine and waits for it to return.
func (ra *readAhead) Close() error {
	select {
	case <-ra.stop:
	default:
		close(ra.stop)
	}
	<-ra.done
	return nil
}
