"""One set of argument checks for optlib: the same bad value raises the same exception in every function.

A count (``steps``, ``batch_size``, ``epochs``, sizes, seeds) that is not an integer is a TypeError; an
integer out of range is a ValueError; either names the argument. ``COUNTS`` lists every public function
of the modules below that takes a count, and ``test_every_count_argument_is_covered`` fails when a new
one appears without being added here.
"""

import ast
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import optlib
from optlib import SGD, models, problems, real_data, schedules, trajectory, validation
from optlib.surfaces import quadratic

ROOT = Path(optlib.__file__).parent
MODULES = ["trajectory", "problems", "models", "schedules", "real_data", "surfaces", "losses"]
COUNT_NAMES = {"steps", "batch_size", "epochs", "eval_every", "n", "d", "n_samples", "n_docs", "vocabulary",
               "words_per_doc", "step_size", "total_steps", "warmup_steps", "n_inputs", "n_hidden", "n_outputs",
               "seed", "seeds", "t", "decay_steps"}


def _least_squares():
    return problems.make_regression(n=20, d=3, noise=0.1, rng=np.random.default_rng(0))


def _tiny_data():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    return real_data.Dataset("tiny", "classification", X[:8], y[:8], X[8:], y[8:], 2)


# (name as discovered, argument, call with the argument set to `bad`)
COUNTS = [
    ("trajectory.run", "steps", lambda bad: trajectory.run(SGD, quadratic(), steps=bad, lr=0.1)),
    ("trajectory.run_stochastic", "steps",
     lambda bad: trajectory.run_stochastic(SGD, _least_squares(), np.zeros(3), steps=bad, batch_size=2,
                                           rng=np.random.default_rng(0), lr=0.1)),
    ("trajectory.run_stochastic", "batch_size",
     lambda bad: trajectory.run_stochastic(SGD, _least_squares(), np.zeros(3), steps=3, batch_size=bad,
                                           rng=np.random.default_rng(0), lr=0.1)),
    ("problems.make_regression", "n", lambda bad: problems.make_regression(bad, 2, 0.1, np.random.default_rng(0))),
    ("problems.make_regression", "d", lambda bad: problems.make_regression(5, bad, 0.1, np.random.default_rng(0))),
    ("problems.minibatches", "n_samples", lambda bad: problems.minibatches(bad, 2, np.random.default_rng(0))),
    ("problems.minibatches", "batch_size", lambda bad: problems.minibatches(5, bad, np.random.default_rng(0))),
    ("problems.minibatches", "epochs", lambda bad: problems.minibatches(5, 2, np.random.default_rng(0), epochs=bad)),
    ("problems.LeastSquares.gradient_variance", "batch_size",
     lambda bad: _least_squares().gradient_variance(np.zeros(3), batch_size=bad)),
    ("problems.bag_of_words", "n_docs", lambda bad: problems.bag_of_words(n_docs=bad)),
    ("problems.bag_of_words", "vocabulary", lambda bad: problems.bag_of_words(vocabulary=bad)),
    ("problems.bag_of_words", "words_per_doc", lambda bad: problems.bag_of_words(words_per_doc=bad)),
    ("problems.bag_of_words", "seed", lambda bad: problems.bag_of_words(seed=bad)),
    ("models.Linear.__init__", "n_inputs", lambda bad: models.Linear(bad, 2)),
    ("models.Linear.__init__", "n_outputs", lambda bad: models.Linear(2, bad)),
    ("models.MLP.__init__", "n_inputs", lambda bad: models.MLP(bad, 3, 2)),
    ("models.MLP.__init__", "n_hidden", lambda bad: models.MLP(2, bad, 2)),
    ("models.MLP.__init__", "n_outputs", lambda bad: models.MLP(2, 3, bad)),
    ("models._Model.init_copies", "seeds", lambda bad: models.Linear(2, 2).init_copies([0, bad])),
    ("models.train", "epochs", lambda bad: models.train(models.Linear(3, 2), SGD, _tiny_data(), 0.1, bad, 4, [0])),
    ("models.train", "batch_size",
     lambda bad: models.train(models.Linear(3, 2), SGD, _tiny_data(), 0.1, 1, bad, [0])),
    ("models.train", "seeds", lambda bad: models.train(models.Linear(3, 2), SGD, _tiny_data(), 0.1, 1, 4, [bad])),
    ("models.train", "eval_every",
     lambda bad: models.train(models.Linear(3, 2), SGD, _tiny_data(), 0.1, 1, 4, [0], eval_every=bad)),
    ("models.lr_sweep", "epochs",
     lambda bad: models.lr_sweep(models.Linear(3, 2), _tiny_data(), {"SGD": (SGD, {})}, [0.1], bad, 4, [0])),
    ("models.lr_sweep", "batch_size",
     lambda bad: models.lr_sweep(models.Linear(3, 2), _tiny_data(), {"SGD": (SGD, {})}, [0.1], 1, bad, [0])),
    ("models.lr_sweep", "seeds",
     lambda bad: models.lr_sweep(models.Linear(3, 2), _tiny_data(), {"SGD": (SGD, {})}, [0.1], 1, 4, [bad])),
    ("models.lr_sweep", "eval_every",
     lambda bad: models.lr_sweep(models.Linear(3, 2), _tiny_data(), {"SGD": (SGD, {})}, [0.1], 1, 4, [0], bad)),
    ("schedules.step", "step_size", lambda bad: schedules.step(0.1, step_size=bad)),
    ("problems.regression_problem", "n", lambda bad: problems.regression_problem("round", 1.0, bad)),
    ("problems.regression_surface", "n", lambda bad: problems.regression_surface("round", 1.0, bad)),
    ("problems.noise_ball", "batch_size", lambda bad: problems.noise_ball(_least_squares(), 0.1, bad)),
    ("schedules.make_schedule", "steps", lambda bad: schedules.make_schedule("cosine", 0.1, bad)),
    ("schedules.make_schedule", "warmup_steps", lambda bad: schedules.make_schedule("warmup_cosine", 0.1, 10, bad)),
    ("schedules.cosine", "total_steps", lambda bad: schedules.cosine(0.1, total_steps=bad)),
    ("schedules.warmup_cosine", "warmup_steps", lambda bad: schedules.warmup_cosine(0.1, bad, 10)),
    ("schedules.warmup_cosine", "total_steps", lambda bad: schedules.warmup_cosine(0.1, 0, bad)),
    ("schedules.wsd", "warmup_steps", lambda bad: schedules.wsd(0.1, bad, 10, 2)),
    ("schedules.wsd", "total_steps", lambda bad: schedules.wsd(0.1, 0, bad, 2)),
    ("schedules.wsd", "decay_steps", lambda bad: schedules.wsd(0.1, 0, 10, bad)),
    ("schedules.Schedule.__call__", "t", lambda bad: schedules.constant(0.1)(bad)),
    ("real_data.train_test_split", "n_samples",
     lambda bad: real_data.train_test_split(bad, 0.5, np.random.default_rng(0))),
    ("real_data.load_digits", "seed", lambda bad: real_data.load_digits(seed=bad)),
    ("real_data.load_diabetes", "seed", lambda bad: real_data.load_diabetes(seed=bad)),
]

# Not an integer: TypeError. An integer below every count's minimum: ValueError.
BAD = [(2.5, TypeError), ("3", TypeError), (True, TypeError), (np.float64(3.0), TypeError), (-1, ValueError)]


@pytest.mark.parametrize("bad, error", BAD, ids=lambda v: repr(v))
@pytest.mark.parametrize("where, argument, call", COUNTS, ids=[f"{w}({a})" for w, a, _ in COUNTS])
def test_the_same_bad_count_raises_the_same_error_everywhere(where, argument, call, bad, error):
    if where.startswith("real_data.load_"):
        pytest.importorskip("sklearn")  # an optional dependency of optlib (installed by requirements.txt)
    with pytest.raises(error, match=argument):
        call(bad)


def _count_arguments(module: str):
    """``(qualified name, argument)`` for every public function or method of ``module`` taking a count."""
    tree = ast.parse((ROOT / f"{module}.py").read_text())
    found = set()

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef):
                public = not child.name.startswith("_") or child.name in ("__init__", "__call__")
                if public:
                    for arg in child.args.args + child.args.kwonlyargs:
                        if arg.arg in COUNT_NAMES:
                            found.add((f"{prefix}{child.name}", arg.arg))

    visit(tree, f"{module}.")
    return found


def test_every_count_argument_is_covered():
    discovered = set().union(*(_count_arguments(m) for m in MODULES))
    covered = {(where, argument) for where, argument, _ in COUNTS}
    assert discovered - covered == set(), "add these to COUNTS"
    assert covered - discovered == set(), "COUNTS names functions that no longer take these arguments"


def test_validators_name_the_argument_and_keep_the_rule():
    with pytest.raises(TypeError, match="steps must be an integer, got float: 2.5"):
        validation.positive_int("steps", 2.5)
    with pytest.raises(ValueError, match=r"Invalid steps: -1 \(steps must be >= 0\)"):
        validation.non_negative_int("steps", -1)
    assert validation.non_negative_int("steps", np.int64(0)) == 0
    with pytest.raises(ValueError, match="sampling must be one of 'shuffle', 'replace'"):
        validation.one_of("sampling", "bootstrap", ("shuffle", "replace"))
    with pytest.raises(ValueError, match="sampling"):
        validation.one_of("sampling", np.array(["shuffle"]), ("shuffle", "replace"))
    with pytest.raises(ValueError, match="noise"):
        validation.finite_non_negative("noise", float("inf"))
    with pytest.raises(TypeError, match="noise"):
        validation.finite_non_negative("noise", "0.1")
    with pytest.raises(ValueError, match="scale"):
        validation.finite_positive("scale", 0.0)
    with pytest.raises(ValueError, match="threshold"):
        validation.real_number("threshold", float("nan"))
    assert validation.real_number("threshold", float("inf")) == float("inf")
    with pytest.raises(ValueError, match="test_fraction"):
        validation.open_unit_interval("test_fraction", 1.0)
    with pytest.raises(TypeError, match="lr_schedule"):
        validation.function("lr_schedule", 0.1)
    with pytest.raises(TypeError, match="logits"):
        validation.numeric_array("logits", np.array(["a"]))
    with pytest.raises(TypeError, match="rng"):
        validation.generator("rng", np.random.RandomState(0))
    with pytest.raises(ValueError, match=r"Invalid learning rate: -1.0 \(lr must be >= 0\)"):
        validation.non_negative("lr", -1.0, label="learning rate")
    with pytest.raises(ValueError, match=r"Invalid x: 10+ \(x is too large for a float\)"):
        validation.finite_number("x", 10**400)


def test_every_validator_takes_the_name_then_the_value():
    # one calling convention for the whole package: check(name, value, ...), extras after the value
    checks = [getattr(validation, name) for name in validation.__all__]
    assert len(checks) == 17
    for check in checks:
        first, second = list(inspect.signature(check).parameters)[:2]
        assert (first, second) == ("name", "value"), check.__name__
    for hyperparameter in (SGD.lr, SGD.nesterov, optlib.Adam.betas, optlib.Muon.ns_steps, optlib.Muon.adjust_lr_fn):
        first, second = list(inspect.signature(hyperparameter.validate).parameters)[:2]
        assert (first, second) == ("name", "value"), hyperparameter.name


def test_every_module_of_optlib_is_in_the_module_map():
    documented = optlib.__doc__
    optimizers = {name for name, obj in vars(optlib).items()
                  if inspect.isclass(obj) and issubclass(obj, optlib.Optimizer) and obj is not optlib.Optimizer}
    optimizer_modules = {getattr(optlib, name).__module__.rsplit(".", 1)[1] for name in optimizers}
    modules = {path.stem for path in ROOT.glob("*.py") if path.stem != "__init__"} | {"explorers"}
    missing = [m for m in sorted(modules - optimizer_modules) if f"``optlib.{m}``" not in documented]
    assert not missing, f"optlib/__init__.py's module map does not list: {missing}"
    assert "one module per optimizer" in documented
    named = set(re.findall(r"``optlib\.(\w+)``", documented))
    assert named - modules == set(), "the module map names modules that do not exist"
