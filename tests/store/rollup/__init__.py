"""Tests of gateway.store.rollup."""
