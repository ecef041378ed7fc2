"""Time per step of every optlib optimizer, against torch.optim and against memory bandwidth.

    python benchmarks/step_speed.py            # about two minutes; torch is optional

For each optimizer and for 1e4 and 1e7 float32 parameters (one array), prints the median time of
one ``step``. Where torch is importable it times torch.optim on the same data in the same run, with
one thread, for each implementation torch has on the CPU (the single-tensor loop, ``foreach`` and,
for some classes, ``fused``), and prints the ratios the optlib issue sets as targets:

* 1e4 parameters: optlib / torch's fastest variant, target <= 0.6 (per-step overhead is what
  small problems feel);
* 1e7 parameters: optlib / torch ``foreach``, target <= 1.0;

and, at 1e7, optlib / the memory-bandwidth lower bound: the bytes a step must move (read the
gradient, read and write the parameter and each state buffer) over the copy bandwidth of this
machine, measured with ``np.copyto`` on the same array size.

This is a script, not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import optlib

# One representative setting per class (the same for torch); SGD with momentum, the common use.
SETTINGS = {
    "SGD": dict(lr=1e-3, momentum=0.9),
    "Adagrad": dict(),
    "RMSprop": dict(),
    "Adam": dict(),
    "AdamW": dict(),
    "NAdam": dict(),
    "Adadelta": dict(),
    "Adamax": dict(),
    "RAdam": dict(),
}
# Arrays each step reads and writes besides the gradient (read once): parameter + state buffers.
READ_WRITE_ARRAYS = {"SGD": 2, "Adagrad": 2, "RMSprop": 2, "Adam": 3, "AdamW": 3, "NAdam": 3,
                     "Adadelta": 3, "Adamax": 3, "RAdam": 3}


def median_time(step, repeats, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(n, repeats):
    """Bytes per second that np.copyto moves (read + write) for float32 arrays of n elements."""
    src, dst = np.ones(n, np.float32), np.empty(n, np.float32)
    t = median_time(lambda: np.copyto(dst, src), repeats, 2)
    return 2 * src.nbytes / t


def time_optlib(name, n, repeats, warmup, rng):
    params = [rng.standard_normal(n).astype(np.float32)]
    grads = [rng.standard_normal(n).astype(np.float32)]
    opt = getattr(optlib, name)(params, **SETTINGS[name])
    return median_time(lambda: opt.step(grads), repeats, warmup)


def time_torch(torch, name, n, repeats, warmup, rng):
    """{variant: seconds} for the implementations torch has for this class on the CPU."""
    results = {}
    p0 = rng.standard_normal(n).astype(np.float32)
    g0 = rng.standard_normal(n).astype(np.float32)
    for variant, flags in [("single", dict(foreach=False)), ("foreach", dict(foreach=True)),
                           ("fused", dict(fused=True))]:
        param = torch.tensor(p0, requires_grad=True)
        param.grad = torch.tensor(g0)
        try:
            opt = getattr(torch.optim, name)([param], **SETTINGS[name], **flags)
            opt.step()
        except (TypeError, RuntimeError, ValueError):
            continue  # e.g. no fused implementation for this class
        results[variant] = median_time(opt.step, repeats, warmup)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small-repeats", type=int, default=2000)
    parser.add_argument("--large-repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=list(SETTINGS), help="optimizer names")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
        print(f"torch {torch.__version__}, 1 thread; numpy {np.__version__}")
    except ImportError:
        torch = None
        print(f"torch not installed: optlib times only; numpy {np.__version__}")

    rng = np.random.default_rng(0)
    n_large = 10**7
    bandwidth = copy_bandwidth(n_large, args.large_repeats)
    print(f"np.copyto bandwidth at 1e7 float32: {bandwidth / 1e9:.1f} GB/s (read + write)\n")

    header = (f"{'optimizer':9s} {'n':>5s} {'optlib':>10s} {'torch single':>13s} {'foreach':>10s} "
              f"{'fused':>10s}   ratio (target)        x bandwidth bound")
    print(header)
    print("-" * len(header))
    for name in args.only:
        for n, repeats, warmup in [(10**4, args.small_repeats, 50), (n_large, args.large_repeats, 1)]:
            mine = time_optlib(name, n, repeats, warmup, rng)
            theirs = time_torch(torch, name, n, repeats, warmup, rng) if torch else {}
            cells = [f"{theirs[v] * 1e3:10.3f}" if v in theirs else f"{'-':>10s}"
                     for v in ("single", "foreach", "fused")]
            line = f"{name:9s} {'1e4' if n == 10**4 else '1e7':>5s} {mine * 1e3:10.3f} {cells[0]:>13s} " \
                   f"{cells[1]} {cells[2]}"
            if theirs and n == 10**4:
                best = min(theirs, key=theirs.get)
                line += f"   {mine / theirs[best]:.2f}x {best:7s} (<=0.6)"
            elif theirs:
                line += f"   {mine / theirs['foreach']:.2f}x foreach (<=1.0)"
            if n == n_large:
                bytes_moved = (2 * READ_WRITE_ARRAYS[name] + 1) * 4 * n
                line += f"   {mine / (bytes_moved / bandwidth):.2f}x"
            print(line, flush=True)
    print("\ntimes in ms per step (median); ratio = optlib time / torch time")


if __name__ == "__main__":
    main()
