"""`run_search.py export-model`: a trained network as a SavedModel or TFLite model (float32,
float16 or int8; base or streaming), checked against its Keras model."""
from __future__ import annotations

import argparse

from .common import default, positive_int
from .network_args import add_network_args, check_network_args, network


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from deploy.options import EXPORT_FORMATS, FLOAT_LAYERS, QUANTIZATIONS, ExportOptions

    add_network_args(parser, "export random weights (to time the model or test an app, not to classify)")
    parser.add_argument("--stream", action="store_true",
                        help="one frame per call with states in and out (causal specs; presets: their stream variant)")
    parser.add_argument("--format", default=default(ExportOptions, "format"), choices=EXPORT_FORMATS)
    parser.add_argument("--quantize", default=default(ExportOptions, "quantize"), choices=QUANTIZATIONS)
    parser.add_argument("--calibration", help="int8: clips to calibrate on ('synthetic', a data folder or TFRecords)")
    parser.add_argument("--calibration-clips", type=positive_int, default=default(ExportOptions, "calibration_clips"))
    parser.add_argument("--keep-float", nargs="+", choices=FLOAT_LAYERS, default=list(default(ExportOptions, "keep_float")),
                        metavar="KIND", help=f"int8: kinds of layer left in float32 ({', '.join(FLOAT_LAYERS)})")
    parser.add_argument("--states-4d", action="store_true", help="stream states as 4-D tensors (GPU delegates)")
    parser.add_argument("--frames", type=positive_int,
                        help="clip frames of the input (stream: of the check and calibration clips); default: spec's")
    parser.add_argument("--resolution", type=positive_int, help="input height and width (default: the spec's)")
    parser.add_argument("--output", required=True, help="folder for the model, labels.txt and export.json")


def export_options(args: argparse.Namespace):
    """The `ExportOptions` the flags describe (the defaults are the dataclass's)."""
    from deploy.options import ExportOptions

    return ExportOptions(format=args.format, quantize=args.quantize, stream=args.stream, states_4d=args.states_4d,
                         frames=args.frames, resolution=args.resolution, calibration=args.calibration,
                         calibration_clips=args.calibration_clips, keep_float=tuple(args.keep_float))


def run(args: argparse.Namespace) -> int:
    from deploy.options import EXPORT_RUN
    from infra.run_folder import claim_output

    check_network_args(args)
    options = export_options(args)
    claim_output(args.output, EXPORT_RUN, resume=False)
    from deploy.export import export_network

    source = network(args, args.stream)
    manifest = export_network(source, options, args.output)
    check = manifest["check"]
    kind = "stream (one frame per call)" if options.stream else f"clip of {manifest['frames']} frames"
    print(f"{source.spec.name}: {options.format} {options.quantize if options.quantize != 'none' else 'float32'}, "
          f"{kind} at {manifest['resolution']}x{manifest['resolution']}, {manifest['model_bytes'] / 1e6:.1f} MB, "
          f"weights from {source.weights}")
    if manifest["float_ops"]:
        print("kept in float32: " + ", ".join(f"{kind} ({count} ops)" for kind, count in manifest["float_ops"].items()))
    print(f"checked against Keras on a {check['clip']} clip of {check['frames']} frames: max logit difference "
          f"{check['max_abs_error']:.2g} ({100 * check['relative_error']:.2g}% of the logit scale), top-1 agrees on "
          f"{100 * check['top1_agreement']:.0f}%")
    print(f"written to {args.output}/ (export.json lists the inputs and outputs)")
    return 0
