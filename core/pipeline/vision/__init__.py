"""Image analysers that the evidence-based entailment judge and grounder share.

Each analyser wraps one model shipped in a package (converted to ONNX where needed) and
runs it with onnxruntime; none is a RiVEG stage of its own. They answer "what is in this
photo" (people, faces, COCO objects, text); the judge and the grounder turn those
observations into per-entity verdicts, boxes and evidence.
"""
