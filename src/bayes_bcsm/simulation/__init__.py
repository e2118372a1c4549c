"""Simulation studies: replicate cohorts, operating characteristics, sharding, SBC."""
