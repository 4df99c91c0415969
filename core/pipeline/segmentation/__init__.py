"""Segmentation stage: box -> mask with SAM-family models (RiVEG step 5).

sam.py registers the backends; predictor.py runs a model (encode once, decode all boxes);
build_sam.py assembles MobileSAM / SAM ViT-B/L/H; tiny_vit.py is MobileSAM's image encoder;
transforms.py the input geometry; sam_modeling.py imports segment-anything's model parts
without its torchvision-dependent package `__init__`.
"""
