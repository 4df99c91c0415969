"""Evidence for visual entailment and grounding, from the shared image analysis.

text_match.py finds an entity's name in OCR text; lexicon.py maps entity words to COCO
classes; people.py finds the prominent people and decides which named person is which
(only on evidence: a name tag, a positional caption cue, or one name and one person);
analysers.py holds the analysers that the judge and the grounder share.
"""
