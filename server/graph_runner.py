"""Run Rasa's prediction graph in plain Python instead of through dask.

Rasa 3.6 executes the model's graph with dask's synchronous scheduler for
every parse and every policy prediction (three times per message here). The
graphs are small and always run on one thread, so dask only adds its task
bookkeeping: about 0.4 ms per run, measured (docs/benchmarks.md). This runner
evaluates the same nodes, in dependency order, each once per run, with the
same results.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    """DaskGraphRunner's nodes and interface, evaluated without dask."""

    _minimal: Dict[Tuple[Text, ...], GraphSchema]

    def run(
        self,
        inputs: Optional[Dict[Text, Any]] = None,
        targets: Optional[List[Text]] = None,
    ) -> Dict[Text, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        cache = self.__dict__.setdefault("_minimal", {})
        schema = cache.get(run_targets)
        if schema is None:
            schema = cache[run_targets] = self._graph_schema.minimal_graph_schema(list(run_targets))
        results: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if name in schema.nodes:
                raise GraphRunError(f"Input '{name}' clashes with a node name.")
            results[name] = (name, value)  # what a node receives from an input

        def evaluate(name: Text) -> Any:
            if name not in results:
                needs = schema.nodes[name].needs.values()
                results[name] = self._instantiated_nodes[name](*(evaluate(n) for n in needs))
            return results[name]

        try:
            return dict(evaluate(t) for t in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
