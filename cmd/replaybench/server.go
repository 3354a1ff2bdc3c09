package main

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
)

// The no-delay server is a minimal HTTP/1.1 responder over keep-alive
// connections, not net/http: on a 2-core machine a net/http server costs
// more CPU per request than the client under test and caps a closed loop
// of Go clients at about 17,600 req/s, which would measure the server.
// It reads a request's head and its Content-Length body and answers at
// once:
//
//	POST /invoke/<fn>         200 {"latency":0.0}
//	GET /system/metrics       200 a faasd metrics text (invoke-count 0)
//	anything else             200, empty body (DELETE /system/metrics, /healthz)
//
// It understands neither chunked bodies nor Connection: close (the
// clients under test send neither).
var (
	respInvoke  = []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"latency\":0.0}")
	metricsText = "Metrics:\n{\"label\":\"invoke-count\",\"data\":0}"
	respMetrics = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(metricsText)) + "\r\n\r\n" + metricsText)
	respEmpty = []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
)

// serve accepts connections on ln until it is closed.
func serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveConn(c)
	}
}

var contentLength = []byte("content-length:")

func serveConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 8192)
	w := bufio.NewWriterSize(c, 8192)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		resp := respEmpty
		switch {
		case bytes.HasPrefix(line, []byte("POST /invoke/")):
			resp = respInvoke
		case bytes.HasPrefix(line, []byte("GET /system/metrics")):
			resp = respMetrics
		}
		n := 0
		for {
			line, err = r.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 { // the blank line ending the head
				break
			}
			if len(line) > len(contentLength) && bytes.EqualFold(line[:len(contentLength)], contentLength) {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(line[len(contentLength):])))
			}
		}
		if n > 0 {
			if _, err := r.Discard(n); err != nil {
				return
			}
		}
		w.Write(resp)
		if r.Buffered() == 0 { // nothing pipelined behind: send now
			if w.Flush() != nil {
				return
			}
		}
	}
}
