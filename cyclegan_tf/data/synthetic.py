"""The embedded default dataset: a procedural "toy selfie2anime", rendered on the fly from a seed.

Domain A draws simple faces like photos (smooth shading, soft light, skin tones, sensor noise, a
blurred textured background); domain B draws faces like anime (flat posterized colours, dark
outlines, big eyes, a different hair palette, a plain background). Every face is a `Face`; the same
face can be drawn in both styles, which gives a paired test set with ground truth for PSNR/SSIM.
The style mapping is deterministic (photo hair colour i -> anime hair colour i, and so on), so a
perfect translator exists and paired scores mean something.

Example:
    face = sample_face(np.random.default_rng(0))
    photo, anime = render_photo(face, 128), render_anime(face, 128)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

PHOTO_SKIN = np.array(
    [
        (241, 204, 176),
        (224, 172, 138),
        (198, 140, 104),
        (160, 108, 74),
        (112, 74, 52),
        (234, 192, 160),
    ],
    np.float32,
)
PHOTO_HAIR = np.array(
    [(28, 24, 22), (66, 42, 28), (112, 72, 42), (196, 160, 100), (136, 58, 32)], np.float32
)
ANIME_HAIR = np.array(
    [(64, 78, 168), (150, 82, 178), (240, 140, 64), (252, 220, 104), (240, 116, 160)], np.float32
)
PHOTO_EYES = np.array([(60, 40, 28), (72, 96, 120), (70, 98, 60), (40, 30, 26)], np.float32)
ANIME_EYES = np.array([(190, 60, 60), (48, 120, 230), (40, 170, 90), (150, 70, 200)], np.float32)
PHOTO_BACKGROUND = np.array(
    [(112, 120, 128), (150, 132, 108), (88, 110, 92), (160, 150, 150), (96, 96, 120)], np.float32
)
ANIME_BACKGROUND = np.array(
    [(196, 222, 250), (252, 232, 196), (204, 240, 204), (250, 214, 226), (224, 210, 250)],
    np.float32,
)
CLOTHES = np.array(
    [(40, 60, 110), (150, 30, 40), (60, 60, 60), (220, 220, 210), (50, 110, 70)], np.float32
)
OUTLINE = np.array((48, 32, 44), np.float32)
ANIME_LIGHT = np.array((255, 236, 228), np.float32)


@dataclass(frozen=True)
class Face:
    """Everything that makes one face, independent of the style it is drawn in."""

    cx: float
    cy: float
    rx: float
    ry: float
    skin: int
    hair: int
    eyes: int
    background: int
    clothes: int
    bangs: float  # how far down the forehead the fringe comes (fraction of ry)
    hair_volume: float
    eye_dx: float
    eye_dy: float
    eye_size: float
    mouth_width: float
    light_angle: float
    texture_seed: int


def sample_face(rng: np.random.Generator) -> Face:
    """A random face; all positions are in [-1, 1] image coordinates."""
    return Face(
        cx=rng.uniform(-0.08, 0.08),
        cy=rng.uniform(-0.02, 0.1),
        rx=rng.uniform(0.34, 0.42),
        ry=rng.uniform(0.44, 0.52),
        skin=int(rng.integers(len(PHOTO_SKIN))),
        hair=int(rng.integers(len(PHOTO_HAIR))),
        eyes=int(rng.integers(len(PHOTO_EYES))),
        background=int(rng.integers(len(PHOTO_BACKGROUND))),
        clothes=int(rng.integers(len(CLOTHES))),
        bangs=rng.uniform(0.25, 0.6),
        hair_volume=rng.uniform(1.12, 1.3),
        eye_dx=rng.uniform(0.36, 0.46),
        eye_dy=rng.uniform(0.0, 0.12),
        eye_size=rng.uniform(0.13, 0.17),
        mouth_width=rng.uniform(0.22, 0.36),
        light_angle=rng.uniform(-0.9, 0.9),
        texture_seed=int(rng.integers(2**31)),
    )


def face_for(seed: int, stream: int, index: int) -> Face:
    """The face number `index` of stream `stream` (train A, train B, test) for `seed`."""
    return sample_face(np.random.default_rng([seed, stream, index]))


class _Canvas:
    """Coordinates and region masks of one face at one size."""

    def __init__(self, face: Face, size: int, eye_scale: float):
        coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
        self.u, self.v = np.meshgrid(coords, coords)
        f = self.face = face
        self.size = size
        self.face_mask = self.ellipse(f.cx, f.cy, f.rx, f.ry)
        hair_cy = f.cy - 0.12 * f.ry
        self.hair_back = self.ellipse(f.cx, hair_cy, f.rx * f.hair_volume, f.ry * 1.08)
        fringe_edge = f.cy - f.ry * (1 - f.bangs) + 0.05 * np.sin((self.u - f.cx) * 18)
        self.bangs = self.hair_back & (self.v < fringe_edge)
        self.neck = (
            (np.abs(self.u - f.cx) < f.rx * 0.45) & (self.v > f.cy) & (self.v < f.cy + f.ry * 1.4)
        )
        self.body = self.ellipse(f.cx, f.cy + f.ry * 1.95, f.rx * 2.3, f.ry * 0.85)
        self.eyes, self.irises, self.highlights = [], [], []
        for side in (-1, 1):
            ex, ey = f.cx + side * f.eye_dx * f.rx, f.cy - f.eye_dy * f.ry
            er = f.eye_size * f.rx
            self.eyes.append(self.ellipse(ex, ey, er * 1.3, er * 0.7 * eye_scale))
            self.irises.append(
                self.ellipse(ex, ey, er * 0.62, er * 0.62 * eye_scale) & self.eyes[-1]
            )
            self.highlights.append(
                self.ellipse(ex - er * 0.25, ey - er * 0.25 * eye_scale, er * 0.22, er * 0.22)
            )
        self.mouth = self.ellipse(f.cx, f.cy + 0.55 * f.ry, f.mouth_width * f.rx, 0.06 * f.ry)
        # Surface normal of the face seen as a half ellipsoid, and a light from the side.
        nx = (self.u - f.cx) / f.rx
        ny = (self.v - f.cy) / f.ry
        nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
        light = np.array([np.sin(f.light_angle), -0.35, np.cos(f.light_angle)], np.float32)
        light /= np.linalg.norm(light)
        self.lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return ((self.u - cx) / rx) ** 2 + ((self.v - cy) / ry) ** 2 <= 1.0


def render_photo(face: Face, size: int) -> np.ndarray:
    """The face as a photo: uint8 array (size, size, 3)."""
    c = _Canvas(face, size, eye_scale=1.0)
    rng = np.random.default_rng(face.texture_seed)
    # Background: coarse colour blotches smoothed up to full size, plus blurred fine texture.
    base = PHOTO_BACKGROUND[face.background]
    coarse = base + rng.normal(0, 20, (4, 4, 1)) + rng.normal(0, 6, (4, 4, 3))
    coarse = np.clip(coarse, 0, 255).astype(np.uint8)
    image = np.asarray(Image.fromarray(coarse).resize((size, size), Image.BICUBIC), np.float32)
    image = image + rng.normal(0, 10, (size, size, 1)).astype(np.float32)
    image = _blur(image, size / 48)
    shade = 0.55 + 0.5 * c.lambert[..., None]
    vertical = 0.8 + 0.2 * (1 - (c.v[..., None] + 1) / 2)
    image[c.body] = (CLOTHES[face.clothes] * vertical)[c.body]
    skin = PHOTO_SKIN[face.skin]
    image[c.neck] = skin * 0.78
    hair = PHOTO_HAIR[face.hair] * (0.75 + 0.45 * vertical)
    image[c.hair_back & ~c.face_mask] = hair[c.hair_back & ~c.face_mask]
    image[c.face_mask] = (skin * shade)[c.face_mask]
    image[c.bangs] = (hair * (0.9 + 0.2 * c.lambert[..., None]))[c.bangs]
    for eye, iris in zip(c.eyes, c.irises, strict=True):
        image[eye & ~c.bangs] = (230, 226, 220)
        image[iris & ~c.bangs] = PHOTO_EYES[face.eyes]
    image[c.mouth] = skin * np.array((0.72, 0.45, 0.45), np.float32)
    image = _blur(image, size / 160)  # soft focus
    image += rng.normal(0, 4, image.shape).astype(np.float32)  # sensor noise
    return np.clip(image, 0, 255).astype(np.uint8)


def render_anime(face: Face, size: int) -> np.ndarray:
    """The same face as an anime drawing: uint8 array (size, size, 3)."""
    c = _Canvas(face, size, eye_scale=1.5)
    image = np.empty((size, size, 3), np.float32)
    labels = np.zeros((size, size), np.int32)
    image[:] = ANIME_BACKGROUND[face.background]

    def paint(mask, colour, label):
        image[mask] = colour
        labels[mask] = label

    paint(c.body, CLOTHES[face.clothes] * 1.1, 1)
    skin = 0.6 * PHOTO_SKIN[face.skin] + 0.4 * ANIME_LIGHT
    paint(c.neck, skin * 0.82, 2)
    hair = ANIME_HAIR[face.hair]
    paint(c.hair_back & ~c.face_mask, hair * 0.85, 3)
    paint(c.face_mask, skin, 4)
    image[c.face_mask & (c.lambert < 0.45)] = skin * 0.86  # one posterized shadow tone
    paint(c.bangs, hair, 5)
    band = c.bangs & (np.abs(c.v - (c.face.cy - c.face.ry * 0.95)) < 0.03)
    image[band] = np.minimum(hair * 1.25 + 30, 255)  # the hair's highlight band
    for eye, iris, highlight in zip(c.eyes, c.irises, c.highlights, strict=True):
        paint(eye & ~c.bangs, (255, 255, 255), 6)
        paint(iris & ~c.bangs, ANIME_EYES[face.eyes], 7)
        image[highlight & iris & ~c.bangs] = (255, 255, 255)
    paint(c.mouth, OUTLINE, 8)
    image[_edges(labels, max(1, size // 96))] = OUTLINE
    return np.clip(image, 0, 255).astype(np.uint8)


def render_pair(face: Face, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The same face as a photo and as an anime drawing: the ground truth of translation."""
    return render_photo(face, size), render_anime(face, size)


def _edges(labels: np.ndarray, width: int) -> np.ndarray:
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    for _ in range(width - 1):  # thicken
        edge[:, 1:] |= edge[:, :-1]
        edge[1:, :] |= edge[:-1, :]
    return edge


def _blur(image: np.ndarray, radius: float) -> np.ndarray:
    if radius < 0.3:
        return image
    pil = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    return np.asarray(pil.filter(ImageFilter.GaussianBlur(radius)), np.float32)
