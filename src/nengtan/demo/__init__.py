"""``nengtan demo``: the whole pipeline on the example park, live, ending with a reconciliation
verdict against the simulator's ground truth; also the run harness the fault suite uses."""
