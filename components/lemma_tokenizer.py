"""Rasa tokenizer on the blank spaCy pipeline: tokens carry lemmas.

With `use_lemma: true` (the CountVectorsFeaturizer default) the word features
become lemmas, so "swollen", "swelling" and "swells" share one feature.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from components.lemma_pipeline import analyse
from components.lexicon_matcher import title_suffix_start

# Other names of the treatment, as clinic pages use them. The training data
# mostly says "microneedling", so each is read as that one word: "who should
# not get collagen induction therapy?" is "who should not get microneedling?".
TREATMENT_NAMES: Tuple[Tuple[str, ...], ...] = (
    ("percutaneous", "collagen", "induction", "therapy"),
    ("percutaneous", "collagen", "induction"),
    ("collagen", "induction", "therapy"),
    ("collagen", "induction", "treatment"),
    ("collagen", "induction"),
    ("skin", "needling"),
    ("micro", "needling"),
)
TREATMENT = "microneedling"


def merge_treatment_names(tokens: Sequence[Token], text: str) -> List[Token]:
    """Tokens with every other name of the treatment merged into one token
    whose lemma is "microneedling" (its text stays what the patient wrote).
    Left as they are in a message that also says "microneedling": "is skin
    needling the same as microneedling?" asks about the names."""
    if any(t.text.lower().startswith("microneedl") for t in tokens):
        return list(tokens)
    out: List[Token] = []
    i = 0
    while i < len(tokens):
        for name in TREATMENT_NAMES:  # longest first
            window = tokens[i : i + len(name)]
            if len(window) == len(name) and all(t.text.lower() == w for t, w in zip(window, name, strict=True)):
                start, end = window[0].start, window[-1].end
                out.append(Token(text[start:end], start, lemma=TREATMENT))
                i += len(name)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


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
        # "What is skin needling? | Melbourne Skin Clinic": the site's name in
        # a page title says nothing about the question
        suffix = title_suffix_start(text)
        words = [t for t in words if t.idx < suffix] or words
        tokens = merge_treatment_names(
            [Token(text[t.idx : t.idx + len(t.text)], t.idx, lemma=t.lemma_) for t in words], text
        )
        if not tokens and text.strip():
            tokens = [Token(text, 0, lemma=text)]
        return self._apply_token_pattern(tokens)
