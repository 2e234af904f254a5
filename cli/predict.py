"""`run_search.py predict`: classify video files with a trained model or an official checkpoint."""
from __future__ import annotations

import argparse
import dataclasses
import json

from .common import positive_float, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from deploy import TOP_CLASSES
    from search_space import OFFICIAL_CLASSES

    parser.add_argument("video", help="a video file, or a folder of videos (searched recursively)")
    parser.add_argument("--run", dest="run_dir", help="a training run folder (spec, weights, class names)")
    parser.add_argument("--arch", help="preset or spec YAML, with --checkpoint (an official Model Garden checkpoint)")
    parser.add_argument("--checkpoint", help="official checkpoint prefix or folder (with --arch)")
    parser.add_argument("--classes", help="JSON list of class names (with --checkpoint)")
    parser.add_argument("--num-classes", type=positive_int, default=OFFICIAL_CLASSES,
                        help="classes of the checkpoint's model")
    parser.add_argument("--frames", type=positive_int, help="clip frames (default: the spec's input)")
    parser.add_argument("--resolution", type=positive_int, help="clip resolution (default: the spec's input)")
    parser.add_argument("--fps", type=positive_float,
                        help="sample frames 1/fps s apart (default: the spec's frame stride)")
    parser.add_argument("--stream", action="store_true", help="feed frames one by one (causal specs); ms/frame")
    parser.add_argument("--top", type=positive_int, default=TOP_CLASSES)
    parser.add_argument("--json", action="store_true", help="one JSON object per video")


def run(args: argparse.Namespace) -> int:
    from video_data.video import video_files

    videos = video_files(args.video)  # before the model loads: a wrong path is refused at once
    from deploy.predict import load_classifier

    classifier = load_classifier(run=args.run_dir, arch=args.arch, checkpoint=args.checkpoint, classes=args.classes,
                                 num_classes=args.num_classes, frames=args.frames, resolution=args.resolution,
                                 fps=args.fps)
    for path in videos:
        prediction = classifier.predict(path, top=args.top, stream=args.stream)
        print(json.dumps(dataclasses.asdict(prediction)) if args.json else prediction.line(), flush=True)
    return 0
