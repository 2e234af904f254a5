"""What float16 and int8 cost a trained stream model: held-out top-1 of the Keras model and of
its TFLite exports (float32, float16, int8 calibrated on training clips, and int8 with each kind
of layer `--keep-float` offers left in float32, then all of them), each fed frame by frame under
LiteRT, how often the exports' top class agrees with the float model's, their size and their
per-frame latency (LiteRT, 1 thread).

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
from deploy.latency import time_litert  # noqa: E402
from deploy.options import FLOAT_LAYERS, ExportOptions, LatencyOptions  # noqa: E402
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
    print(f"{'model':<40}{'size MB':>9}{'top-1':>8}{'agrees with Keras':>19}{'ms/frame':>10}")
    print(f"{'keras float32':<40}{'':>9}{np.mean(keras_top == labels):>8.3f}")
    variants = [("none", ()), ("float16", ()), ("int8", ()), *[("int8", (kind,)) for kind in FLOAT_LAYERS],
                ("int8", FLOAT_LAYERS)]
    for quantize, keep_float in variants:
        with tempfile.TemporaryDirectory() as scratch:
            options = ExportOptions(stream=True, quantize=quantize, calibration="synthetic" if quantize == "int8"
                                    else None, calibration_clips=32, keep_float=keep_float,
                                    check_frames=spec.input.frames)
            manifest = export_network(network, options, Path(scratch) / "e")
            model = LiteRTModel(Path(scratch) / "e" / "model.tflite")
            top = np.array([int(np.argmax(model.frame_logits(clip)[-1])) for clip, _ in clips])
            (timing,), _ = time_litert(Path(scratch) / "e" / "model.tflite", LatencyOptions(threads=(1,), runs=200))
        name = f"tflite {quantize if quantize != 'none' else 'float32'}"
        if keep_float:
            name += " + float " + ("all four" if keep_float == FLOAT_LAYERS else keep_float[0])
            name += f" ({sum(manifest['float_ops'].values())} ops)"
        print(f"{name:<40}{manifest['model_bytes'] / 1e6:>9.2f}{np.mean(top == labels):>8.3f}"
              f"{np.mean(top == keras_top):>19.3f}{timing.median_ms:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
