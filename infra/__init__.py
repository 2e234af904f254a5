"""Plumbing every package shares, and nothing of the toolkit's own: the `UserError` family,
typed option dataclasses to and from plain data (`config_io`), reading the files a user gives
and writing run files atomically (`files`), claiming an output folder before anything is
written (`run_folder`), loading TensorFlow without its start-up notices (`tf_runtime`) and
connecting to Ray (`ray_cluster`). It imports no TensorFlow or Ray at module level.
"""
