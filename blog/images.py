"""Uploaded images: checked by their content and re-encoded, never stored as sent.

docs/SECURITY.md, "Uploaded images". Pillow decides what a file is (its name and
declared type are ignored), only the four web formats are tried (no Ghostscript, no
SVG), the pixel count is bounded before anything is decoded, and the image is written
again from its pixels, so EXIF (GPS included), XMP and comments are left behind.
"""

from __future__ import annotations

import dataclasses
import io
import warnings

from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from .mediastore import FILE_MAX
from .mediastore import TOO_LARGE

MAX_PIXELS = 25_000_000  # of one frame: a 24-megapixel camera's photo (6000 × 4000)
# All frames of an animation together: re-encoding a frame costs time and memory
MAX_FRAME_PIXELS = 10_000_000
# format: (file extension, content type)
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"),
           "GIF": ("gif", "image/gif"), "WEBP": ("webp", "image/webp")}
CONTENT_TYPES = dict(FORMATS.values())
KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "background")
# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; we refuse both.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

__all__ = ["FILE_MAX", "TOO_LARGE", "Encoded", "Refused", "reencode"]
NOT_AN_IMAGE = "This file is not a PNG, JPEG, GIF or WebP image (or it is damaged)."
TOO_MANY_PIXELS = (f"This image has too many pixels: at most {MAX_PIXELS // 1_000_000} "
                   f"megapixels (and an animation {MAX_FRAME_PIXELS // 1_000_000} "
                   "in all its frames).")


class Refused(ValueError):
    """The upload is not an image we keep; `status` and `message` say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclasses.dataclass(frozen=True)
class Encoded:
    """An image as the blog stores it."""

    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def reencode(data: bytes) -> Encoded:
    """The image in `data`, written again by Pillow; `Refused` if it is not one."""
    if len(data) > FILE_MAX:
        raise Refused(413, TOO_LARGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                return encode(image)
    except Refused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise Refused(413, TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            IndexError, TypeError):
        raise Refused(400, NOT_AN_IMAGE) from None


def encode(image: Image.Image) -> Encoded:
    """Write `image` (just opened, verified) afresh in its own format."""
    kind = image.format or ""
    extension, content_type = FORMATS[kind]
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and frames * image.width * image.height > MAX_FRAME_PIXELS:
        raise Refused(413, TOO_MANY_PIXELS)
    out, size = io.BytesIO(), image.size
    # Only these survive: everything else in `info` (exif, xmp, comment, text) is left.
    kept = {k: image.info[k] for k in KEPT_INFO if k in image.info}
    if frames > 1:  # an animated GIF or WebP: every frame, none of the metadata
        image.info = kept
        image.save(out, kind, save_all=True, exif=b"", xmp=b"", comment=b"")
    else:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # upright without EXIF; no copy
        clean = image
        if kind == "JPEG" and clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.info = kept
        options = {"quality": 85} if kind in ("JPEG", "WEBP") else {}
        clean.save(out, kind, **options)
        size = clean.size
    return Encoded(out.getvalue(), extension, content_type, *size)
