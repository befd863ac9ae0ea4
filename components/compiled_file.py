"""Base for NLU components compiled from a project file at training time.

The lexicon (knowledge/facts.yml) and the red-flag rules
(knowledge/red_flags.yml) are turned into JSON when the model is trained and
stored in it, so a trained model is self-contained; `make run` retrains when
those files change (scripts/model-inputs.sh).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, TypeVar

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

C = TypeVar("C", bound="CompiledFileComponent")


class CompiledFileComponent(GraphComponent):
    file_name = "compiled.json"  # inside the model

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        compiled: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.compiled = compiled
        if compiled is not None:
            self.prepare(compiled)

    def compile(self) -> Dict[str, Any]:
        """Read the project file named in the config; return JSON-serialisable data."""
        raise NotImplementedError

    def prepare(self, compiled: Dict[str, Any]) -> None:
        """Build whatever `process` needs from the compiled data."""

    @classmethod
    def create(
        cls: type[C],
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.compiled = self.compile()
        self.prepare(self.compiled)
        with self._model_storage.write_to(self._resource) as directory:
            rasa.shared.utils.io.dump_obj_as_json_to_file(directory / self.file_name, self.compiled)
        return self._resource

    @classmethod
    def load(
        cls: type[C],
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> C:
        with model_storage.read_from(resource) as directory:
            compiled = rasa.shared.utils.io.read_json_file(directory / cls.file_name)
        return cls(config, model_storage, resource, compiled)
