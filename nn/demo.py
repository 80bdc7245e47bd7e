"""The main demo (``bash run.sh demo``, or ``python -m nn.demo --help``).

1. The 2-2-1 worked example of the lab report, built from Values, beside the
   hand-worked table; the same net built with ``nn.MLP.from_hand_table`` gives
   the same gradients, on the Value engine and on the Tensor engine.
2. Its computation graph, and the 2-16-16-1 graph collapsed by layer, drawn
   from the Value engine (one node per weight and activation).
3. The seed report's network, 2-16-16-1 (ReLU, sigmoid, sigmoid output;
   N(0, 1) init; MSE; SGD with lr 1.0, full batch), trained with the Tensor
   engine on the XOR set (the reports' 100,000 epochs) and on the linear set:
   loss log, predictions, accuracy, and the loss curves and decision
   boundaries as PNGs in ``--out``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autograd.worked_example import hand_table, two_two_one

from . import data
from .cli import OneLineErrorParser, _count_int, _positive_int, _prepare_out
from .layers import MLP
from .losses import MSELoss
from .optim import SGD
from .train import accuracy, fit, predict, print_predictions


def print_worked_example() -> None:
    """The 2-2-1 table: hand values, the engine's, their difference; then the same gradients from ``nn``."""
    example = two_two_one()
    example.loss.backward()
    engine = example.values()
    hand = hand_table()
    print("The 2-2-1 worked example (seed report 004, section 6): hand vs engine")
    print(f"{'entry':22s} {'hand':>9s} {'engine':>12s} {'difference':>11s}")
    for name, value in hand.items():
        print(f"{name:22s} {value:9.4f} {engine[name]:12.8f} {engine[name] - value:+11.6f}")

    model = MLP.from_hand_table()
    x, y = [0.5, -1.5], [1.0]
    loss = MSELoss(reduction="half_sum")([model(x)], y)
    loss.backward()
    worst = max(abs(p.grad - example.parameters[name].grad) for name, p in model.named_parameters())
    print(f"nn.MLP.from_hand_table(): C = {loss.data:.8f}, its 9 gradients differ from the graph above by at most "
          f"{worst:.1e}")

    batched = MLP.from_hand_table(engine="tensor")
    loss = MSELoss(reduction="half_sum")(batched(x), y)
    loss.backward()
    # grad_dict() has the layout of state_dict() on both engines: W[l][j, k] holds the gradient of w{j}{k}[l]
    worst = max(np.max(np.abs(g - model.grad_dict()[key])) for key, g in batched.grad_dict().items())
    print(f"nn.MLP.from_hand_table(engine=\"tensor\"): C = {loss.item():.8f}, W[1], b[1], W[2], b[2] hold the same "
          f"gradients to {worst:.1e}")


def draw_computation_graph(out: Path) -> list[Path]:
    """Render the 2-2-1 graph (edge labels: local derivative and contribution) and a
    2-16-16-1 graph for one sample collapsed by layer into ``out``; return the files written.

    Without Graphviz's ``dot`` the DOT sources are written instead, with the install hint printed.
    """
    import autograd

    example = two_two_one()
    example.loss.backward()
    model = MLP(2, [16, 16], 1, activations=["relu", "sigmoid", "sigmoid"], init="normal", seed=1)
    loss = MSELoss()([model([1.0, 0.0])], [1.0])
    loss.backward()
    drawings = {"graph_2-2-1": autograd.draw(example.loss, edge_labels=True),
                "graph_2-16-16-1_by_layer": autograd.draw(loss, collapse="layer")}
    files = []
    for name, drawing in drawings.items():
        try:
            files.append(Path(drawing.render(out / name, format="png", cleanup=True)))
        except autograd.GraphvizNotFoundError as error:
            print(f"{error}\n(writing the DOT source {name}.dot instead)")
            path = out / f"{name}.dot"
            path.write_text(drawing.source)
            files.append(path)
    return files


def train_on(name: str, epochs: int, seed: int, out: Path, show_predictions: bool) -> dict:
    """Train the seed report's 2-16-16-1 net on data set ``name``; write its pictures; return the figures."""
    from . import plot

    X, y = data.load(name)
    model = MLP(2, [16, 16], 1, activations=["relu", "sigmoid", "sigmoid"], init="normal", seed=seed,
                engine="tensor")
    print(f"\n== {name}: {len(X)} points, {model.sizes[0]}-16-16-1 (ReLU, sigmoid, sigmoid), N(0, 1) init, "
          f"seed {seed}, MSE, SGD lr 1.0, full batch, {epochs} epochs on the Tensor engine")
    history = fit(model, X, y, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=1.0), epochs=epochs,
                  log_every=max(1, epochs // 5))
    if show_predictions:
        acc = print_predictions(model, X, y)
    else:
        acc = accuracy(predict(model, X), y)
        print(f"Accuracy: {round(acc * len(y))}/{len(y)} = {100 * acc:.2f}%")
    files = [out / f"loss_{name}.png", out / f"decision_boundary_{name}.png"]
    plot.plot_loss({f"{name} (SGD lr 1.0)": history}, path=files[0], title=f"Training loss: {name}")
    plot.plot_decision_boundary(model, X, y, path=files[1], title=f"2-16-16-1 on {name} after {epochs} epochs")
    return {"data": name, "epochs": history.epochs, "loss": history.final_loss, "accuracy": acc,
            "seconds": history.wall_time, "files": files}


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Run the demo; returns one summary dict per data set."""
    parser = OneLineErrorParser(prog="python -m nn.demo", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="folder for the pictures")
    parser.add_argument("--xor-epochs", type=_positive_int, default=100_000,
                        help="epochs on the 21 XOR points (the reports' count)")
    parser.add_argument("--linear-epochs", type=_positive_int, default=50_000,
                        help="epochs on the 100 linear points (the reports ran 100,000; 100%% is reached in a few "
                             "hundred)")
    parser.add_argument("--seed", type=_count_int, default=1, help="seed of the N(0, 1) initial weights")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    _prepare_out(parser, args.out)

    print_worked_example()
    graph_files = draw_computation_graph(args.out)

    results = [train_on("xor", args.xor_epochs, args.seed, args.out, show_predictions=True),
               train_on("linear", args.linear_epochs, args.seed, args.out, show_predictions=False)]

    print("\n== Summary (Tensor engine)")
    print(f"{'data':8s} {'epochs':>7s} {'final loss':>11s} {'accuracy':>9s} {'train time':>11s} {'per epoch':>10s}")
    for r in results:
        print(f"{r['data']:8s} {r['epochs']:7d} {r['loss']:11.6f} {100 * r['accuracy']:8.2f}% {r['seconds']:10.1f}s "
              f"{1e6 * r['seconds'] / r['epochs']:7.0f} µs")
    print(f"Pictures in {args.out.resolve()}:")
    for path in graph_files + [f for r in results for f in r["files"]]:
        print(f"  {path.name}")
    print(f"Demo finished in {time.perf_counter() - start:.1f} s")
    return results


if __name__ == "__main__":
    main()
