"""Pickup points: where to pick up, nearest first, open or not, on a real map."""
