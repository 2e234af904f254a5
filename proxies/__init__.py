"""Data, proxy and full training, and the search driver that runs trials."""
