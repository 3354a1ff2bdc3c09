package vendor

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// MirrorsKey is the mirrors file's one top-level key. The same file is an
// Ansible vars file (ansible-playbook -e @mirrors.yml): the playbook's
// stack_mirrors variable.
const MirrorsKey = "stack_mirrors"

// ParseMirrors reads a mirrors file: YAML with one key, stack_mirrors,
// mapping component names to the location used instead of their stack
// source. name is the file's name in errors.
func ParseMirrors(data []byte, name string) (map[string]string, error) {
	var f struct {
		Mirrors map[string]string `yaml:"stack_mirrors"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: expected %s: a mapping of component names to URLs: %w", name, MirrorsKey, err)
	}
	for c, url := range f.Mirrors {
		if strings.TrimSpace(url) == "" {
			return nil, fmt.Errorf("%s: %s.%s: empty location", name, MirrorsKey, c)
		}
	}
	if f.Mirrors == nil {
		f.Mirrors = map[string]string{}
	}
	return f.Mirrors, nil
}

// ParseMirrorFlag reads one NAME=URL (a --mirror flag's value).
func ParseMirrorFlag(s string) (name, url string, err error) {
	name, url, ok := strings.Cut(s, "=")
	name, url = strings.TrimSpace(name), strings.TrimSpace(url)
	if !ok || name == "" || url == "" {
		return "", "", errors.New("expected COMPONENT=URL")
	}
	return name, url, nil
}
