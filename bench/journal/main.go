// Command journal is the benchmark's durable reference server: it reads
// each request body, appends it to one file, and answers 200 only after an
// fsync has covered it (SQLite's modernc build syncs with fsync too). Requests that arrive while a sync runs share the
// next one (group commit), as in waorders. It parses nothing, indexes
// nothing and never reads the file back: what it sustains on a machine is
// the most any service that acknowledges only durable data can reach there,
// on that disk, and its latency at a fixed rate is bounded below by the
// disk's fsync.
//
// On SIGTERM or SIGINT it prints the fsync latencies it measured, as one line:
//
//	fsync n=… p50_us=… p99_us=… p999_us=… max_us=…
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dir := flag.String("dir", "", "directory of the journal file (default: a new temporary directory)")
	flag.Parse()
	if err := run(*addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "journal:", err)
		os.Exit(1)
	}
}

// entry is one body waiting for the disk.
type entry struct {
	body []byte
	done chan error
}

func run(addr, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "journal-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	f, err := os.OpenFile(filepath.Join(dir, "journal.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()

	queue := make(chan *entry, 4096)
	syncs := make(chan []time.Duration, 1)
	go writer(f, queue, syncs)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e := &entry{body: body, done: make(chan error, 1)}
		queue <- e
		if err := <-e.done; err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = srv.Close()
	close(queue)
	report(<-syncs)
	return nil
}

// writer appends every queued body with one write and one fsync per
// batch, then answers the batch; when queue closes it sends the measured
// sync latencies.
func writer(f *os.File, queue <-chan *entry, syncs chan<- []time.Duration) {
	var lat []time.Duration
	var buf bytes.Buffer
	batch := make([]*entry, 0, 256)
	for first := range queue {
		batch = append(batch[:0], first)
	gather:
		for len(batch) < cap(batch) {
			select {
			case e, ok := <-queue:
				if !ok {
					break gather
				}
				batch = append(batch, e)
			default:
				break gather
			}
		}
		buf.Reset()
		for _, e := range batch {
			buf.Write(e.body)
			buf.WriteByte('\n')
		}
		_, err := f.Write(buf.Bytes())
		if err == nil {
			start := time.Now()
			err = f.Sync()
			lat = append(lat, time.Since(start))
		}
		for _, e := range batch {
			e.done <- err
		}
	}
	syncs <- lat
}

func report(lat []time.Duration) {
	if len(lat) == 0 {
		fmt.Println("fsync n=0")
		return
	}
	slices.Sort(lat)
	q := func(p float64) int64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds() }
	fmt.Printf("fsync n=%d p50_us=%d p99_us=%d p999_us=%d max_us=%d\n", len(lat), q(0.50), q(0.99), q(0.999), lat[len(lat)-1].Microseconds())
}
