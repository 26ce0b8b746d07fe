"""Image files for upload tests: real ones, hostile ones, and ones full of metadata."""

from __future__ import annotations

import io
import os

from PIL import Image

SECRET = b"SECRET-PLACE"  # in every piece of metadata below: must never be stored
GPS_IFD, MAKE, ORIENTATION = 0x8825, 0x010F, 0x0112


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (64, 48),
                **options) -> bytes:
    """A small red picture in format `kind`."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind, **options)
    return out.getvalue()


def photo_with_location(kind: str = "JPEG") -> bytes:
    """A photo carrying EXIF with GPS coordinates, a camera name, XMP and a comment."""
    exif = Image.Exif()
    exif[MAKE] = SECRET.decode()
    exif[ORIENTATION] = 6  # "rotate 90°": the stored image is turned instead
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    extra = {"comment": SECRET} if kind == "JPEG" else {}
    data = image_bytes(kind, exif=exif.tobytes(), xmp=b"<x:xmpmeta>" + SECRET +
                       b"</x:xmpmeta>", **extra)
    assert SECRET in data
    return data


def noisy_jpeg(target: int = 4 * 1024 * 1024 - 4096) -> bytes:
    """A JPEG of random pixels just under `target` bytes (about 4 MB by default)."""
    side = 1100
    while True:
        noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        noise.save(out, "JPEG", quality=95)
        if len(out.getvalue()) > target:
            break
        side += 100
    while True:  # shrink to fit, a few rows at a time
        out = io.BytesIO()
        noise.crop((0, 0, side, side)).save(out, "JPEG", quality=95)
        if len(out.getvalue()) <= target:
            return out.getvalue()
        side -= 4


def large_photo(size: tuple[int, int] = (6250, 4000)) -> bytes:
    """A smooth JPEG at the pixel limit (25 megapixels) that still fits in 4 MB."""
    ramp = Image.linear_gradient("L").resize(size)
    out = io.BytesIO()
    Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_180), ramp)).save(
        out, "JPEG", quality=80)
    return out.getvalue()


def animation(side: int, frames: int) -> bytes:
    """An animated GIF of `frames` plain frames, `side` pixels square (a tiny file)."""
    pictures = [Image.new("RGB", (side, side), (40 * i, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:],
                     duration=100, loop=0)
    return out.getvalue()


def pixel_bomb(side: int = 20_000) -> bytes:
    """A tiny PNG that would decode to `side`² pixels (400 megapixels by default)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


HOSTILE = {  # name: (file name, declared type, bytes)
    "svg": ("logo.svg", "image/svg+xml",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "svg named png": ("logo.png", "image/png",
                      b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                      b"</script></svg>"),
    "html": ("page.png", "image/png", b"<!doctype html><script>alert(1)</script>"),
    "pdf renamed": ("paper.png", "image/png", b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF"),
    "bmp": ("old.bmp", "image/bmp", b""),  # filled in below: a real, other format
    "truncated png": ("cut.png", "image/png", b""),
    "truncated jpeg": ("cut.jpg", "image/jpeg", b""),
    "empty": ("nothing.png", "image/png", b""),
}
HOSTILE["bmp"] = ("old.bmp", "image/bmp", image_bytes("BMP"))
HOSTILE["truncated png"] = ("cut.png", "image/png", image_bytes("PNG")[:70])
HOSTILE["truncated jpeg"] = ("cut.jpg", "image/jpeg",
                             image_bytes("JPEG", (300, 300))[:400])
