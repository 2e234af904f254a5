"""Proxy training: how a search trial scores an architecture in minutes.

`train_proxy` (`proxy`) trains a spec for a short schedule on a share of the data at a small
clip shape and reports each epoch; `replicas` trains several seeds of it side by side and
scores their mean; `ray_trial` runs one as a Ray Tune trial with per-epoch checkpoints;
`config` holds `ProxyConfig`, the proxy's schedule and recipe.
"""
