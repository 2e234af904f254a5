"""Full training with the paper's recipe: any spec, locally or data-parallel on a Ray cluster.

The recipe as data (`recipe`) and its Keras optimiser, loss and metrics (`compile`, shared with
proxy training); `TrainConfig` (`config`); the Ray Train run (`trainer`: resumable from its
last checkpoint) and the loop each worker runs (`worker`, with Keras' multi-worker corrections
in `multiworker`); and every member of a family folder trained (`family`).
"""
