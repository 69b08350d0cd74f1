//go:build !unix

package testfs

import "errors"

func mkfifo(string) error { return errors.New("no named pipes on this system") }
