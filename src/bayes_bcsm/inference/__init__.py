"""Inference: sampling (nutpie, compile once), diagnostics, posterior prediction."""
