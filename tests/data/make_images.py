#!/usr/bin/python3
"""Writes the image test data: small JPEGs and PNGs of every kind the decoder
handles, the pixels PIL (or this script's own numpy arrays) says each one
holds, PIL's resize outputs, and the bad files. Run with Debian's python:

    /usr/bin/python3 tests/data/make_images.py

Expected pixels are stored as PAM files (netpbm P7: a short text header, then
raw samples, 16-bit ones big-endian), which the C tests read without any
decoder of ours. Output is deterministic; re-running rewrites the same files.
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")
BAD = os.path.join(HERE, "bad")
TUPLTYPES = {1: "GRAYSCALE", 2: "GRAYSCALE_ALPHA", 3: "RGB", 4: "RGB_ALPHA"}


def write_pam(name, arr):
    """arr: H x W (x C) uint8 or uint16."""
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    maxval = 65535 if a.dtype == np.uint16 else 255
    head = "P7\nWIDTH %d\nHEIGHT %d\nDEPTH %d\nMAXVAL %d\nTUPLTYPE %s\nENDHDR\n" % (w, h, c, maxval, TUPLTYPES[c])
    data = a.astype(">u2").tobytes() if maxval == 65535 else a.astype(np.uint8).tobytes()
    with open(os.path.join(IMAGES, name), "wb") as f:
        f.write(head.encode() + data)


def photo(w, h, seed):
    """A small synthetic photo: smooth gradients, a hard-edged disc and noise,
    so resizing has both flat areas and edges to get right."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / w * 5.0) * np.cos(y / h * 3.0)
    g = 255 * x / max(w - 1, 1)
    b = 255 * y / max(h - 1, 1)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.3) ** 2
    r[disc], g[disc], b[disc] = 250, 30, 60
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 12, (h, w, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png_raw(path, w, h, depth, color_type, rows, interlaced=False, extra=b""):
    """A PNG written by hand, for layouts PIL cannot write (2/4-bit gray,
    16-bit colour, Adam7). rows(x0, y0, dx, dy) returns the packed scanlines
    (without filter bytes) of the sub-image on that grid."""
    if interlaced:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    else:
        passes = [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        if x0 >= w or y0 >= h:
            continue
        for line in rows(x0, y0, dx, dy):
            raw += b"\x00" + line
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlaced else 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(raw, 9))
    with open(path, "wb") as f:
        f.write(data + png_chunk(b"IEND", b""))


def sample_rows(arr, depth):
    """rows() for write_png_raw over an H x W x C array of samples."""
    def rows(x0, y0, dx, dy):
        sub = arr[y0::dy, x0::dx]
        out = []
        for line in sub:
            flat = line.reshape(-1)
            if depth == 16:
                out.append(flat.astype(">u2").tobytes())
            elif depth == 8:
                out.append(flat.astype(np.uint8).tobytes())
            else:
                bits = "".join(format(int(v), "0%db" % depth) for v in flat)
                bits += "0" * (-len(bits) % 8)
                out.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
        return out
    return rows


def jpeg_cases(base):
    pil = Image.fromarray(base)
    saves = {
        "rgb.jpg": (pil, dict(quality=90)),
        "gray.jpg": (pil.convert("L"), dict(quality=90)),
        "progressive.jpg": (pil, dict(quality=85, progressive=True)),
        "cmyk.jpg": (pil.convert("CMYK"), dict(quality=90)),
    }
    for name, (im, kw) in saves.items():
        im.save(os.path.join(IMAGES, name), **kw)
    for name in ("rgb.jpg", "gray.jpg", "progressive.jpg"):
        write_pam(name + ".pam", np.asarray(Image.open(os.path.join(IMAGES, name))))
    write_pam("cmyk.jpg.pam", np.asarray(Image.open(os.path.join(IMAGES, "cmyk.jpg")).convert("RGB")))
    rgb = Image.open(os.path.join(IMAGES, "rgb.jpg"))
    write_pam("rgb.jpg.L.pam", np.asarray(rgb.convert("L")))
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        path = os.path.join(IMAGES, "exif%d.jpg" % o)
        pil.save(path, quality=90, exif=exif.tobytes())
        write_pam("exif%d.jpg.pam" % o, np.asarray(ImageOps.exif_transpose(Image.open(path))))
    # DCT scaling: PIL's draft picks the scale; these requests make it pick 1/8
    # and 1/4, as the C tests do with min_width/min_height.
    im = Image.open(os.path.join(IMAGES, "rgb.jpg"))
    im.draft("RGB", (im.width // 8, im.height // 8))
    assert im.size == (-(-base.shape[1] // 8), -(-base.shape[0] // 8)), im.size
    write_pam("rgb.jpg.scale8.pam", np.asarray(im))
    im = Image.open(os.path.join(IMAGES, "exif6.jpg"))
    im.draft("RGB", (im.width // 4, im.height // 4))
    assert im.size == (-(-base.shape[1] // 4), -(-base.shape[0] // 4)), im.size
    write_pam("exif6.jpg.scale4.pam", np.asarray(ImageOps.exif_transpose(im)))


def png_cases():
    rng = np.random.RandomState(7)
    w, h = 23, 17
    g8 = rng.randint(0, 256, (h, w)).astype(np.uint8)
    rgb8 = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
    a8 = rng.randint(0, 256, (h, w)).astype(np.uint8)
    g16 = rng.randint(0, 65536, (h, w)).astype(np.uint16)
    rgb16 = rng.randint(0, 65536, (h, w, 3)).astype(np.uint16)
    a16 = rng.randint(0, 65536, (h, w)).astype(np.uint16)
    p = lambda name: os.path.join(IMAGES, name)

    # PIL-written files; the expected pixels are the arrays themselves.
    bits1 = (g8 > 127)
    Image.fromarray(bits1).save(p("gray1.png"))
    write_pam("gray1.png.pam", bits1.astype(np.uint8) * 255)
    Image.fromarray(g8).save(p("gray8.png"))
    write_pam("gray8.png.pam", g8)
    Image.fromarray(np.dstack([g8, a8]), "LA").save(p("ga8.png"))
    write_pam("ga8.png.pam", np.dstack([g8, a8]))
    Image.fromarray(rgb8).save(p("rgb8.png"))
    write_pam("rgb8.png.pam", rgb8)
    Image.fromarray(np.dstack([rgb8, a8])).save(p("rgba8.png"))
    write_pam("rgba8.png.pam", np.dstack([rgb8, a8]))

    # Palettes: 16 colours, stored at 4 bits, one entry transparent in the tRNS file.
    pal = rng.randint(0, 256, (16, 3)).astype(np.uint8)
    idx = rng.randint(0, 16, (h, w)).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(pal.reshape(-1).tolist())
    im.save(p("palette4.png"), bits=4)
    write_pam("palette4.png.pam", pal[idx])
    alpha = np.full(16, 255, np.uint8)
    alpha[3], alpha[5] = 0, 128
    im.save(p("palette_trns.png"), transparency=alpha.tobytes())
    write_pam("palette_trns.png.pam", np.dstack([pal[idx], alpha[idx]]))

    # tRNS on gray and RGB: alpha only when asked for (RGBA), as PIL's convert.
    key = int(g8[0, 0])
    Image.fromarray(g8).save(p("gray_trns.png"), transparency=key)
    write_pam("gray_trns.png.rgba.pam", np.asarray(Image.open(p("gray_trns.png")).convert("RGBA")))
    assert (np.asarray(Image.open(p("gray_trns.png")).convert("RGBA"))[:, :, 3] == np.where(g8 == key, 0, 255)).all()
    keyc = tuple(int(v) for v in rgb8[0, 0])
    Image.fromarray(rgb8).save(p("rgb_trns.png"), transparency=keyc)
    write_pam("rgb_trns.png.rgba.pam", np.asarray(Image.open(p("rgb_trns.png")).convert("RGBA")))

    # Hand-written layouts. 16-bit samples: the decoder keeps the high byte.
    g2 = (g8 >> 6).astype(np.uint8)
    write_png_raw(p("gray2.png"), w, h, 2, 0, sample_rows(g2[:, :, None], 2))
    write_pam("gray2.png.pam", g2 * 85)
    g4 = (g8 >> 4).astype(np.uint8)
    write_png_raw(p("gray4.png"), w, h, 4, 0, sample_rows(g4[:, :, None], 4))
    write_pam("gray4.png.pam", g4 * 17)
    write_png_raw(p("gray16.png"), w, h, 16, 0, sample_rows(g16[:, :, None], 16))
    write_pam("gray16.png.pam", g16)
    ga16 = np.dstack([g16, a16])
    write_png_raw(p("ga16.png"), w, h, 16, 4, sample_rows(ga16, 16))
    write_pam("ga16.png.pam", ga16)
    write_png_raw(p("rgb16.png"), w, h, 16, 2, sample_rows(rgb16, 16))
    write_pam("rgb16.png.pam", rgb16)
    rgba16 = np.dstack([rgb16, a16])
    write_png_raw(p("rgba16.png"), w, h, 16, 6, sample_rows(rgba16, 16))
    write_pam("rgba16.png.pam", rgba16)
    write_png_raw(p("interlaced.png"), w, h, 8, 2, sample_rows(rgb8, 8), interlaced=True)
    assert (np.asarray(Image.open(p("interlaced.png"))) == rgb8).all()
    # The high bytes are what PIL shows for 16-bit RGB.
    assert (np.asarray(Image.open(p("rgb16.png"))) == (rgb16 >> 8)).all()

    # One pixel.
    dot = np.array([[[200, 100, 50]]], np.uint8)
    Image.fromarray(dot).save(p("pixel.png"))
    write_pam("pixel.png.pam", dot)
    Image.fromarray(dot).save(p("pixel.jpg"), quality=95)
    write_pam("pixel.jpg.pam", np.asarray(Image.open(p("pixel.jpg"))))

    # eXIf orientation 6 in a PNG.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb8).save(p("exif6.png"), exif=exif.tobytes())
    write_pam("exif6.png.pam", np.asarray(ImageOps.exif_transpose(Image.open(p("exif6.png")))))


def resize_cases(base):
    """PIL's Image.resize outputs for the resize tests (source: photo.png)."""
    Image.fromarray(base).save(os.path.join(IMAGES, "photo.png"))
    write_pam("photo.png.pam", base)
    pil = Image.fromarray(base)
    modes = {"bilinear": Image.BILINEAR, "box": Image.BOX}
    sizes = [(17, 13), (97, 71), (45, 20), (20, 33), (1, 1), (6, 50)]
    for mode, flt in modes.items():
        for w, h in sizes:
            write_pam("photo.%s.%dx%d.pam" % (mode, w, h), np.asarray(pil.resize((w, h), flt)))
    # PIL's JPEG encode then decode, for the encoder tests.
    for q in (95, 10):
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=q)
        write_pam("photo.q%d.jpg.pam" % q, np.asarray(Image.open(buf)))
    gray = pil.convert("L")
    gray.save(os.path.join(IMAGES, "photo_gray.png"))
    write_pam("photo_gray.bilinear.17x13.pam", np.asarray(gray.resize((17, 13), Image.BILINEAR)))
    # A large factor: the filter then spans many source pixels. A JPEG keeps
    # the file small; the reference resizes PIL's decode of it.
    path = os.path.join(IMAGES, "photo400.jpg")
    Image.fromarray(photo(400, 300, 3)).save(path, quality=80)
    big = Image.open(path)
    write_pam("photo400.bilinear.37x23.pam", np.asarray(big.resize((37, 23), Image.BILINEAR)))
    # Normalize reference: (x / 255 - mean) / std in float32, CHW.
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    small = np.asarray(pil.resize((17, 13), Image.BILINEAR)).astype(np.float32)
    chw = ((small / np.float32(255) - mean) / std).transpose(2, 0, 1)
    chw.astype("<f4").tofile(os.path.join(IMAGES, "photo.bilinear.17x13.norm.f32"))
    # The batching pipeline's path on a JPEG: decode at a DCT scale (PIL's
    # draft), resize, normalize. Both sizes make draft (and the C side's
    # min_width/min_height) pick 1/4, i.e. 100x75; 29 wide puts 7 or 8 source
    # pixels under each output pixel.
    for w, h in ((71, 53), (29, 53)):
        im = Image.open(path)
        im.draft("RGB", (w, h))
        assert im.size == (100, 75), im.size
        small = np.asarray(im.resize((w, h), Image.BILINEAR)).astype(np.float32)
        chw = ((small / np.float32(255) - mean) / std).transpose(2, 0, 1)
        chw.astype("<f4").tofile(os.path.join(IMAGES, "photo400.draft.bilinear.%dx%d.norm.f32" % (w, h)))


def bad_cases():
    b = lambda name: os.path.join(BAD, name)
    jpg = open(os.path.join(IMAGES, "rgb.jpg"), "rb").read()
    png = open(os.path.join(IMAGES, "rgb8.png"), "rb").read()
    open(b("truncated.jpg"), "wb").write(jpg[: len(jpg) * 6 // 10])
    open(b("truncated.png"), "wb").write(png[: len(png) * 6 // 10])
    open(b("empty.jpg"), "wb").close()
    open(b("text.jpg"), "wb").write(b"This is a text file with a .jpg name, not an image.\n")
    # A valid PNG header claiming 100000 x 100000 RGB (10 gigapixels).
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    open(b("huge.png"), "wb").write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
                                    png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))
    # rgb.jpg with its SOF0 frame size patched to 60000 x 60000.
    sof = jpg.index(b"\xff\xc0")
    huge = bytearray(jpg)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    open(b("huge.jpg"), "wb").write(bytes(huge))
    # Within the limit (300 x 300) but with the data of 45 x 33: it runs out.
    huge[sof + 5:sof + 9] = struct.pack(">HH", 300, 300)
    open(b("short_data.jpg"), "wb").write(bytes(huge))
    # A PNG whose image data fails its CRC.
    bad = bytearray(png)
    idat = bad.index(b"IDAT")
    bad[idat + 8] ^= 0xFF
    open(b("bad_crc.png"), "wb").write(bytes(bad))


def main():
    os.makedirs(IMAGES, exist_ok=True)
    os.makedirs(BAD, exist_ok=True)
    base = photo(45, 33, 1)
    jpeg_cases(base)
    png_cases()
    resize_cases(base)
    bad_cases()


if __name__ == "__main__":
    main()
