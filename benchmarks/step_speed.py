"""Time per step of every optlib optimizer, against torch.optim and against memory bandwidth.

    python benchmarks/step_speed.py            # a few minutes; torch is optional

optlib's update rules are written to be read (plain NumPy in torch's single-tensor order, with
temporaries); this script guards that readability did not make steps slow where readers feel it.
For each optimizer and for 1e4 and 1e7 float32 parameters (one array), it prints the median time of
one ``step``. Where torch is importable it times torch.optim on the same data in the same run, with
one thread, for each implementation torch has on the CPU (the single-tensor loop, ``foreach`` and,
for some classes, ``fused``), and prints the ratios the optlib issue sets:

* 1e4 parameters: optlib / torch's fastest variant, target <= 1.0 (per-step overhead is what the
  book's small problems feel);
* 1e7 parameters: optlib / torch ``foreach``, reported (no target);

and, at 1e7, optlib / the memory-bandwidth lower bound: the bytes a step must move (read the
gradient, read and write the parameter and each state buffer) over the copy bandwidth of this
machine, measured with ``np.copyto`` on the same array size.

Muon acts on matrices: it is timed on a 100 x 100 matrix (1e4 entries) only, against torch.optim.Muon
(whose Newton-Schulz runs in bfloat16, optlib's in float32). Lion has no torch.optim class: optlib's
time only.

This is a script, not a test: timings depend on the machine and its load.

Measured 2026-11-30 (2-core AMD EPYC VM, shared with other jobs, load average about 14; torch 2.13.0
CPU, NumPy 2.4.6), ratio optlib / torch, after the update rules became plain NumPy with temporaries:

* 1e4, against torch's fastest variant (target <= 1.0): SGD 0.37, plain SGD 0.38, Adagrad 0.38,
  RMSprop 0.28, Adam 0.51, AdamW 0.55, NAdam 0.35, Adadelta 0.38, Adamax 0.34, RAdam 0.32,
  Muon 0.02 (torch's bfloat16 matrix products are slow on this CPU); Lion 0.028 ms (no torch class).
* 1e7, against torch foreach (reported): SGD 2.9, plain SGD 3.2, Adagrad 0.52, RMSprop 1.3, Adam 1.2,
  AdamW 1.3, NAdam 1.7, Adadelta 1.1, Adamax 1.4, RAdam 1.6. Each temporary is a pass over 40 MB
  of memory: the readable code trades large-array speed for equations one can read; no book workload
  has arrays this large.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import optlib

# One representative setting per class (the same for torch): SGD with momentum, the common use,
# and plain SGD, whose single pass torch fuses (p += -lr * g) and NumPy cannot.
SETTINGS = {
    "SGD": dict(lr=1e-3, momentum=0.9),
    "SGD-plain": dict(lr=1e-3),
    "Adagrad": dict(),
    "RMSprop": dict(),
    "Adam": dict(),
    "AdamW": dict(),
    "NAdam": dict(),
    "Adadelta": dict(),
    "Adamax": dict(),
    "RAdam": dict(),
    "Lion": dict(),
    "Muon": dict(),
}
# Muon needs a matrix: (rows, columns) per parameter count; other optimizers get one flat array.
MATRIX_SHAPES = {10**4: (100, 100)}
# Arrays each step reads and writes besides the gradient (read once): parameter + state buffers.
READ_WRITE_ARRAYS = {"SGD": 2, "SGD-plain": 1, "Adagrad": 2, "RMSprop": 2, "Adam": 3, "AdamW": 3, "NAdam": 3,
                     "Adadelta": 3, "Adamax": 3, "RAdam": 3, "Lion": 2, "Muon": 2}


def median_time(step, repeats, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_times(runners, rounds, steps_per_round, warmup):
    """{label: median seconds of one step}: in each round, every runner takes ``steps_per_round``
    consecutive steps, each timed on its own.

    Taking turns makes a slow spell of the machine (other processes, frequency changes) hit every
    runner alike; consecutive steps keep each runner's arrays warm in cache, as in a training loop;
    the median ignores the steps that were preempted.
    """
    for step in runners.values():
        for _ in range(warmup):
            step()
    samples = {label: [] for label in runners}
    clock = time.perf_counter
    for _ in range(rounds):
        for label, step in runners.items():
            step()  # re-warm this runner's arrays after the others ran
            for _ in range(steps_per_round):
                start = clock()
                step()
                samples[label].append(clock() - start)
    return {label: statistics.median(times) for label, times in samples.items()}


def copy_bandwidth(n, repeats):
    """Bytes per second that np.copyto moves (read + write) for float32 arrays of n elements."""
    src, dst = np.ones(n, np.float32), np.empty(n, np.float32)
    t = median_time(lambda: np.copyto(dst, src), repeats, 2)
    return 2 * src.nbytes / t


def runners_for(torch, name, n, rng):
    """{label: step function}: optlib's step, and torch's for each implementation it has on the CPU."""
    shape = MATRIX_SHAPES[n] if name == "Muon" else (n,)
    p0 = rng.standard_normal(shape).astype(np.float32)
    g0 = rng.standard_normal(shape).astype(np.float32)
    params, grads = [p0.copy()], [g0]
    cls_name = name.split("-")[0]
    opt = getattr(optlib, cls_name)(params, **SETTINGS[name])
    runners = {"optlib": lambda: opt.step(grads)}
    if torch is None or not hasattr(torch.optim, cls_name):
        return runners
    variants = [("single", dict(foreach=False)), ("foreach", dict(foreach=True)), ("fused", dict(fused=True))]
    if cls_name == "Muon":
        variants = [("single", {})]   # torch.optim.Muon has only the single-tensor implementation
    for variant, flags in variants:
        param = torch.tensor(p0, requires_grad=True)
        param.grad = torch.tensor(g0)
        try:
            torch_opt = getattr(torch.optim, cls_name)([param], **SETTINGS[name], **flags)
            torch_opt.step()
        except (TypeError, RuntimeError, ValueError):
            continue  # e.g. no fused implementation for this class
        runners[variant] = torch_opt.step
    return runners


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small-rounds", type=int, default=20, help="rounds of 100 steps at 1e4")
    parser.add_argument("--large-repeats", type=int, default=5, help="rounds of 1 step at 1e7")
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

    header = (f"{'optimizer':10s} {'n':>5s} {'optlib':>10s} {'torch single':>13s} {'foreach':>10s} "
              f"{'fused':>10s}   ratio (target)        x bandwidth bound")
    print(header)
    print("-" * len(header))
    for name in args.only:
        for n, rounds, per_round in [(10**4, args.small_rounds, 100), (n_large, args.large_repeats, 1)]:
            if name == "Muon" and n not in MATRIX_SHAPES:
                continue
            times = interleaved_times(runners_for(torch, name, n, rng), rounds, per_round, warmup=2)
            mine = times.pop("optlib")
            cells = [f"{times[v] * 1e3:10.3f}" if v in times else f"{'-':>10s}"
                     for v in ("single", "foreach", "fused")]
            line = f"{name:10s} {'1e4' if n == 10**4 else '1e7':>5s} {mine * 1e3:10.3f} {cells[0]:>13s} " \
                   f"{cells[1]} {cells[2]}"
            if times and n == 10**4:
                best = min(times, key=times.get)
                line += f"   {mine / times[best]:.2f}x {best:7s} (<=1.0)"
            elif times:
                line += f"   {mine / times['foreach']:.2f}x foreach"
            if n == n_large:
                bytes_moved = (2 * READ_WRITE_ARRAYS[name] + 1) * 4 * n
                line += f"   {mine / (bytes_moved / bandwidth):.2f}x"
            print(line, flush=True)
    print("\ntimes in ms per step (median); ratio = optlib time / torch time")


if __name__ == "__main__":
    main()
