"""Tests for fueldash/server."""
