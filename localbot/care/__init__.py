"""Keeping a community healthy: its welcome and rules for newcomers, the organisers' weekly digest."""
