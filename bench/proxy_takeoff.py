#!/usr/bin/env python3
"""When does a proxy training leave chance, and does a change of the proxy make seeds agree?

A quick screen before a `fidelity` measurement: K architectures sampled from the default space
(0.03-0.12 GFLOPs at 8x32x32, the default search's range) are each trained with several seeds by
the proxy (`proxies.train_proxy`, the search trial's training, at the default settings unless
flags change them), one training per process thread, and the script prints each training's
final top-1 and take-off epoch (`analysis.fidelity_stats.take_off_epoch`), then per architecture
how far its seeds ended apart. Trainings are appended to `--out` (JSON lines) as they finish,
so a stopped screen resumes, and two screens can run side by side on a 2-core machine.

    python bench/proxy_takeoff.py --out /tmp/screen_default.jsonl
    python bench/proxy_takeoff.py --out /tmp/screen_lr1.jsonl --lr 1.0
    python bench/proxy_takeoff.py --out /tmp/screen_actor.jsonl --actor-scale 1.6
    python bench/proxy_takeoff.py --out /tmp/screen_kd.jsonl --teacher /tmp/a1.teacher --make-teacher a1
    python bench/proxy_takeoff.py --out /tmp/screen_curriculum.jsonl --curriculum-epochs 4
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.tf_runtime import load_tensorflow  # noqa: E402

load_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402

from analysis.fidelity_stats import take_off_epoch  # noqa: E402
from proxies.config import ProxyConfig  # noqa: E402
from proxies.distillation import make_teacher  # noqa: E402
from proxies.proxy import train_proxy  # noqa: E402
from proxies.ray_trial import curriculum_source, prepare_worker, proxy_sources  # noqa: E402
from search_space import ArchSpec, SearchSpace, count_flops, load_arch  # noqa: E402
from video_data.config import DataConfig  # noqa: E402


def sampled_architectures(count: int, seed: int) -> list[ArchSpec]:
    """`count` random architectures of the default space within the default search's GFLOPs range."""
    space, rng, specs = SearchSpace(), random.Random(seed), []
    while len(specs) < count:
        spec = space.to_spec(space.sample(rng), name=f"screen{len(specs)}")
        if 0.03 <= count_flops(spec, 8, 32, 14).gflops <= 0.12:
            specs.append(spec)
    return specs


def proxy_from(args: argparse.Namespace) -> ProxyConfig:
    """The default proxy with the flags' changes."""
    base = ProxyConfig()
    recipe = dataclasses.replace(base.recipe, **{name: value for name, value in (
        ("learning_rate", args.lr), ("warmup_epochs", args.warmup_epochs), ("label_smoothing", args.label_smoothing))
        if value is not None})
    changes = {name: value for name, value in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                               ("teacher", args.teacher), ("distillation", args.distillation),
                                               ("temperature", args.temperature),
                                               ("curriculum_epochs", args.curriculum_epochs),
                                               ("curriculum_actor_scale", args.curriculum_actor_scale))
               if value is not None}
    return dataclasses.replace(base, recipe=recipe, **changes)


def summarise(rows: list[dict]) -> None:
    by_arch: dict[int, dict[int, dict]] = {}
    for row in rows:
        by_arch.setdefault(row["arch"], {})[row["seed"]] = row
    gaps, take_off_gaps = [], []
    for arch, seeds in sorted(by_arch.items()):
        parts = [f"seed {s}: {r['top1']:.3f} (take-off {take_off_epoch(r['curve'])})" for s, r in sorted(seeds.items())]
        print(f"architecture {arch} ({next(iter(seeds.values()))['gflops']:.3f} GFLOPs): " + ", ".join(parts))
        for a, b in itertools.combinations(seeds.values(), 2):
            gaps.append(abs(a["top1"] - b["top1"]))
            if take_off_epoch(a["curve"]) and take_off_epoch(b["curve"]):
                take_off_gaps.append(abs(take_off_epoch(a["curve"]) - take_off_epoch(b["curve"])))
    if gaps:
        print(f"two seeds of one architecture: {np.mean(gaps) * 100:.1f} points apart at the end, "
              f"take-off {np.mean(take_off_gaps) if take_off_gaps else float('nan'):.1f} epochs apart "
              f"({len(gaps)} pairs); mean wall time {np.mean([r['wall_s'] for r in rows]):.0f} s a training")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="JSON lines of finished trainings (appended; resumes)")
    parser.add_argument("--archs", type=int, default=2, help="architectures sampled")
    parser.add_argument("--arch-seed", type=int, default=1, help="seed of the architecture sample")
    parser.add_argument("--seeds", default="1,2", help="proxy seeds, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads (1: two screens side by side)")
    parser.add_argument("--lr", type=float, help="learning rate per 1024 clips")
    parser.add_argument("--warmup-epochs", type=float)
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--actor-scale", type=float, help="synthetic actor size (x the default's)")
    parser.add_argument("--teacher", help="distil from this teacher file (proxies.distillation)")
    parser.add_argument("--make-teacher", metavar="ARCH",
                        help="first train a teacher of this preset or spec YAML at the proxy's input, "
                             "if --teacher does not exist yet")
    parser.add_argument("--teacher-epochs", type=int, default=32, help="the teacher's epochs (of the proxy's steps)")
    parser.add_argument("--distillation", type=float, help="weight of the teacher's targets")
    parser.add_argument("--temperature", type=float, help="temperature of the teacher's targets")
    parser.add_argument("--curriculum-epochs", type=int, help="first epochs on clips with a larger actor")
    parser.add_argument("--curriculum-actor-scale", type=float, help="the actor's size in those epochs")
    args = parser.parse_args()
    prepare_worker(args.threads)
    data = DataConfig()
    if args.actor_scale is not None:
        data = dataclasses.replace(data, synthetic=dataclasses.replace(data.synthetic, actor_scale=args.actor_scale))
    proxy = proxy_from(args)
    if args.make_teacher and not Path(args.teacher).is_file():
        base = sampled_architectures(1, args.arch_seed)[0]
        teacher = dataclasses.replace(load_arch(args.make_teacher), input=base.input, name="teacher")
        made = make_teacher(teacher, data, ProxyConfig(epochs=args.teacher_epochs), args.teacher,
                            report=lambda m: print(f"teacher epoch {m['epoch']}: top-1 {m['top1']:.3f}", flush=True))
        print(f"teacher {args.make_teacher}: top-1 {made.top1:.3f}, {made.wall_time_s:.0f} s", flush=True)
    out = Path(args.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []
    done = {(row["arch"], row["seed"]) for row in rows}
    for arch, spec in enumerate(sampled_architectures(args.archs, args.arch_seed)):
        train, val = proxy_sources(spec, data)
        for seed in (int(s) for s in args.seeds.split(",")):
            if (arch, seed) in done:
                continue
            keras.backend.clear_session()
            curve: list[float] = []
            start = time.perf_counter()
            result = train_proxy(spec, dataclasses.replace(proxy, seed=seed), train, val,
                                 report=lambda metrics: curve.append(round(metrics["top1"], 4)),
                                 warm_up=curriculum_source(spec, data, proxy))
            row = {"arch": arch, "seed": seed, "gflops": result.gflops, "top1": result.top1, "curve": curve,
                   "wall_s": time.perf_counter() - start, "status": result.status}
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            rows.append(row)
            print(f"architecture {arch} seed {seed}: top-1 {result.top1:.3f}, take-off epoch "
                  f"{take_off_epoch(curve)}, {row['wall_s']:.0f} s", flush=True)
    summarise(rows)


if __name__ == "__main__":
    main()
