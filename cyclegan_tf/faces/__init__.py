"""Faces framed like the training data: detect (BlazeFace), align, crop, paste back.

Example:
    detector = FaceDetector()
    faces = detector.detect(photo)                         # best first
    crop = align_face(photo, faces[0].eyes, size=256)      # like a selfie2anime trainA image
    result = paste_back(photo, translate(crop.pixels), crop.matrix)
"""

from cyclegan_tf.faces.detector import Face, FaceDetector
from cyclegan_tf.faces.framing import (
    TRAINA_FRAMING,
    FaceCrop,
    Framing,
    align_face,
    centre_crop,
    paste_back,
)

__all__ = [
    "TRAINA_FRAMING",
    "Face",
    "FaceCrop",
    "FaceDetector",
    "Framing",
    "align_face",
    "centre_crop",
    "paste_back",
]
