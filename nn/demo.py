"""The main demo (``bash run.sh demo``).

For now: the 2-2-1 worked example of the lab report, built from Values,
printed beside the hand-worked table.
"""

from __future__ import annotations

from autograd.worked_example import hand_table, two_two_one


def main() -> None:
    example = two_two_one()
    example.loss.backward()
    engine = example.values()
    hand = hand_table()
    print("The 2-2-1 worked example (seed report 004, section 6): hand vs engine")
    print(f"{'entry':22s} {'hand':>9s} {'engine':>12s} {'difference':>11s}")
    for name, value in hand.items():
        print(f"{name:22s} {value:9.4f} {engine[name]:12.8f} {engine[name] - value:+11.6f}")


if __name__ == "__main__":
    main()
