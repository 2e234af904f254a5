"""Video data as users have it, and as the models read it.

Where a split's clips are in a folder (`layout`: Kinetics CSVs of every release, label
folders, Model Garden TFRecords), the Kinetics CSV format (`kinetics`), decoding only the
frames a clip needs (`video`, PyAV), TFRecord shards (`tfrecord`), the offline synthetic
motion dataset (`synthetic`), `tf.data` pipelines from any of them (`pipeline`), what a folder
holds before training (`inspection`), conversion to shards (`convert`), and `DataConfig`
(`config`). Everything but the pipelines and TFRecords runs without TensorFlow.
"""
