//go:build !linux

package main

// signalOnParentDeath is Linux-only; elsewhere [watchParent] alone notices
// the parent's exit.
func signalOnParentDeath() error { return nil }
