package features

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

// cacheVersion changes whenever the file layout or what goes into a Set changes, so old
// files are never misread.
const cacheVersion = 1

// cacheKey names one (encoder, data, split, preparation) combination.
func cacheKey(hash string, o Options, mean, std [3]float32) string {
	k := fmt.Sprintf("v%d\x00%s\x00%s\x00%s\x00%s\x00%d\x00%d\x00%v\x00%v", cacheVersion, hash, o.Data, o.Split, o.Output, o.Size, o.Limit, mean, std)
	s := sha256.Sum256([]byte(k))
	return hex.EncodeToString(s[:16])
}

func cachePath(dir, key string) string { return filepath.Join(dir, "features-"+key+".gob") }

// readCache returns the cached set, or nil when there is none.
func readCache(dir, key string) (*Set, error) {
	b, err := os.ReadFile(cachePath(dir, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("cache: %w", err)
	}
	var s Set
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		// A file from an incompatible build: compute afresh and overwrite it.
		return nil, nil
	}
	return &s, nil
}

func writeCache(dir, key string, s *Set) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errorf("cache folder: %w", err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return errorf("cache: %w", err)
	}
	if err := atomicfile.WriteFile(cachePath(dir, key), buf.Bytes(), 0o644); err != nil {
		return errorf("cache: %w", err)
	}
	return nil
}
