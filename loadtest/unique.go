package loadtest

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/idpconform/idpconform/internal/jsonscan"
	"github.com/idpconform/idpconform/internal/results"
)

// idKind is what the uniqueness check counts: a credential kind, or the jti
// claim of JWT credentials of a kind ("access_token jti").
type idKind string

// digest identifies a value without holding it: the first 16 bytes of its
// SHA-256. Results files and memory never hold a token, only this; the
// same digest in two shards' files is the same value.
type digest [16]byte

func digestOf(v string) digest {
	sum := sha256.Sum256([]byte(v))
	var d digest
	copy(d[:], sum[:16])
	return d
}

// uniqueness counts credentials and jtis seen, per kind, and the ones seen
// more than once. An IdP must never issue a token, refresh token or jti
// twice (RFC 7519 §4.1.7: a jti must not collide); a replicated IdP whose
// nodes share a random seed does, and only load shows it. Safe for
// concurrent use.
type uniqueness struct {
	mu    sync.Mutex
	seen  map[idKind]map[digest]struct{}
	count map[idKind]uint64
	dups  map[idKind]uint64
}

func newUniqueness() *uniqueness {
	return &uniqueness{seen: map[idKind]map[digest]struct{}{}, count: map[idKind]uint64{}, dups: map[idKind]uint64{}}
}

// add records one credential and, for a JWT, its jti.
func (u *uniqueness) add(c Credential) {
	u.addDigest(idKind(c.Kind), digestOf(c.Value))
	if isJWT(c.Value) {
		if jti, ok := jtiOf(c.Value); ok {
			u.addDigest(idKind(string(c.Kind)+" jti"), digestOf(jti))
		}
	}
}

func (u *uniqueness) addDigest(k idKind, d digest) {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.seen[k]
	if m == nil {
		m = map[digest]struct{}{}
		u.seen[k] = m
	}
	u.count[k]++
	if _, dup := m[d]; dup {
		u.dups[k]++
		return
	}
	m[d] = struct{}{}
}

// summary returns the counts, sorted by kind.
func (u *uniqueness) summary() []results.LoadUniqueness {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]results.LoadUniqueness, 0, len(u.count))
	for k, n := range u.count {
		out = append(out, results.LoadUniqueness{Kind: string(k), Seen: n, Unique: uint64(len(u.seen[k])), Duplicates: u.dups[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// payloadBufs hold decoded JWT payloads for jtiOf; one larger than
// maxPooledPayload is not kept.
var payloadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledPayload = 64 << 10

// jtiOf reads the jti claim of a compact JWS without verifying it: the
// uniqueness check runs on every response and must stay cheap. A token
// whose payload does not decode has no jti here; the verification sample
// judges it.
func jtiOf(tok string) (string, bool) {
	first := strings.IndexByte(tok, '.')
	last := strings.LastIndexByte(tok, '.')
	if first < 0 || last <= first {
		return "", false
	}
	seg := tok[first+1 : last]
	// This runs on every response: the decode buffer is reused.
	bp := payloadBufs.Get().(*[]byte)
	defer payloadBufs.Put(bp)
	payload, err := base64.RawURLEncoding.AppendDecode((*bp)[:0], []byte(seg))
	if cap(payload) <= maxPooledPayload {
		*bp = payload
	}
	if err != nil {
		return "", false
	}
	var jti string
	found := false
	if jsonscan.Members(payload, func(name []byte, v jsonscan.Value) {
		if string(name) == "jti" {
			jti, found = v.Str()
		}
	}) != nil {
		return "", false
	}
	return jti, found && jti != ""
}

// The digests file lets a merge check uniqueness across shards: every
// digest seen, per kind, with no token in it.
const digestsMagic = "idpconform-digests-v1\n"

// writeDigests writes every digest, one kind after another:
// kind name, newline, count (decimal), newline, then count×16 bytes.
func (u *uniqueness) writeDigests(w io.Writer) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(digestsMagic); err != nil {
		return err
	}
	kinds := make([]string, 0, len(u.seen))
	for k := range u.seen {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		m := u.seen[idKind(k)]
		// A duplicate inside one shard is counted in the shard's own
		// summary; the merge adds them, then checks across shards.
		fmt.Fprintf(bw, "%s\n%d %d %d\n", k, len(m), u.count[idKind(k)], u.dups[idKind(k)])
		for d := range m {
			if _, err := bw.Write(d[:]); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// readDigests adds the digests of a file to u.
func (u *uniqueness) readDigests(r io.Reader) error {
	br := bufio.NewReader(r)
	magic := make([]byte, len(digestsMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != digestsMagic {
		return fmt.Errorf("not an idpconform digests file (expected it to start with %q)", strings.TrimSpace(digestsMagic))
	}
	for {
		kind, err := br.ReadString('\n')
		if errors.Is(err, io.EOF) && kind == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("digests: %w", err)
		}
		kind = strings.TrimSuffix(kind, "\n")
		if len(kind) == 0 || len(kind) > 64 {
			return fmt.Errorf("digests: bad kind name")
		}
		var n, seen, dups uint64
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("digests %s: %w", kind, err)
		}
		if _, err := fmt.Sscanf(line, "%d %d %d\n", &n, &seen, &dups); err != nil {
			return fmt.Errorf("digests %s: counts: %w", kind, err)
		}
		if n > seen || seen-n != dups {
			return fmt.Errorf("digests %s: inconsistent counts %d unique, %d seen, %d duplicates", kind, n, seen, dups)
		}
		k := idKind(kind)
		var d digest
		for i := uint64(0); i < n; i++ {
			if _, err := io.ReadFull(br, d[:]); err != nil {
				return fmt.Errorf("digests %s: after %d of %d: %w", kind, i, n, err)
			}
			u.addDigest(k, d)
		}
		// The shard's own repeats were not written; count them back.
		u.mu.Lock()
		u.count[k] += dups
		u.dups[k] += dups
		u.mu.Unlock()
	}
}
