"""Tests for fueldash/migrations."""
