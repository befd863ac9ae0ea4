"""Rasa tokenizer on the blank spaCy pipeline: tokens carry lemmas.

With `use_lemma: true` (the CountVectorsFeaturizer default) the word features
become lemmas, so "swollen", "swelling" and "swells" share one feature.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from components.lemma_pipeline import analyse


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class LemmaTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy", "spacy_lookups_data"]

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute)
        doc = [t for t in analyse(text) if not t.is_space]
        # Punctuation carries no meaning here, except in a message made only of
        # it ("???"), which must still get features: like Rasa's own
        # WhitespaceTokenizer, keep it then rather than produce no token.
        words = [t for t in doc if not t.is_punct] or doc
        tokens = [Token(text[t.idx : t.idx + len(t.text)], t.idx, lemma=t.lemma_) for t in words]
        if not tokens and text.strip():
            tokens = [Token(text, 0, lemma=text)]
        return self._apply_token_pattern(tokens)
