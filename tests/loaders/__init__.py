"""Tests of gateway.loaders."""
