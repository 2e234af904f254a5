"""What float16 and int8 cost a trained stream model: held-out top-1 of the Keras model and of
its TFLite exports (float32, float16, full-integer int8 calibrated on training clips), each fed
frame by frame under LiteRT, and how often the exports' top class agrees with the float model's.

    python bench/quantization.py --run runs/t0_stream   # a finished `train --stream` run
    python bench/quantization.py --train runs/t0_stream # trains it first (t0 stream, synthetic)

`--train` trains t0-stream at 8 x 32^2 on 60 clips a class of the synthetic set; the evaluation reads the held-out
clips of the default synthetic set (what `--calibration synthetic` reads; every fifth clip of a
class, none of which the training saw), and int8 calibrates on its training clips.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from infra.tf_runtime import quiet_tensorflow_imports  # noqa: E402

quiet_tensorflow_imports()

import numpy as np  # noqa: E402

from deploy.export import export_network  # noqa: E402
from deploy.litert import LiteRTModel  # noqa: E402
from deploy.network import load_network  # noqa: E402
from deploy.options import ExportOptions  # noqa: E402
from video_data.config import DataConfig  # noqa: E402
from video_data.pipeline import ClipConfig, open_data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a finished stream training run")
    parser.add_argument("--train", help="train t0 stream on synthetic data into this folder first")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--clips", type=int, default=672, help="held-out clips evaluated (672: all of them)")
    args = parser.parse_args()
    run = Path(args.run or args.train)
    if args.train:
        subprocess.run([sys.executable, str(REPO / "run_search.py"), "train", "--arch", "t0", "--stream", "--data",
                        "synthetic", "--synthetic-clips", "60", "--epochs", str(args.epochs), "--batch-size", "16",
                        "--frames", "8", "--resolution", "32", "--output", str(run)],
                       check=True)
    network = load_network(run=run)
    spec = network.spec
    _, val = open_data(DataConfig(), ClipConfig(frames=spec.input.frames, resolution=spec.input.resolution,
                                                stride=spec.input.frame_stride, flip=False))
    clips = [(clip.numpy(), int(label[0])) for clip, label in val.dataset(False, 1).take(args.clips)]
    labels = np.array([label for _, label in clips])
    keras_top = np.array([int(np.argmax(network.model.logits(clip).numpy()[0])) for clip, _ in clips])
    print(f"{spec.name} at {spec.input.frames}x{spec.input.resolution}^2, {len(clips)} held-out clips")
    print(f"{'model':<22}{'size MB':>9}{'top-1':>8}{'agrees with Keras':>19}")
    print(f"{'keras float32':<22}{'':>9}{np.mean(keras_top == labels):>8.3f}{'':>19}")
    for quantize in ("none", "float16", "int8"):
        with tempfile.TemporaryDirectory() as scratch:
            options = ExportOptions(stream=True, quantize=quantize, calibration="synthetic" if quantize == "int8"
                                    else None, calibration_clips=32, check_frames=spec.input.frames)
            manifest = export_network(network, options, Path(scratch) / "e")
            model = LiteRTModel(Path(scratch) / "e" / "model.tflite")
            top = np.array([int(np.argmax(model.frame_logits(clip)[-1])) for clip, _ in clips])
        name = f"tflite {quantize if quantize != 'none' else 'float32'} stream"
        print(f"{name:<22}{manifest['model_bytes'] / 1e6:>9.2f}{np.mean(top == labels):>8.3f}"
              f"{np.mean(top == keras_top):>19.3f}")


if __name__ == "__main__":
    main()
