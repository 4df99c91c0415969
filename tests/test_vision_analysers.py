"""The image analysers with their real weights on real photos: NanoDet-m, BlazeFace, PP-OCRv6.

Gold boxes were drawn by hand on the demo photos (resources/demo/images, see IMAGES.md) and
checked by drawing them on the image.
"""

from __future__ import annotations

import shutil
import socket

import pytest
from click.testing import CliRunner
from PIL import Image

from groundlens.cli.model_commands import models_group
from groundlens.core.config import RESOURCES_DIR, AppPaths
from groundlens.core.modelstore import get, verify
from groundlens.core.modelstore.status import sha256_file
from groundlens.core.pipeline.box_ops import iou
from groundlens.core.pipeline.registry import UnknownBackendError
from groundlens.core.pipeline.vision.blazeface import BlazeFaceDetector
from groundlens.core.pipeline.vision.nanodet import NanoDetDetector
from groundlens.core.pipeline.vision.onnx_model import ModelFileError
from groundlens.core.pipeline.vision.rapidocr_reader import RapidOcrReader
from groundlens.core.pipeline.vision.registry import available_analysers, shared_analyser

pytestmark = pytest.mark.slow

IMAGES = RESOURCES_DIR / "demo" / "images"
DETECTORS = RESOURCES_DIR / "models" / "detectors"
ASTRONAUT_PERSON = (15.0, 10.0, 365.0, 512.0)  # Eileen Collins down to the frame's bottom edge
ASTRONAUT_FACE = (178.0, 78.0, 272.0, 176.0)  # brow to chin, ear to ear
HOPPER_NAME_TAG = (108.0, 490.0, 162.0, 510.0)  # the words "COMO HOPPER" on the plate on her uniform
CATALOGUED_FILES = ("nanodet_m", "blazeface_short_range", "blazeface_full_range")


def photo(name: str) -> Image.Image:
    return Image.open(IMAGES / name)


def inside(point: tuple[float, float], box: tuple[float, float, float, float], margin: float = 0.0) -> bool:
    return box[0] - margin <= point[0] <= box[2] + margin and box[1] - margin <= point[1] <= box[3] + margin


@pytest.fixture(scope="module")
def nanodet() -> NanoDetDetector:
    return shared_analyser("nanodet")


@pytest.fixture(scope="module")
def blazeface() -> BlazeFaceDetector:
    return shared_analyser("blazeface")


def test_converted_model_files_match_their_recorded_sha256():
    recorded = dict(reversed(line.split("  ")) for line in (DETECTORS / "SHA256SUMS").read_text().splitlines())
    assert set(recorded) == {f"{name}.onnx" for name in CATALOGUED_FILES}
    for name in CATALOGUED_FILES:
        entry = get(name)
        file = DETECTORS / f"{name}.onnx"
        assert sha256_file(file) == recorded[file.name] == entry.sha256
        assert file.stat().st_size == entry.size_bytes
    notice = (DETECTORS / "NOTICE").read_text()
    assert "Apache License, Version 2.0" in notice and "RangiLyu/nanodet" in notice and "MediaPipe" in notice


def test_catalogue_lists_the_vision_models_as_present_with_source_and_licence(tmp_path):
    paths = AppPaths(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    for name in (*CATALOGUED_FILES, "ppocr_det", "ppocr_rec", "ppocr_cls"):
        assert verify(get(name), paths).present, name
    listed = CliRunner().invoke(models_group, ["list"], obj=paths, env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if "nanodet_m" in row)
    for text in ("vision", "nanodet", "yes", "resources/models/detectors/nanodet_m.onnx", "15.2 MB", "Apache-2.0"):
        assert text in line
    line = next(row for row in listed.output.splitlines() if "ppocr_rec" in row)
    assert "rapidocr==3.10.0" in line and "yes" in line and "21.2 MB" in line


def test_nanodet_boxes_the_one_person_on_the_astronaut_photo(nanodet):
    people = [d for d in nanodet.detect(photo("astronaut.jpg")) if d.label == "person"]
    assert len(people) == 1
    assert people[0].score > 0.5
    assert iou(people[0].box, ASTRONAUT_PERSON) >= 0.85, people[0].box


def test_nanodet_names_the_cup_and_the_cat_and_invents_no_person(nanodet):
    cups = [d for d in nanodet.detect(photo("coffee.jpg")) if d.label == "cup"]
    assert any(iou(cup.box, (170.0, 18.0, 420.0, 255.0)) >= 0.7 for cup in cups), cups
    on_cat = nanodet.detect(photo("chelsea.jpg"))
    assert on_cat[0].label == "cat"
    assert "person" not in {d.label for d in on_cat}  # a stretched 416x416 input made the cat a person


def test_blazeface_finds_the_astronauts_face_with_its_keypoints_inside(blazeface):
    faces = blazeface.detect(photo("astronaut.jpg"))
    assert len(faces) == 1
    face = faces[0]
    assert face.label == "face" and face.score > 0.8
    assert iou(face.box, ASTRONAUT_FACE) >= 0.7, face.box
    assert len(face.keypoints) == 6
    right_eye, left_eye, nose, mouth = face.keypoints[:4]
    for point in (right_eye, left_eye, nose, mouth):
        assert inside(point, face.box), (point, face.box)
    assert right_eye[0] < nose[0] < left_eye[0]  # the subject's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]


@pytest.mark.parametrize("ranges", [("short",), ("full",)])
def test_each_face_range_alone_finds_a_portrait_face(ranges):
    faces = BlazeFaceDetector(ranges=ranges).detect(photo("grace_hopper.jpg"))
    assert len(faces) == 1 and inside(faces[0].keypoints[2], (200.0, 180.0, 330.0, 300.0))


def test_no_face_on_a_photo_without_people(blazeface):
    assert blazeface.detect(photo("coffee.jpg")) == []
    assert blazeface.detect(photo("chelsea.jpg")) == []


def test_ocr_reads_the_name_tag_and_never_touches_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    reader = RapidOcrReader()  # loads every model here, with sockets blocked
    lines = reader.read(photo("grace_hopper.jpg"))
    hopper = [line for line in lines if "HOPPER" in line.text.upper()]
    assert len(hopper) == 1, lines
    assert hopper[0].score >= 0.9
    assert iou(hopper[0].box, HOPPER_NAME_TAG) >= 0.7, hopper[0].box
    assert all(any(c.isalnum() for c in line.text) for line in lines)  # no "***" from the flag's stars


def test_truncated_model_file_fails_naming_the_file(tmp_path):
    truncated = tmp_path / "nanodet_m.onnx"
    truncated.write_bytes((DETECTORS / "nanodet_m.onnx").read_bytes()[:100_000])
    with pytest.raises(ModelFileError, match=str(truncated)) as error:
        NanoDetDetector(model_path=truncated)
    assert "truncated" in str(error.value)


def test_altered_model_file_of_the_right_size_fails_naming_the_file(tmp_path):
    altered = tmp_path / "short.onnx"
    shutil.copyfile(DETECTORS / "blazeface_short_range.onnx", altered)
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    altered.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=str(altered)) as error:
        BlazeFaceDetector(ranges=("short",), model_paths={"short": str(altered)})
    assert "sha256" in str(error.value)


def test_missing_model_file_fails_naming_the_file(tmp_path):
    with pytest.raises(ModelFileError, match=str(tmp_path / "absent.onnx")):
        NanoDetDetector(model_path=tmp_path / "absent.onnx")


def test_analysers_are_registered_and_shared_per_settings():
    assert {"nanodet", "blazeface", "rapidocr"} <= set(available_analysers())
    assert shared_analyser("nanodet") is shared_analyser("nanodet")
    assert shared_analyser("nanodet", score_floor=0.5) is not shared_analyser("nanodet")
    with pytest.raises(UnknownBackendError, match="yolo"):
        shared_analyser("yolo")


def test_same_photo_same_answer(nanodet):
    image = photo("camera.jpg")
    first = nanodet.detect(image)
    assert nanodet.detect(image) == first
    assert nanodet.detect(photo("camera.jpg")) == first  # a fresh decode of the same file


@pytest.mark.parametrize("size", [(4000, 10), (10, 3000), (1, 1)])
def test_ocr_of_a_banner_thin_or_tiny_image_reads_nothing_instead_of_failing(size):
    """rapidocr rounds a 4000x10 photo's short side to 0 px and raises ResizeImgError."""
    assert shared_analyser("rapidocr").read(Image.new("RGB", size, "white")) == []
