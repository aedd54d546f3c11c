package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"

	"github.com/sottohq/sotto/pkg/errs"
)

// File is a Store over a local JSON file, the embedded default's stand-in
// for Vault KV. The file maps paths to secrets:
//
//	{
//	  "sotto/channels/acme/whatsapp": {
//	    "app_secret": "…", "verify_token": "…", "phone_number_id": "1065…", "access_token": "…"
//	  }
//	}
//
// It must be readable by its owner only (mode 0600 or stricter); a file
// that group or others can read or write is refused on every Get, as pkg/keys
// refuses such a keyring, rather than its secrets trusted. A missing file
// holds no secrets (every Get is ErrNotFound). The file is read on every
// Get, so edits apply without a restart; put a Cache in front.
type File struct {
	path string
}

var _ Store = (*File)(nil)

// NewFile returns a Store reading path.
func NewFile(path string) *File { return &File{path: path} }

// Get returns the secret at path in the file.
func (f *File) Get(_ context.Context, path string) (map[string]string, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	all, err := f.read()
	if err != nil {
		return nil, err
	}
	s, ok := all[path]
	if !ok || s == nil {
		return nil, ErrNotFound
	}
	return maps.Clone(s), nil
}

// read loads the whole file after checking its permissions on the open
// descriptor (so that a file swapped between the check and the read is not
// read unchecked).
func (f *File) read() (map[string]map[string]string, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, ReasonFileUnreadable, "cannot read the secrets file")
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, ReasonFileUnreadable, "cannot read the secrets file")
	}
	if !fi.Mode().IsRegular() {
		return nil, errs.E(errs.FailedPrecondition, ReasonFileUnreadable, "the secrets file is not a regular file")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errs.E(errs.FailedPrecondition, ReasonFilePermissions,
			"the secrets file must not be accessible by group or others (want mode 0600)")
	}
	var all map[string]map[string]string
	// The decoder's errors quote offsets and types, not values; the cause
	// stays private all the same.
	if err := json.NewDecoder(fh).Decode(&all); err != nil {
		return nil, errs.Wrap(err, errs.FailedPrecondition, ReasonMalformed, "the secrets file is not a JSON object of secrets")
	}
	return all, nil
}

// WriteFile writes secrets (path → secret) to path with mode 0600, creating
// its directory (0700) if needed, for operators' tools and tests. It
// replaces the file atomically.
func WriteFile(path string, secrets map[string]map[string]string) error {
	for p := range secrets {
		if err := checkPath(p); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(secrets, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}
