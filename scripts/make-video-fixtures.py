"""Regenerates tests/fixtures/video/: real photographs of people cut out with MediaPipe's own
person mask (so the cut-out edge comes from the reference segmenter, not from ours), and real
texture photographs for moving backgrounds. tests/helpers/video-scene.mjs composes them into
Y4M camera feeds at test time, knowing the exact person alpha of every frame.

Outputs (binary PNM, so Node reads them without a dependency):
- person-<name>.pam: RGB_ALPHA, alpha = MediaPipe's confidence mask, steepened around 0.5.
- texture-<name>.pgm: greyscale texture photographs from scikit-image.

Needs (in a throw-away venv): mediapipe==0.10.21 scikit-image matplotlib pillow, and the
metadata-augmented landscape model written by scripts/segmentation_metadata.py.
Usage: python scripts/make-video-fixtures.py MODEL_DIR
"""
import os
import sys

import matplotlib.cbook
import mediapipe as mp
import numpy as np
import skimage.data
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "video")


def write_pam(path, rgba):
    h, w, _ = rgba.shape
    with open(path, "wb") as f:
        f.write(f"P7\nWIDTH {w}\nHEIGHT {h}\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n".encode())
        f.write(np.ascontiguousarray(rgba, dtype=np.uint8).tobytes())


def write_pgm(path, grey):
    h, w = grey.shape
    with open(path, "wb") as f:
        f.write(f"P5\n{w} {h}\n255\n".encode())
        f.write(np.ascontiguousarray(grey, dtype=np.uint8).tobytes())


def main(model_dir):
    os.makedirs(OUT, exist_ok=True)
    grace = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    people = {"astronaut": skimage.data.astronaut()[:, :, :3], "grace-hopper": grace}
    vision = mp.tasks.vision
    options = vision.ImageSegmenterOptions(
        base_options=mp.tasks.BaseOptions(
            model_asset_path=os.path.join(model_dir, "selfie_segmentation.tflite"),
            delegate=mp.tasks.BaseOptions.Delegate.CPU),
        running_mode=vision.RunningMode.IMAGE, output_confidence_masks=True, output_category_mask=False)
    with vision.ImageSegmenter.create_from_options(options) as seg:
        for name, rgb in people.items():
            rgb = np.ascontiguousarray(rgb)
            mask = seg.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)).confidence_masks[0]
            m = mask.numpy_view().reshape(rgb.shape[:2])
            # A crisp but anti-aliased cut-out: the photo's own background must not ride along.
            alpha = np.clip((m - 0.5) * 6 + 0.5, 0, 1)
            rgba = np.dstack([rgb, np.round(alpha * 255).astype(np.uint8)])
            write_pam(os.path.join(OUT, f"person-{name}.pam"), rgba)
            print(f"{name}: {rgb.shape[1]}x{rgb.shape[0]}, person fraction {(m > 0.5).mean():.3f}")
    for name in ("brick", "grass", "gravel"):
        write_pgm(os.path.join(OUT, f"texture-{name}.pgm"), getattr(skimage.data, name)())


if __name__ == "__main__":
    main(sys.argv[1])
