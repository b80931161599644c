package main

import (
	"fmt"

	"github.com/atende/atende/internal/secretbox"
)

// secretKeyEnv holds the keys that seal channel, webhook and tool secrets.
const secretKeyEnv = "ATENDE_SECRET_KEY"

// secretKeys reads ATENDE_SECRET_KEY into a Box; unset is nil (only the
// commands that touch stored secrets need it, and say so: SecretBox).
func secretKeys(v string) (*secretbox.Box, error) {
	if v == "" {
		return nil, nil
	}
	keys, err := secretbox.ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("%w (make one with `openssl rand -base64 32`)", err)
	}
	return secretbox.New(keys...)
}

// SecretBox is the Box of ATENDE_SECRET_KEY. Every command that reads or
// writes stored secrets needs it, and refuses to start without it rather
// than store secrets in clear.
func (s Settings) SecretBox() (*secretbox.Box, error) {
	if s.Secrets == nil {
		return nil, fmt.Errorf("%s is not set: it encrypts channel, webhook and tool secrets in the database. "+
			"Make one with `openssl rand -base64 32` and keep it (without it the stored secrets cannot be read); "+
			"`make run` generates one into .atende/secret_key", secretKeyEnv)
	}
	return s.Secrets, nil
}
