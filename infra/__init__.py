"""Plumbing every package shares, and nothing of the toolkit's own: the `UserError` family,
typed option dataclasses to and from plain data (`config_io`), reading the files a user gives
and writing run files atomically (`files`), claiming an output folder before anything is
written (`run_folder`), loading TensorFlow without its start-up notices (`tf_runtime`) and
connecting to Ray (`ray_cluster`). It imports no TensorFlow or Ray at module level.

Importing it makes the first import of TensorFlow in the process, whoever does it (Keras, a
pipeline, Ray's TensorFlow backend), leave out TensorFlow's known start-up notices
(`tf_runtime`): the Python API, the CLI and Ray workers alike stay quiet, and real errors
still print.
"""
from .tf_runtime import quiet_tensorflow_imports

quiet_tensorflow_imports()
