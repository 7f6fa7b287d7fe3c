// Go's net servers for `make bench` (echo, hello, keepalive), answering as node-net-server.js
// and c-epoll-server.c do: a goroutine per connection on Go's own epoll netpoller. Pinned to one
// core by the bench (taskset), Go's runtime sees one CPU (GOMAXPROCS=1).
//
// usage: go-net-server <echo|hello|keepalive>   prints "ready <port>" (127.0.0.1, a free port)
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
)

var hello10 = []byte("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!")
var hello11 = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!")
var headEnd = []byte("\r\n\r\n")

func echo(c net.Conn) {
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// heads reads request heads ("\r\n\r\n"-terminated) and answers each; hello answers one, then closes.
func heads(c net.Conn, once bool) {
	r := bufio.NewReaderSize(c, 16*1024)
	var pending []byte
	buf := make([]byte, 16*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			count := 0
			for {
				i := bytes.Index(pending, headEnd)
				if i < 0 {
					break
				}
				pending = pending[i+4:]
				count++
			}
			if count > 0 && once {
				c.Write(hello10)
				return
			}
			for ; count > 0; count-- {
				if _, werr := c.Write(hello11); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-net-server <echo|hello|keepalive>")
		os.Exit(2)
	}
	mode := os.Args[1]
	if mode != "echo" && mode != "hello" && mode != "keepalive" {
		fmt.Fprintf(os.Stderr, "mode must be echo, hello or keepalive, got %s\n", mode)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0") // loopback only
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ready %d\n", ln.Addr().(*net.TCPAddr).Port)
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			switch mode {
			case "echo":
				echo(c)
			case "hello":
				heads(c, true)
			default:
				heads(c, false)
			}
		}(c)
	}
}
