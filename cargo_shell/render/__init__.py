"""Rendering of results: pure functions from data to text or rich renderables."""
